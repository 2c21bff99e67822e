import { createHash } from 'node:crypto';
import type { ErasureRecord } from '../erasure/types';

export type CallbackEventType = 'erasure.completed' | 'erasure.failed';

/** The body of a callback, in the payload shape Standard Webhooks recommends: type, when it happened, data. */
export interface CallbackEvent {
  type: CallbackEventType;
  /** When the erasure became terminal (the record's completedAt). */
  timestamp: string;
  /** The record as GET /erasures/{erasureId} answers it. */
  data: ErasureRecord;
}

type TerminalRecord = ErasureRecord & { status: 'completed' | 'failed' };

export const isTerminalRecord = (record: ErasureRecord): record is TerminalRecord => record.status !== 'pending';

/**
 * The id of the event a terminal record announces, sent as `webhook-id` on every attempt so that the
 * receiver can drop repeats. The same terminal state always gives the same id; a redrive that ends
 * the erasure again (a new completedAt) gives a new one.
 */
export function callbackEventIdOf(record: TerminalRecord): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([record.erasureId, record.status, record.completedAt ?? null]), 'utf8')
    .digest('base64url');
  return `evt_${digest.slice(0, 32)}`;
}

export function callbackEventOf(record: TerminalRecord): CallbackEvent {
  return {
    type: record.status === 'completed' ? 'erasure.completed' : 'erasure.failed',
    timestamp: record.completedAt ?? record.receivedAt,
    data: record,
  };
}
