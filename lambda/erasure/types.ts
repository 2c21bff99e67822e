/** The domain's vocabulary; no AWS or HTTP types here. */

export const TERMINAL_OUTCOMES = ['erased', 'already_erased', 'failed'] as const;
export type TerminalOutcome = (typeof TERMINAL_OUTCOMES)[number];
export type Outcome = TerminalOutcome | 'pending';
export type ErasureStatus = 'completed' | 'failed' | 'pending';

export const isTerminal = (outcome: Outcome): outcome is TerminalOutcome => outcome !== 'pending';

/** Proof kept from Verifik's 2xx answer. It is evidence, not a secret. */
export interface Evidence {
  signature?: string;
  dateTime?: string;
  responseId?: string;
  deletedId?: string;
}

/** What the caller asked for, after validation. */
export interface ErasureInput {
  erasureId: string;
  personIds: string[];
  subjectRef?: string;
  reason?: string;
  requestedBy?: string;
  /** API Gateway's request id of the call that recorded it, to match the access log. Not part of "the same request". */
  apiRequestId?: string;
}

/** The request as the audit trail keeps it: no subjectRef, only its keyed hash. */
export interface StoredRequest {
  erasureId: string;
  personIds: string[];
  fingerprint: string;
  receivedAt: string;
  expiresAt: number;
  subjectRefHash?: string;
  reason?: string;
  requestedBy?: string;
  apiRequestId?: string;
  /**
   * The step of the erasure's one durable retry chain that may act: a retry message naming another
   * step (armed by a redelivery, or a duplicate of a step already taken) is dropped.
   */
  retryStep?: string;
}

/** One person's state within one erasure. */
export interface PersonState {
  personId: string;
  outcome: Outcome;
  attempts: number;
  vendorStatus?: number;
  lastError?: string;
  completedAt?: string;
  evidence?: Evidence;
  /** Earliest time the next attempt should be made (Retry-After), when known. */
  retryAfter?: string;
  /** What an auditor should know beside the outcome (e.g. an interrupted earlier attempt). */
  note?: string;
  /** Failed because the retry schedule ran out (a redrive reopens it). */
  exhausted?: boolean;
  /** Internal: an earlier attempt got no clear answer (kept so a later 404 is recorded with a note). */
  uncertain?: boolean;
  /** Internal: epoch ms until which an invocation holds the person (it may be calling Verifik). */
  leaseUntil?: number;
}

/** What callers and auditors see. */
export interface ErasureRecord {
  erasureId: string;
  status: ErasureStatus;
  receivedAt: string;
  completedAt?: string;
  requestedBy?: string;
  reason?: string;
  persons: PersonState[];
}
