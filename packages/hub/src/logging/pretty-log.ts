/** Options of {@link formatLogLine}. */
export interface PrettyLogOptions {
  /** ANSI colours for the level (terminals); off by default. */
  readonly colors?: boolean;
}

const LEVELS: Record<number, {name: string; color: string}> = {
  10: {name: 'TRACE', color: '90'},
  20: {name: 'DEBUG', color: '36'},
  30: {name: 'INFO', color: '32'},
  40: {name: 'WARN', color: '33'},
  50: {name: 'ERROR', color: '31'},
  60: {name: 'FATAL', color: '35'},
};

/** pino's own fields, shown in the line's fixed parts or not at all. */
const FIXED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component', 'err', 'v']);

const value = (v: unknown): string => {
  if (typeof v === 'string') return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
};

const clock = (time: unknown): string => {
  const date = new Date(typeof time === 'number' || typeof time === 'string' ? time : Date.now());
  return Number.isNaN(date.getTime()) ? '--:--:--.---' : date.toISOString().slice(11, 23);
};

/**
 * One pino JSON record as one readable line: `time LEVEL [component] message key=value …`, then an
 * error's stack on the lines below, indented. A line that is not JSON is returned as it is.
 *
 * ```ts
 * formatLogLine('{"level":30,"time":0,"component":"hub","msg":"listening","port":8080}');
 * // '00:00:00.000 INFO  [hub] listening port=8080'
 * ```
 */
export function formatLogLine(line: string | Record<string, unknown>, options: PrettyLogOptions = {}): string {
  let record: Record<string, unknown>;
  if (typeof line === 'string') {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line.trimEnd();
      record = parsed as Record<string, unknown>;
    } catch {
      return line.trimEnd();
    }
  } else record = line;
  const level = LEVELS[record['level'] as number] ?? {name: String(record['level'] ?? 'LOG').toUpperCase(), color: '0'};
  const label = level.name.padEnd(5);
  const parts = [clock(record['time']), options.colors ? `\u001b[${level.color}m${label}\u001b[0m` : label];
  if (typeof record['component'] === 'string') parts.push(`[${record['component']}]`);
  if (record['msg'] !== undefined) parts.push(String(record['msg']));
  for (const [key, v] of Object.entries(record)) if (!FIXED.has(key) && v !== undefined) parts.push(`${key}=${value(v)}`);
  let text = parts.join(' ');
  const err = record['err'] as {message?: unknown; stack?: unknown} | undefined;
  if (err !== undefined && err !== null) {
    const detail = typeof err.stack === 'string' ? err.stack : typeof err.message === 'string' ? err.message : JSON.stringify(err);
    text += `\n${detail.replace(/^/gm, '    ')}`;
  }
  return text;
}

/**
 * A pino destination that writes each record through {@link formatLogLine} to `out`, synchronously
 * (a log line written before a crash is not lost).
 */
export function prettyDestination(out: NodeJS.WritableStream, options: PrettyLogOptions = {}): {write(line: string): boolean} {
  return {write: (line: string) => out.write(`${formatLogLine(line, options)}\n`)};
}
