// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import type { Evidence } from '../erasure/types';

/**
 * Verifik documents two 200 bodies for DELETE:
 * `{success, message, data: {_id}}` and `{id, data: {_id}, signature: {message, dateTime}}`.
 * Both are accepted; whatever proof they carry is kept. Unknown shapes still mean "deleted" (2xx).
 */
const deleteBody = z.object({
  id: z.string().max(256).optional(),
  data: z
    .object({ _id: z.string().max(256).optional() })
    .partial()
    .optional(),
  signature: z.object({ message: z.string().max(512).optional(), dateTime: z.string().max(64).optional() }).optional(),
});

export function evidenceFrom(body: unknown): Evidence | undefined {
  const parsed = deleteBody.safeParse(body);
  if (!parsed.success) return undefined;
  const { id, data, signature } = parsed.data;
  const evidence: Evidence = {};
  if (signature?.message) evidence.signature = signature.message;
  if (signature?.dateTime) evidence.dateTime = signature.dateTime;
  if (id) evidence.responseId = id;
  if (data?._id) evidence.deletedId = data._id;
  return Object.keys(evidence).length > 0 ? evidence : undefined;
}

/** What may be kept of a vendor's error body: an error code, never free text (it can carry names or echo a token). */
export const VENDOR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Verifik's code for "no such person in this token's scope": the only 404 that means already erased. */
export const PERSON_NOT_FOUND = 'PERSON_NOT_FOUND';

const errorBody = z.object({ message: z.unknown(), code: z.unknown(), error: z.unknown() }).partial();

/** The error code in a vendor body (`message` or `code`), when it has the shape of one; otherwise undefined. */
export function vendorCode(body: unknown): string | undefined {
  const parsed = errorBody.safeParse(body);
  if (!parsed.success) return undefined;
  return [parsed.data.code, parsed.data.message, parsed.data.error].find(
    (value): value is string => typeof value === 'string' && VENDOR_CODE_PATTERN.test(value),
  );
}

/** `lastError` for a vendor answer: the status and, when present, the code. Nothing else of the body. */
export function vendorMessage(status: number, body: unknown): string {
  const code = vendorCode(body);
  return `Verifik answered ${status}${code ? ` (${code})` : ''}`;
}
