/** Decision-log levels, as in the seed (`THOTH_LOG_LEVEL`). */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** Anything with console-like methods. */
export interface SdkLogger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 };

/** Parses a level name case-insensitively; unknown or missing → WARN. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const upper = value?.toUpperCase();
  if (upper === 'WARNING') return 'WARN';
  return upper !== undefined && upper in ORDER ? (upper as LogLevel) : 'WARN';
}

/** A logger that drops messages below `level` and prefixes the rest. */
export function createLevelLogger(target: SdkLogger, level: LogLevel): SdkLogger {
  const enabled = (wanted: LogLevel): boolean => ORDER[wanted] >= ORDER[level];
  const emit = (wanted: LogLevel, method: keyof SdkLogger) => (message: string, data?: unknown) => {
    if (!enabled(wanted)) return;
    if (data === undefined) target[method](`[tollgate] ${message}`);
    else target[method](`[tollgate] ${message}`, data);
  };
  return { debug: emit('DEBUG', 'debug'), info: emit('INFO', 'info'), warn: emit('WARN', 'warn'), error: emit('ERROR', 'error') };
}
