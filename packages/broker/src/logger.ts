/** Minimal leveled logger: one line per event, to a sink (stderr for the CLI, nothing for tests). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * `text` (the default): `[ISO time] LEVEL message`. `json`: one object per line with the stable
 * fields `time` (ISO 8601, UTC), `level` (debug/info/warn/error), `logger` ("sluice"), `msg`, and
 * the `node_id` of the broker when known — for log shippers.
 */
export type LogFormat = 'text' | 'json';

export function createLogger(sink: ((line: string) => void) | null, minLevel: LogLevel = 'info', format: LogFormat = 'text', fields: { node_id?: number } = {}): Logger {
  const emit = (level: LogLevel, message: string) => {
    if (!sink || ORDER[level] < ORDER[minLevel]) return;
    const time = new Date().toISOString();
    sink(format === 'json' ? JSON.stringify({ time, level, logger: 'sluice', ...fields, msg: message }) : `[${time}] ${level.toUpperCase()} ${message}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

export const silentLogger: Logger = createLogger(null);
