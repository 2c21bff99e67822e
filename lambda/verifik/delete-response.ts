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

/** The vendor's error text, bounded, for `lastError`. Never includes our request or token. */
export function vendorMessage(status: number, body: unknown): string {
  const parsed = z.object({ error: z.string().optional(), message: z.string().optional() }).safeParse(body);
  const text = parsed.success ? [parsed.data.error, parsed.data.message].filter(Boolean).join(': ') : '';
  return `Verifik answered ${status}${text ? ` (${text.slice(0, 200)})` : ''}`;
}
