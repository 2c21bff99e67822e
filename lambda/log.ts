import { ERASURE_ID_PATTERN } from './erasure/rules';

/** The logging calls our code makes; Powertools' Logger (structured JSON) satisfies it. */
export interface LogSink {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** A LogSink that can tag the lines of one erasure (Powertools' Logger). */
export type RootLogger = LogSink & { createChild(o: { persistentKeys: Record<string, string> }): LogSink };

/** A child logger tagged with the erasure id, or the root logger when the id is absent or malformed (it may be unverified). */
export function loggerForErasure(root: RootLogger, named: unknown): LogSink {
  return typeof named === 'string' && ERASURE_ID_PATTERN.test(named)
    ? root.createChild({ persistentKeys: { erasureId: named } })
    : root;
}
