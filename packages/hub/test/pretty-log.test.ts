import {Writable} from 'node:stream';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {createLogger, formatLogLine} from '../src/index.js';

/** A destination that keeps what it is given, and says whether it is a terminal. */
function sink(isTTY: boolean): Writable & {isTTY: boolean; text(): string} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & {isTTY: boolean; text(): string};
  stream.isTTY = isTTY;
  stream.text = () => chunks.join('');
  return stream;
}

afterEach(() => vi.unstubAllEnvs());

describe('formatLogLine', () => {
  it('writes time, level, component, message, then the other fields as key=value', () => {
    const line = JSON.stringify({level: 30, time: Date.UTC(2026, 11, 2, 7, 5, 9, 42), pid: 1, hostname: 'h', component: 'events', msg: 'event published', topic: 'orders', offset: '0-12', by: {kind: 'http'}, note: 'two words'});
    expect(formatLogLine(line)).toBe('07:05:09.042 INFO  [events] event published topic=orders offset=0-12 by={"kind":"http"} note="two words"');
  });

  it('puts an error stack under the line, indented, and colours the level only when asked', () => {
    const text = formatLogLine({level: 50, time: 0, msg: 'request failed', err: {message: 'boom', stack: 'Error: boom\n    at x'}}, {colors: true});
    expect(text).toBe('00:00:00.000 \u001b[31mERROR\u001b[0m request failed\n    Error: boom\n        at x');
  });

  it('returns a line that is not a JSON object as it is', () => {
    expect(formatLogLine('plain words\n')).toBe('plain words');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });
});

describe('createLogger', () => {
  it('is readable on a terminal and JSON elsewhere', () => {
    vi.stubEnv('NO_COLOR', '');
    const terminal = sink(true);
    createLogger({destination: terminal}).child({component: 'hub'}).info({port: 8080}, 'listening');
    expect(terminal.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \u001b\[32mINFO \u001b\[0m \[hub\] listening port=8080\n$/);
    const pipe = sink(false);
    createLogger({destination: pipe}).info({port: 8080}, 'listening');
    expect(JSON.parse(pipe.text())).toMatchObject({level: 30, msg: 'listening', port: 8080});
  });

  it('honours LOG_LEVEL and LOG_FORMAT, and refuses values it does not know', () => {
    vi.stubEnv('LOG_LEVEL', 'warn');
    vi.stubEnv('LOG_FORMAT', 'pretty');
    const out = sink(false);
    const logger = createLogger({destination: out});
    logger.info('hidden');
    logger.warn('shown');
    expect(out.text()).toMatch(/^\S+ WARN  shown\n$/);
    vi.stubEnv('LOG_LEVEL', 'loud');
    expect(() => createLogger({destination: out})).toThrow('LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "loud")');
    vi.stubEnv('LOG_LEVEL', '');
    vi.stubEnv('LOG_FORMAT', 'xml');
    expect(() => createLogger({destination: out})).toThrow('LOG_FORMAT must be pretty or json (got "xml")');
  });
});
