/** Minimal leveled logger: one line per event, to a sink (stderr for the CLI, nothing for tests). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(sink: ((line: string) => void) | null, minLevel: LogLevel = 'info'): Logger {
  const emit = (level: LogLevel, message: string) => {
    if (sink && ORDER[level] >= ORDER[minLevel]) sink(`[${new Date().toISOString()}] ${level.toUpperCase()} ${message}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

export const silentLogger: Logger = createLogger(null);
