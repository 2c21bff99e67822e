/**
 * The single-table layout of the audit trail.
 *
 * | item    | pk                | sk               | gsi1 (by time)                     | gsi2 (by person or subject)      |
 * |---------|-------------------|------------------|------------------------------------|----------------------------------|
 * | request | ERASURE#<id>      | REQUEST          | RECEIVED#<yyyy-mm>, <receivedAt>#id | SUBJECT#<hash>, <receivedAt>#id (erasure by subject only) |
 * | person  | ERASURE#<id>      | PERSON#<person>  | -                                  | PERSON#<person>, <receivedAt>#id |
 * | link    | SUBJECT#<hash>    | LINK#<person>    | -                                  | -                                |
 *
 * One Query on pk reads a whole erasure. Every item carries `expiresAt` (the TTL attribute).
 * A subject (a CRM's contact) is kept only as `<hash>` = HMAC-SHA256(pepper, `source:subjectId`), hex:
 * one Query on `SUBJECT#<hash>` (consistent) gives its linked persons, one on gsi2 the erasures that
 * named it, newest first. A link records `source`, `personId`, `linkedAt` and the ids of the
 * erasures that used it (`erasureIds`, a string set): links are kept after an erasure.
 */
export const INDEX_BY_TIME = 'byReceivedAt';
export const INDEX_BY_PERSON = 'byPerson';
export const TTL_ATTRIBUTE = 'expiresAt';

export const erasureKey = (erasureId: string) => `ERASURE#${erasureId}`;
export const REQUEST_SK = 'REQUEST';
export const personSk = (personId: string) => `PERSON#${personId}`;
export const personPartition = (personId: string) => `PERSON#${personId}`;
export const monthPartition = (iso: string) => `RECEIVED#${iso.slice(0, 7)}`;
export const subjectPartition = (subjectHash: string) => `SUBJECT#${subjectHash}`;
export const LINK_SK_PREFIX = 'LINK#';
export const linkSk = (personId: string) => `${LINK_SK_PREFIX}${personId}`;
export const timeSortKey = (receivedAt: string, erasureId: string) => `${receivedAt}#${erasureId}`;

/** The months [from, to) touches, as `yyyy-mm`. */
export function monthsBetween(from: Date, to: Date): string[] {
  const months: string[] = [];
  const cursor = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (cursor < to) {
    months.push(cursor.toISOString().slice(0, 7));
    cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return months;
}
