import type { CallbackDelivery, Evidence, Extension, PersonState, StoredRequest } from './types';

/** Verifik's answer to one DELETE, already classified at the client boundary. */
export type VendorAnswer =
  | { kind: 'deleted'; status: number; attempts: number; evidence?: Evidence }
  /** `uncertain`: an earlier attempt of this call got no clear answer and may have deleted the person. */
  | { kind: 'not_found'; status: 404; attempts: number; uncertain: boolean }
  /** 401/403: our token is wrong or expired; never an erasure. */
  | { kind: 'unauthorized'; status: number; attempts: number; message: string }
  /**
   * Any other 4xx, and 3xx (never followed): final. `unexpectedNotFound`: a 404 without Verifik's
   * PERSON_NOT_FOUND (a wrong base URL or a proxy), which proves nothing about the person.
   */
  | { kind: 'rejected'; status: number; attempts: number; message: string; unexpectedNotFound?: boolean }
  /** 408, 429, 5xx, timeouts, dropped connections that outlasted the time budget. */
  | { kind: 'transient'; status?: number; attempts: number; message: string; retryAfterMs?: number; uncertain: boolean };

export interface DeleteOptions {
  /** Epoch milliseconds after which no further attempt may start or run. */
  deadline: number;
}

/** Verifik's answer to `GET /v2/face-recognition/persons/{id}` after a delete, classified at the client boundary. */
export type PresenceAnswer =
  /** 404 with PERSON_NOT_FOUND: the person is gone. */
  | { kind: 'absent'; status: 404; attempts: number }
  /** 2xx: Verifik still holds the person. */
  | { kind: 'present'; status: number; attempts: number }
  /**
   * Anything else (timeouts, 408, 429, 5xx, 401/403, a 404 without PERSON_NOT_FOUND, any other status):
   * proves nothing either way; asked again on the retry path.
   */
  | { kind: 'unclear'; status?: number; attempts: number; message: string; retryAfterMs?: number };

export interface VerifikPort {
  deletePerson(personId: string, options: DeleteOptions): Promise<VendorAnswer>;
  /** Reads the person back after a delete (`GET`, same base URL, encoding and token as the DELETE). */
  getPerson(personId: string, options: DeleteOptions): Promise<PresenceAnswer>;
}

export interface Claim {
  owner: string;
  /** Epoch ms until which nobody else may call Verifik for this person. */
  leaseUntil: number;
  now: number;
  receivedAt: string;
  expiresAt: number;
  /**
   * The request's `heldUntil`: a person with no item is not claimed before it (the invocation that
   * recorded the request holds it), and is claimed as interrupted after it.
   */
  heldUntil?: number;
}

/** The person's item did not exist: it is written whole by its first settlement (StoredRequest.heldUntil). */
export interface FirstSettlement {
  receivedAt: string;
  expiresAt: number;
}

export type ClaimResult =
  /** `interrupted`: an earlier holder's lease ran out without its answer being recorded. */
  { claimed: true; person: PersonState; interrupted: boolean } | { claimed: false; person: PersonState };

/** What one attempt learnt; applied with a conditional write so a terminal outcome never changes. */
export interface Settlement {
  outcome: PersonState['outcome'];
  attempts: number;
  vendorStatus?: number;
  lastError?: string;
  evidence?: Evidence;
  completedAt?: string;
  retryAfter?: string;
  note?: string;
  /** Failed because the retry schedule ran out: a redrive of the dead-letter queue reopens it. */
  exhausted?: boolean;
  /** Some attempt got no clear answer, so Verifik may already have deleted the person. */
  uncertain?: boolean;
  deletedAt?: string;
  verifiedAbsentAt?: string;
  verifyAttempts?: number;
  updatedAt: string;
}

/** An extension written, or refused because the erasure is unknown (`request` absent) or already extended. */
export type ExtensionResult = { granted: true; request: StoredRequest } | { granted: false; request?: StoredRequest };

/**
 * The audit trail. Every write is a single-item conditional write: no transactions.
 * Implementations translate storage failures into StorageUnavailableError.
 */
export interface AuditStore {
  /** Records the request unless its id exists; returns the stored one when it does. */
  createRequest(request: StoredRequest): Promise<{ created: true } | { created: false; existing: StoredRequest }>;
  /**
   * Removes the request's hold (`heldUntil`) while it still is `heldUntil`: the invocation that
   * recorded the request called nobody. False when the request has no such hold.
   */
  releaseHold(erasureId: string, heldUntil: number): Promise<boolean>;
  /** Takes the lease on a person that is pending and not leased (creating its item if absent). */
  claimPerson(erasureId: string, personId: string, claim: Claim): Promise<ClaimResult>;
  /**
   * Applies an attempt's result. A terminal result lands only on a pending person; a pending one
   * only while `owner` holds the lease. Returns the state that stands after the write.
   * With `first` (the receiving invocation's attempt on a person it never claimed) the item is created:
   * a terminal result lands on an absent or pending person, a pending one only on an absent person.
   */
  settlePerson(
    erasureId: string,
    personId: string,
    owner: string,
    settlement: Settlement,
    first?: FirstSettlement,
  ): Promise<PersonState>;
  /**
   * Moves the erasure's retry chain from step `from` to step `to` (true also when it is at `to`
   * already); false when the chain is at another step (another handler of the same message moved it). `from` undefined: a request recorded
   * before retry steps existed.
   */
  advanceRetryStep(erasureId: string, from: string | undefined, to: string): Promise<boolean>;
  /** Turns a person that failed only because retries ran out back to pending; false if it is not such a person. */
  reopenPerson(erasureId: string, personId: string, note: string, at: string): Promise<boolean>;
  getErasure(erasureId: string): Promise<{ request: StoredRequest; persons: PersonState[] } | undefined>;
  /** Erasures that touched a person id, newest first. */
  erasuresForPerson(personId: string, options?: { limit?: number }): Promise<PersonErasureRef[]>;
  /** Requests received in [from, to), oldest first; none when `from` is not before `to`. */
  requestsReceivedBetween(from: Date, to: Date): Promise<StoredRequest[]>;
  /**
   * The same requests one page at a time (at most `pageSize` each, some pages may be shorter), so a
   * caller holds one page, never the whole range.
   */
  requestPagesReceivedBetween(from: Date, to: Date, options?: { pageSize?: number }): AsyncIterable<StoredRequest[]>;
  /**
   * Grants the erasure's one extension: sets `extendedDueAt` and `extension` (and `dueAt` on a request
   * recorded before due dates were) with a single-item conditional write, only when it has none.
   * Whether it is still before `dueAt` is the caller's check.
   */
  extendDueDate(
    erasureId: string,
    change: { dueAt: string; extendedDueAt: string; extension: Extension },
  ): Promise<ExtensionResult>;
  /**
   * Notes that the callback event `eventId` was put on the callback queue (`callbackEventId` of the
   * request); false when it was noted already or the erasure is unknown.
   */
  markCallbackEnqueued(erasureId: string, eventId: string): Promise<boolean>;
}

/**
 * What the callback delivery function may do with the audit trail: read an erasure, and record how a
 * delivery went (the request item's `callbackDelivery`, nothing else).
 */
export interface CallbackStore {
  getErasure: AuditStore['getErasure'];
  /**
   * Writes the delivery state of an attempt, replacing another event's, or the same event's while it
   * stands at one of `previousAttempts` undelivered; false (nothing written) when another delivery of
   * the event has recorded more, or a success.
   */
  recordCallbackDelivery(erasureId: string, delivery: CallbackDelivery, previousAttempts: readonly number[]): Promise<boolean>;
}

export interface PersonErasureRef {
  erasureId: string;
  receivedAt: string;
  person: PersonState;
}

/** One message on the durable retry path: "look at this erasure again, not before `notBefore`". */
export interface RetryMessage {
  erasureId: string;
  /** Durable attempts already made for this erasure. */
  attempt: number;
  /** Epoch ms. */
  notBefore: number;
  /** How often the dead-letter queue was redriven for it. */
  redrives?: number;
  /**
   * How often a first message found its erasure not recorded yet (its delivery's PutItem failed) and
   * was sent again to look later: bounded on its own, not counted against the retry schedule.
   */
  lookups?: number;
  /** The chain step this message is; it acts only while the request names it (`retryStep`). */
  step?: string;
  /** The step that sent it: while that is still the current one, this message may take its place. */
  after?: string;
  /** The schedule has run out: give up on arrival (sent when a lease delayed giving up). */
  final?: boolean;
  /** Sent to the dead-letter queue when the schedule ran out: a redrive reopens what it gave up on. */
  deadLettered?: boolean;
}

/** The durable retry queue (SQS in the cloud, in-process locally). Both calls resolve once stored. */
export interface RetryQueue {
  schedule(message: RetryMessage): Promise<void>;
  deadLetter(message: RetryMessage): Promise<void>;
}

/** One callback event to deliver: "POST the terminal record of this erasure, not before `notBefore`". */
export interface CallbackMessage {
  erasureId: string;
  /** The event (`callbackEventIdOf` the terminal record): a message whose event is no longer the erasure's is dropped. */
  eventId: string;
  /** Delivery attempts recorded for the event when this message was sent: it makes the next one, or is dropped. */
  attempt: number;
  /** Attempts recorded when the schedule began (0; more after a redrive): the schedule counts from here. */
  since?: number;
  /** Epoch ms. */
  notBefore: number;
  /** Sent to the dead-letter queue after the last attempt: a redrive starts the schedule again. */
  deadLettered?: boolean;
}

/** The callback queue (SQS in the cloud, in-process locally), with its dead-letter queue. Both calls resolve once stored. */
export interface CallbackQueue {
  schedule(message: CallbackMessage): Promise<void>;
  deadLetter(message: CallbackMessage): Promise<void>;
}

export const METRIC_NAMES = [
  'Erased',
  'AlreadyErased',
  'Failed',
  'Pending',
  'Retries',
  'VendorAuthFailures',
  'VerifikServerErrors',
  'DeadLettered',
  'VerifikUnexpectedNotFound',
  /** Verifik accepted a DELETE (2xx) but its GET still returns the person. */
  'VerifikPersonStillPresent',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** How long a still-pending erasure has waited (seconds), published by the retry worker. */
export const PENDING_AGE_METRIC = 'PendingAge';
/**
 * Published hourly by the deadline check (lambda/deadlines): erasures not completed, near their due
 * date or past it, and erasures recorded without a retry chain that it armed one for.
 */
export const DEADLINE_METRIC_NAMES = ['ErasuresNearDue', 'ErasuresOverdue', 'RetryChainsRearmed'] as const;
export type DeadlineMetricName = (typeof DEADLINE_METRIC_NAMES)[number];
/** Published by the callback delivery function, one per attempt outcome. */
export const CALLBACK_METRIC_NAMES = ['CallbacksDelivered', 'CallbackFailures', 'CallbacksDeadLettered'] as const;
export type CallbackMetricName = (typeof CALLBACK_METRIC_NAMES)[number];
/** Every metric the functions publish: the alarms and the dashboard name only these. */
export type ServiceMetricName = MetricName | typeof PENDING_AGE_METRIC | DeadlineMetricName | CallbackMetricName;

export interface ErasureMetrics {
  count(name: MetricName, value?: number): void;
  /** How long an erasure that is still pending has been waiting, seen by the retry worker. */
  pendingAge(seconds: number): void;
}
