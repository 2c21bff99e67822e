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

/** A CRM's subject (its contact), as a caller names it; kept only as the keyed hash of `source:id`. */
export interface SubjectRef {
  source: string;
  id: string;
}

/** An erasure by subject, as the request keeps it: the keyed hash, and the persons linked when it was received. */
export interface StoredSubject {
  source: string;
  hash: string;
  linkedPersonIds: string[];
}

/** What the caller asked for, after validation. */
export interface ErasureInput {
  erasureId: string;
  /** The persons named by id; with `subject`, those linked to it are added when the request is received. */
  personIds: string[];
  subject?: SubjectRef;
  subjectRef?: string;
  reason?: string;
  requestedBy?: string;
  /** Where the terminal outcome is POSTed (lambda/callbacks), already checked against the operator's allowlist. */
  callbackUrl?: string;
  /** API Gateway's request id of the call that recorded it, to match the access log. Not part of "the same request". */
  apiRequestId?: string;
}

/** The request as the audit trail keeps it: no subjectRef, only its keyed hash. */
export interface StoredRequest {
  erasureId: string;
  personIds: string[];
  fingerprint: string;
  receivedAt: string;
  /** GDPR art. 12(3): received + one calendar month (docs/api.md, "The statutory clock"). */
  dueAt: string;
  /** Set once, before `dueAt`, by an extension. */
  extendedDueAt?: string;
  extension?: Extension;
  expiresAt: number;
  subjectRefHash?: string;
  /** An erasure by subject: its hash and the persons resolved from its links (also in `personIds`). */
  subject?: StoredSubject;
  reason?: string;
  requestedBy?: string;
  apiRequestId?: string;
  /**
   * The step of the erasure's one durable retry chain that may act: a retry message naming another
   * step (armed by a redelivery, or a duplicate of a step already taken) is dropped.
   */
  retryStep?: string;
  /**
   * Epoch ms. The invocation that recorded the request calls Verifik for its persons without claiming
   * them first (one write fewer on the critical path): until then nobody else may claim a person that
   * has no item yet, and after it such a person is treated as interrupted (it may have been deleted).
   * Absent when the request was only recorded (a CRM hook: the retry worker erases its persons).
   */
  heldUntil?: number;
  /** Where the terminal outcome is POSTed; written once with the request. */
  callbackUrl?: string;
  /**
   * The callback event last put on the callback queue (`callbackEventIdOf` of the terminal record), so
   * a terminal state seen again (a redelivery, the retry chain) does not enqueue it again.
   */
  callbackEventId?: string;
  /** What the callback delivery function recorded about its attempts. */
  callbackDelivery?: CallbackDelivery;
}

/** The delivery of one callback event, as the delivery function records it (one attribute of the request item). */
export interface CallbackDelivery {
  eventId: string;
  attempts: number;
  deliveredAt?: string;
  /** The receiver's HTTP status on the last attempt (absent when it gave none). */
  lastStatus?: number;
  /** Why the last attempt did not deliver when no status says it: a short code, never the receiver's text. */
  lastError?: CallbackError;
}
export type CallbackError = 'timeout' | 'connection_failed' | 'redirect_refused' | 'host_not_allowed';

/** The one extension of an erasure's due date: how many further months, why, and when it was asked (ISO 8601). */
export interface Extension {
  months: 1 | 2;
  reason: string;
  requestedAt: string;
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
  /** When Verifik accepted the DELETE (2xx). With verification on, the person stays pending until its absence is verified. */
  deletedAt?: string;
  /** When Verifik last answered 404 PERSON_NOT_FOUND for the person (the GET after a delete, or the DELETE itself). */
  verifiedAbsentAt?: string;
  /** GETs made to verify the person's absence, retries inside a call included. */
  verifyAttempts?: number;
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
  dueAt: string;
  extendedDueAt?: string;
  extension?: Extension;
  completedAt?: string;
  requestedBy?: string;
  reason?: string;
  /** An erasure by subject: where the subject is from and the persons its links gave (never its id or hash). */
  subject?: { source: string; linkedPersonIds: string[] };
  /** What an auditor should know about the whole erasure (a subject with no linked person). */
  note?: string;
  persons: PersonState[];
  /** Only when the request named a callbackUrl: where the outcome goes and how its delivery went. */
  callback?: CallbackState;
}

/** The record's view of the callback: the URL, and the delivery of the last event (none yet: attempts 0). */
export interface CallbackState extends Partial<Omit<CallbackDelivery, 'attempts'>> {
  url: string;
  attempts: number;
}
