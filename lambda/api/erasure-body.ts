// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { InvalidRequestError } from '../errors';
import type { ErasureInput } from '../erasure/types';
import { ERASURE_ID_PATTERN, MAX_PERSONS, MAX_TEXT_LENGTH, PERSON_ID_PATTERN } from '../erasure/rules';
import { MAX_CALLBACK_URL_LENGTH } from '../callbacks/callback-url';

const personId = z.string().regex(PERSON_ID_PATTERN, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -');
// Well-formed Unicode only: a lone surrogate would reach the HMAC as U+FFFD and make two different
// subjectRefs one.
const optionalText = z
  .string()
  .max(MAX_TEXT_LENGTH)
  .refine((text) => text.isWellFormed(), 'must be well-formed Unicode')
  .optional();

/** The erasure body as the handlers validate it; the OpenAPI document (openapi.json) is generated from it. */
export const erasureBody = z
  .object(
    {
      // No cap on the raw array: repeats collapse to one id, the 64 KiB body bounds it.
      personIds: z.array(personId).optional(),
      personId: personId.optional(),
      subjectRef: optionalText,
      reason: optionalText,
      requestedBy: optionalText,
      // Its host is checked against the operator's allowlist after parsing (lambda/callbacks/callback-url.ts).
      callbackUrl: z
        .url({ protocol: /^https?$/ })
        .max(MAX_CALLBACK_URL_LENGTH)
        .optional()
        .meta({
          description:
            'Where the outcome is POSTed (erasure.completed or erasure.failed, signed with Standard Webhooks) once the erasure is terminal. https, on a host the operator allowlisted; otherwise 400.',
          example: 'https://portal.example.com/hooks/erasures',
        }),
    },
    { error: 'the body must be a JSON object' },
  )
  .refine((body) => !(body.personIds && body.personId), { message: 'give personIds or personId, not both' })
  .refine((body) => body.personIds !== undefined || body.personId !== undefined, { message: 'personIds is required' })
  .transform(({ personIds, personId: one, ...rest }) => ({ ...rest, personIds: [...new Set(personIds ?? [one as string])] }))
  .refine((body) => body.personIds.length >= 1 && body.personIds.length <= MAX_PERSONS, {
    message: `personIds must name 1 to ${MAX_PERSONS} distinct ids`,
    path: ['personIds'],
  })
  .meta({
    id: 'ErasureRequest',
    description: `The persons to erase: personIds (1 to ${MAX_PERSONS} distinct ids; repeats collapse) or personId (one), not both. subjectRef is stored only as a keyed hash. Unknown fields are ignored; at most 64 KiB.`,
  });

export type ErasureBody = Omit<ErasureInput, 'erasureId'>;

/** Validates a parsed JSON body; unknown fields are dropped, repeats collapse to one. */
export function parseErasureBody(body: unknown): ErasureBody {
  const parsed = erasureBody.safeParse(body);
  if (parsed.success) return parsed.data;
  throw schemaViolation('erasure', parsed.error);
}

/** A 400 naming each place where a body breaks its schema. */
export function schemaViolation(schema: string, error: z.ZodError): InvalidRequestError {
  const details = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return new InvalidRequestError(`The request body does not match the ${schema} schema.`, details);
}

export function parseErasureId(value: unknown, source: string): string {
  if (typeof value === 'string' && ERASURE_ID_PATTERN.test(value)) return value;
  throw new InvalidRequestError(`${source} must be 1 to 128 characters of A-Z, a-z, 0-9, _ . : or -.`);
}
