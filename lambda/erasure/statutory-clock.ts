import { addMonths } from 'date-fns';
import type { StoredRequest } from './types';

/** GDPR art. 12(3): one month to act on a request, extendable once by up to two further months. */
export const STATUTORY_MONTHS = 1;
export const EXTENSION_MONTHS = [1, 2] as const;
export type ExtensionMonths = (typeof EXTENSION_MONTHS)[number];
/** An erasure not yet completed this close to its due date counts as near due. */
export const NEAR_DUE_DAYS = 10;

const DAY_MS = 86_400_000;

/**
 * `months` calendar months after `from` (an ISO 8601 instant), same time of day, in UTC. Where the
 * day does not exist in the target month it is that month's last day (Jan 31 + 1 month = Feb 28, or
 * Feb 29 in a leap year): date-fns' addMonths clamps so. addMonths reads the calendar in the
 * process's time zone, so the calendar step is made on the UTC date at local noon (never inside a
 * daylight-saving gap) and the UTC time of day is put back: the answer is the same in every zone.
 */
export function addCalendarMonths(from: string, months: number): string {
  const start = new Date(from);
  if (Number.isNaN(start.getTime())) throw new RangeError(`not an ISO 8601 instant: ${from}`);
  const noon = new Date(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate(), 12);
  const day = addMonths(noon, months);
  const timeOfDay = start.getTime() - Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  return new Date(Date.UTC(day.getFullYear(), day.getMonth(), day.getDate()) + timeOfDay).toISOString();
}

/** When an erasure received at `receivedAt` is due: one calendar month later. */
export const dueDateFor = (receivedAt: string): string => addCalendarMonths(receivedAt, STATUTORY_MONTHS);

/** The date that binds now: the extended one when an extension was granted. */
export const effectiveDueAt = (request: Pick<StoredRequest, 'dueAt' | 'extendedDueAt'>): string =>
  request.extendedDueAt ?? request.dueAt;

export type DeadlineState = 'on_time' | 'near_due' | 'overdue';

/** Where an erasure that is not completed stands against its (extended) due date at `now`. */
export function deadlineState(dueAt: string, now: Date): DeadlineState {
  const due = Date.parse(dueAt);
  if (now.getTime() >= due) return 'overdue';
  return due - now.getTime() <= NEAR_DUE_DAYS * DAY_MS ? 'near_due' : 'on_time';
}
