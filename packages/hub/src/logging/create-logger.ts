import {pino, type Logger} from 'pino';
import {prettyDestination} from './pretty-log.js';

/** The level names `LOG_LEVEL` accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Options of {@link createLogger}; each falls back to an environment variable, then a default. */
export interface LoggerOptions {
  /** Minimum level; `LOG_LEVEL`, else `info`. */
  readonly level?: string;
  /** `pretty` (one readable line per record) or `json` (one JSON object per line); `LOG_FORMAT`, else pretty on a terminal and JSON otherwise. */
  readonly format?: 'pretty' | 'json';
  /** Where lines go; standard output by default. */
  readonly destination?: NodeJS.WritableStream & {isTTY?: boolean};
}

/**
 * The kit's logger: readable one-line records when writing to a terminal, JSON lines otherwise
 * (for log collectors), at `LOG_LEVEL`. An unknown level or format is refused with the accepted
 * values rather than ignored.
 *
 * ```ts
 * const logger = createLogger(); // LOG_LEVEL=debug node server.mjs shows every event published
 * new SwitchboardServer({registry, logger});
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env['LOG_LEVEL'] || 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
  const destination = options.destination ?? process.stdout;
  const format = options.format ?? (process.env['LOG_FORMAT'] || (destination.isTTY === true ? 'pretty' : 'json'));
  if (format !== 'pretty' && format !== 'json') throw new Error(`LOG_FORMAT must be pretty or json (got "${format}")`);
  if (format === 'json') return destination === process.stdout ? pino({level}) : pino({level}, destination);
  return pino({level}, prettyDestination(destination, {colors: destination.isTTY === true && !process.env['NO_COLOR']}));
}
