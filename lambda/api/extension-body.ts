// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { MAX_TEXT_LENGTH } from '../erasure/rules';
import type { ExtensionMonths } from '../erasure/statutory-clock';
import { schemaViolation } from './erasure-body';

/** `{"months": 1 | 2, "reason": "…"}`; any other key is refused, so a typo cannot pass for a reason. */
export const extensionBody = z.strictObject(
  {
    months: z.union([z.literal(1), z.literal(2)], { error: 'months must be 1 or 2' }),
    reason: z
      .string()
      .min(1)
      .max(MAX_TEXT_LENGTH)
      .refine((text) => text.isWellFormed(), 'must be well-formed Unicode')
      .refine((text) => text.trim().length > 0, 'must say why'),
  },
  { error: 'the body must be a JSON object with months and reason' },
);

export interface ExtensionBody {
  months: ExtensionMonths;
  reason: string;
}

/** Validates a parsed JSON body of `POST /erasures/{id}/extension`. */
export function parseExtensionBody(body: unknown): ExtensionBody {
  const parsed = extensionBody.safeParse(body);
  if (parsed.success) return parsed.data;
  throw schemaViolation('extension', parsed.error);
}
