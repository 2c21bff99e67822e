import { ERASURE_ID_PATTERN } from './erasure/rules';

/** The logging calls our code makes; Powertools' Logger (structured JSON) satisfies it. */
export interface LogSink {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** The function's logger (Powertools' Logger), whose lines `tagged` sinks add their keys to. */
export type RootLogger = LogSink;

/**
 * The root logger with `keys` on every line (the erasure id): each line is the root's, with the keys
 * as attributes. Not a Powertools child logger per request: building one reads its settings from
 * the environment again, which the warm benchmark's profile showed on every request.
 */
export function tagged(root: LogSink, keys: Record<string, string>): LogSink {
  return {
    debug: (message, ...attributes) => root.debug(message, keys, ...attributes),
    info: (message, ...attributes) => root.info(message, keys, ...attributes),
    warn: (message, ...attributes) => root.warn(message, keys, ...attributes),
    error: (message, ...attributes) => root.error(message, keys, ...attributes),
  };
}

/** Lines tagged with the erasure id, or the root logger when the id is absent or malformed (it may be unverified). */
export function loggerForErasure(root: RootLogger, named: unknown): LogSink {
  return typeof named === 'string' && ERASURE_ID_PATTERN.test(named) ? tagged(root, { erasureId: named }) : root;
}
