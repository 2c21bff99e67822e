// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import { InvalidRequestError } from '../errors';
import type { ErasureInput } from '../erasure/types';
import {
  ERASURE_ID_PATTERN,
  MAX_PERSONS,
  MAX_TEXT_LENGTH,
  PERSON_ID_PATTERN,
  SUBJECT_SOURCE_PATTERN,
  isSubjectId,
} from '../erasure/rules';
import { MAX_CALLBACK_URL_LENGTH } from '../callbacks/callback-url';

const personId = z.string().regex(PERSON_ID_PATTERN, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -');
// Well-formed Unicode only: a lone surrogate would reach the HMAC as U+FFFD and make two different
// subjectRefs one.
const optionalText = z
  .string()
  .max(MAX_TEXT_LENGTH)
  .refine((text) => text.isWellFormed(), 'must be well-formed Unicode')
  .optional();

export const subjectSource = z
  .string()
  .regex(SUBJECT_SOURCE_PATTERN, 'must be 1 to 32 characters of a-z, 0-9 or -, starting with a letter')
  .meta({ description: 'Where the subject id comes from: hubspot, zendesk, portal…', example: 'hubspot' });
export const subjectId = z.string().refine(isSubjectId, 'must be 1 to 128 printable characters').meta({
  description: "The CRM's own id of the subject: 1 to 128 printable characters. Kept only as a keyed hash.",
  example: '8812',
});
/** A subject (a CRM's contact) named instead of, or besides, person ids. */
export const subjectRef = z
  .object({ source: subjectSource, id: subjectId }, { error: 'subject must be an object with source and id' })
  .transform(({ source, id }) => ({ source, id }))
  .meta({
    id: 'Subject',
    description:
      "A CRM's subject: the persons linked to it (PUT /subjects/…) are erased; stored only as HMAC-SHA256(pepper, source:id).",
  });

/** The erasure body as the handlers validate it; the OpenAPI document (openapi.json) is generated from it. */
export const erasureBody = z
  .object(
    {
      // No cap on the raw array: repeats collapse to one id, the 64 KiB body bounds it.
      personIds: z.array(personId).optional(),
      personId: personId.optional(),
      subject: subjectRef.optional(),
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
  .refine((body) => body.personIds !== undefined || body.personId !== undefined || body.subject !== undefined, {
    message: 'personIds is required (or subject)',
  })
  .transform(({ personIds, personId: one, subject, ...rest }) => ({
    ...rest,
    ...(subject && { subject }),
    personIds: [...new Set(personIds ?? (one === undefined ? [] : [one]))],
  }))
  .refine((body) => body.personIds.length >= (body.subject ? 0 : 1) && body.personIds.length <= MAX_PERSONS, {
    message: `personIds must name 1 to ${MAX_PERSONS} distinct ids (0 to ${MAX_PERSONS} with a subject)`,
    path: ['personIds'],
  })
  .meta({
    id: 'ErasureRequest',
    description: `The persons to erase: personIds (1 to ${MAX_PERSONS} distinct ids; repeats collapse) or personId (one), not both; and/or subject, whose linked persons are added when the request is received. subjectRef and subject are stored only as keyed hashes. Unknown fields are ignored; at most 64 KiB.`,
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

/** A person id from a path (a subject link); anything else is a 400 and never reaches Verifik. */
export function parsePersonId(value: unknown): string {
  if (typeof value === 'string' && PERSON_ID_PATTERN.test(value)) return value;
  throw new InvalidRequestError('The person id must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -.');
}

export function parseErasureId(value: unknown, source: string): string {
  if (typeof value === 'string' && ERASURE_ID_PATTERN.test(value)) return value;
  throw new InvalidRequestError(`${source} must be 1 to 128 characters of A-Z, a-z, 0-9, _ . : or -.`);
}
