/**
 * The demo's deploy registry: on Redis when REDIS_URL is set (every node serves the same
 * composition), else in a file in DATA_DIR (default `.switchboard/` at the repository root). The
 * shell page and /composition.json are composed per request; the build in dist/ is deployed on
 * start and again whenever it changes (a rebuild under the running server).
 */
import {existsSync, readFileSync, unwatchFile, watchFile} from 'node:fs';
import {join} from 'node:path';
import {announceDeploys, DeployRegistry, FileRegistryStore, RedisRegistryStore, registryRoutes, type RegistryAccess, type SeedFile} from '@switchboard/registry';
import type {RedisConnection, SwitchboardServer} from '@switchboard/hub';
import {isShellDeepLink} from './shell-pages';

/** Options of {@link startDeploys}. */
export interface DeploysOptions {
  readonly server: SwitchboardServer;
  readonly staticDir: string;
  readonly dataDir: string;
  /** The Redis engine's connection: the registry shares it (its timeout, its stall state). */
  readonly redis?: RedisConnection;
  readonly environment: string;
  /** Unset: the registry's default (allowed in `local` and `development` only). */
  readonly overridesAllowed?: boolean;
  readonly access: RegistryAccess;
}

/** Mounts the registry on `server`; call the returned `seed` once listening, and `close` at the end. */
export async function startDeploys(options: DeploysOptions): Promise<{registry: DeployRegistry; seed: () => Promise<void>; close: () => Promise<void>}> {
  const {server, staticDir} = options;
  const store = options.redis === undefined ? new FileRegistryStore(options.dataDir) : new RedisRegistryStore({connection: options.redis});
  const registry = new DeployRegistry({
    store,
    environment: options.environment,
    ...(options.overridesAllowed === undefined ? {} : {overridesAllowed: options.overridesAllowed}),
    // Module paths are checked on this very server, over loopback.
    resolveUrl: (url) => (url.startsWith('/') ? `http://127.0.0.1:${server.port}${url}` : url),
  });
  const logger = server.logger.child({component: 'registry'});
  // A damaged registry file stops the start. On Redis it shares the engine's connection, which
  // starts in listen(); Redis may come later (pages get 503 until it answers).
  await registry.open();
  server.addRoutes(registryRoutes({registry, access: options.access, staticDir, shellPage: isShellDeepLink}));
  const stop = announceDeploys(registry, server.events, (error) => logger.warn({err: error}, 'a deploy could not be announced'));
  const seedPath = join(staticDir, 'registry-seed.json');
  const seed = async (): Promise<void> => {
    if (!existsSync(seedPath)) return;
    let file: SeedFile;
    try {
      file = JSON.parse(readFileSync(seedPath, 'utf8')) as SeedFile;
    } catch (error) {
      // Caught mid-write by a running build: the watcher comes back when it is complete.
      logger.warn(`${seedPath} is not readable yet: ${(error as Error).message}`);
      return;
    }
    const {changes, refused} = await registry.seed(file);
    if (changes.length > 0) logger.info(`deployed the build ${file.build}: ${changes.map((c) => `${c.name}@${c.version}`).join(', ')}`);
    for (const r of refused) logger.warn(`the build's ${r}`);
  };
  // A rebuild under the running server deploys itself: the seed file is written last.
  watchFile(seedPath, {interval: 1000}, (now, before) => {
    if (now.mtimeMs !== before.mtimeMs) seed().catch((error: unknown) => logger.error({err: error}, 'deploying the new build failed'));
  });
  return {
    registry,
    seed,
    close: async () => {
      unwatchFile(seedPath);
      stop();
      await registry.close();
    },
  };
}
