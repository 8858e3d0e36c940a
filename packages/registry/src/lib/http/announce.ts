import {AppDeployed, AppRolledBack, createEnvelope, DEPLOYS_TOPIC} from '@switchboard/contracts';
import type {EventService} from '@switchboard/hub';
import type {DeployRegistry} from '../deploy-registry.js';
import type {Change, RegistryState} from '../records.js';

/** The envelope an open page gets for a change of an app, or undefined for changes pages need not hear of. */
export function deployEvent(change: Change, state: RegistryState) {
  const entry = state.apps[change.name];
  if (entry === undefined || entry.kind !== 'app') return undefined;
  const remountable = entry.versions[change.version]?.remountable ?? false;
  const revision = String(state.revision);
  const source = 'service:registry';
  if (change.action === 'rollback') {
    return createEnvelope(AppRolledBack, {name: change.name, version: change.version, from: change.from ?? '', revision, remountable}, {source});
  }
  return createEnvelope(AppDeployed, {name: change.name, version: change.version, previous: change.from, channel: change.channel, revision, remountable}, {source});
}

/**
 * Announces every change of `registry` on the {@link DEPLOYS_TOPIC} topic (`app.deployed`,
 * `app.rolledback`), so open pages learn a new version is live. Registers the two contracts in the
 * server's registry when missing. Declare `app.*` server-owned (`serverOwned`) so no client can
 * forge one. Returns a function that stops it.
 */
export function announceDeploys(registry: DeployRegistry, events: EventService, onError: (error: unknown) => void = () => {}): () => void {
  for (const contract of [AppDeployed, AppRolledBack]) if (!events.registry.has(contract.type)) events.registry.register(contract);
  return registry.onChange((change, state) => {
    const envelope = deployEvent(change, state);
    if (envelope === undefined) return;
    events.append(DEPLOYS_TOPIC, envelope).then(
      (result) => {
        if (!result.ok) onError(new Error(`${envelope.type} was refused: ${result.error}`));
      },
      onError,
    );
  });
}
