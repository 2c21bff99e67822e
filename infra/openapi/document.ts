// The namespace import matches the handlers' (lambda/api/erasure-body.ts): one zod, one set of schemas.
import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { erasureBody, subjectId, subjectSource } from '../../lambda/api/erasure-body';
import { extensionBody } from '../../lambda/api/extension-body';
import { ERASURE_ID_PATTERN, PERSON_ID_PATTERN } from '../../lambda/erasure/rules';
import { TERMINAL_OUTCOMES } from '../../lambda/erasure/types';

/**
 * The API as an OpenAPI 3.1 document, generated from the zod schemas the handlers validate with
 * (the request body) and from schemas of every answer, which the contract test holds every answer
 * of the integration tests to (test/support/openapi-contract.ts). `npm run openapi` writes it to
 * openapi.json; a test fails when the committed file differs from what this builds.
 */

const timestamp = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601, UTC', example: '2026-11-29T09:23:44.577Z' });
const erasureId = z
  .string()
  .regex(ERASURE_ID_PATTERN)
  .meta({ id: 'ErasureId', description: 'Names the erasure: 1 to 128 characters of A-Z a-z 0-9 _ . : -', example: 'msg_2KWP1' });

const evidence = z
  .strictObject({
    signature: z.string().optional(),
    dateTime: z.string().optional(),
    responseId: z.string().optional(),
    deletedId: z.string().optional(),
  })
  .meta({ id: 'Evidence', description: "What Verifik's 2xx answer carried as proof of the deletion." });

const person = z
  .strictObject({
    personId: z.string().regex(PERSON_ID_PATTERN).meta({ example: '65175da13e81e4fabc12345f' }),
    outcome: z.enum([...TERMINAL_OUTCOMES, 'pending']),
    attempts: z.int().min(0).meta({ description: 'Calls made to Verifik for this person.' }),
    vendorStatus: z.int().optional().meta({ description: "Verifik's last HTTP status." }),
    lastError: z
      .string()
      .optional()
      .meta({ description: "Why the last attempt did not end it: a status and Verifik's error code, never free text." }),
    completedAt: timestamp.optional(),
    evidence: evidence.optional(),
    retryAfter: timestamp.optional().meta({ description: 'Earliest next attempt, when Verifik asked for a pause.' }),
    note: z.string().optional().meta({ description: 'What an auditor should know beside the outcome.' }),
    exhausted: z.boolean().optional().meta({ description: 'Failed because the retry schedule ran out.' }),
    deletedAt: timestamp.optional().meta({ description: 'When Verifik accepted the DELETE (2xx).' }),
    verifiedAbsentAt: timestamp.optional().meta({
      description: 'When Verifik answered 404 PERSON_NOT_FOUND for the person (the GET after a delete, or the DELETE).',
    }),
    verifyAttempts: z.int().min(0).optional().meta({ description: 'GET calls made to verify the absence.' }),
  })
  .meta({ id: 'PersonOutcome' });

const callback = z
  .strictObject({
    url: z.string().meta({ description: 'The callbackUrl of the request, as recorded.' }),
    eventId: z
      .string()
      .optional()
      .meta({ description: 'The last event delivered or tried (its webhook-id), once an attempt was made.' }),
    attempts: z.int().min(0).meta({ description: 'POSTs made for that event (0: none yet).' }),
    deliveredAt: timestamp.optional().meta({ description: 'When the receiver answered 2xx.' }),
    lastStatus: z.int().optional().meta({ description: "The receiver's HTTP status on the last attempt." }),
    lastError: z
      .enum(['timeout', 'connection_failed', 'redirect_refused', 'host_not_allowed'])
      .optional()
      .meta({ description: 'Why the last attempt did not deliver, when no status says it.' }),
  })
  .meta({
    id: 'CallbackDelivery',
    description:
      'Only for a request that named a callbackUrl: where the erasure.completed / erasure.failed event goes and how its delivery went.',
  });

const record = z
  .strictObject({
    erasureId,
    status: z.enum(['completed', 'failed', 'pending']),
    receivedAt: timestamp,
    dueAt: timestamp.meta({ description: 'GDPR art. 12(3): receivedAt plus one calendar month.' }),
    extendedDueAt: timestamp.optional().meta({ description: 'After the one extension: the new due date.' }),
    extension: z
      .strictObject({ months: z.union([z.literal(1), z.literal(2)]), reason: z.string(), requestedAt: timestamp })
      .optional()
      .meta({ id: 'Extension' }),
    completedAt: timestamp.optional(),
    requestedBy: z.string().optional(),
    reason: z.string().optional(),
    subject: z
      .strictObject({ source: z.string(), linkedPersonIds: z.array(z.string().regex(PERSON_ID_PATTERN)) })
      .optional()
      .meta({ description: 'An erasure by subject: its source and the persons linked to it when the request was received.' }),
    note: z.string().optional().meta({ description: 'Set when a subject had no linked person: nothing was held at Verifik.' }),
    persons: z.array(person).meta({ description: 'Empty only for an erasure by subject with no linked person (see note).' }),
    callback: callback.optional(),
  })
  .meta({
    id: 'ErasureRecord',
    description: 'An erasure as callers and auditors see it (no subjectRef: only its keyed hash is kept).',
  });

const error = z
  .strictObject({
    error: z.string().meta({ example: 'invalid_request' }),
    message: z.string(),
    details: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error', description: 'Every error of the service: a code and a message, plus details for a schema violation.' });

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();
const certificatePerson = z.strictObject({
  personId: z.string(),
  outcome: z.enum([...TERMINAL_OUTCOMES, 'pending']),
  vendorStatus: nullable(z.int()),
  attempts: z.int().min(0),
  completedAt: nullable(timestamp),
  verifiedAbsentAt: nullable(timestamp),
  evidence: nullable(evidence),
  lastError: nullable(z.string()),
  note: nullable(z.string()),
});
const archiveObject = z.strictObject({
  sequence: z.int().min(1),
  key: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const certificate = z
  .strictObject({
    certificate: z.strictObject({
      type: z.literal('verifik-erasure/certificate-of-erasure'),
      certificateVersion: z.literal(1),
      issuedAt: timestamp,
      controller: z.strictObject({ name: z.string() }),
      method: z.strictObject({ system: z.string(), operation: z.string(), verification: z.string(), meaning: z.string() }),
      erasure: z.strictObject({
        erasureId,
        status: z.enum(['completed', 'failed']),
        requestedBy: nullable(z.string()),
        reason: nullable(z.string()),
        receivedAt: timestamp,
        dueAt: nullable(timestamp),
        extendedDueAt: nullable(timestamp),
        extension: nullable(z.strictObject({ months: z.int(), reason: z.string(), requestedAt: timestamp })),
        completedAt: nullable(timestamp),
        note: nullable(z.string()),
      }),
      persons: z.array(certificatePerson).min(1),
      software: z.strictObject({ name: z.string(), version: z.string() }),
      archive: z
        .strictObject({
          state: z.enum(['covered', 'awaiting-digest', 'not-archived', 'no-archive']),
          batch: nullable(archiveObject),
          digest: nullable(archiveObject.extend({ signedAt: timestamp })),
          note: z.string(),
        })
        .meta({
          description:
            'Where the tamper-evident archive holds this erasure: covered = `batch` holds it as certified and `digest` (signed with the archive key) covers the chain up to it.',
        }),
    }),
    jws: z
      .string()
      .regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/)
      .meta({ description: 'Detached JWS (ES256) over the RFC 8785 canonical JSON of certificate: <protected>..<signature>.' }),
  })
  .meta({
    id: 'SignedCertificate',
    description:
      'A certificate of erasure and its detached signature; verify offline with the certificate key (npm run verify-certificate).',
  });

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const location = z.string().meta({ description: 'Where to read the erasure: the GET route of the same family.' });

/** The answers every route may give, by status. */
function answers(kind: 'submit' | 'read' | 'extend', family: 'webhook' | 'portal'): ZodOpenApiResponsesObject {
  const failure = (description: string) => ({ description, content: json(error) });
  return {
    '200': { description: 'Every person is terminal: the record, status completed or failed.', content: json(record) },
    '202': {
      description: 'A person is still pending: the record, status pending.',
      ...(kind === 'submit' ? { headers: z.object({ location }) } : {}),
      content: json(record),
    },
    '400': failure('Not JSON, not UTF-8, a schema violation or a malformed id (invalid_request).'),
    ...(family === 'webhook'
      ? { '401': failure('The signature is missing, wrong, stale or made for another request (invalid_signature).') }
      : {
          '403': failure(
            'Reached without an IAM identity (forbidden); API Gateway answers its own 403 to a bad SigV4 signature.',
          ),
        }),
    ...(kind === 'read'
      ? { '404': failure('No erasure with that id (not_found).') }
      : kind === 'extend'
        ? {
            '404': failure('No erasure with that id (not_found).'),
            '409': failure('Extended already (already_extended), or asked on or after dueAt (past_due).'),
            '413': failure('The body is over 64 KiB (payload_too_large).'),
            '415': failure('The content-type is missing or not JSON (unsupported_media_type).'),
          }
        : {
            '409': failure('The erasure id was received before with a different request (idempotency_conflict).'),
            '413': failure('The body is over 64 KiB (payload_too_large).'),
            '415': failure('The content-type is missing or not JSON (unsupported_media_type).'),
          }),
    '500': failure('An unexpected failure (internal_error); retry.'),
    '503': failure('Could not be recorded, a secret could not be read, or time ran out; retry with the same erasure id.'),
  };
}

const webhookHeaders = z.object({
  'webhook-id': erasureId,
  'webhook-timestamp': z.string().regex(/^\d+$/).meta({ description: 'Unix seconds; at most 5 minutes off.' }),
  'webhook-signature': z
    .string()
    .meta({ description: 'Standard Webhooks: v1,<base64 HMAC-SHA256 of id.timestamp.body> (of the request line for a GET).' }),
});
const idempotencyKey = z.object({
  'Idempotency-Key': erasureId.optional().meta({ description: 'The erasure id; erasure_<uuid> when absent.' }),
});
const byId = z.object({ erasureId });
const extension = { required: true, content: json(extensionBody) };
/** A 200 only: an extension answers the record as it stands. */
const extended = (family: 'webhook' | 'portal') => {
  const { '202': _pending, ...rest } = answers('extend', family);
  return rest;
};
const body = { required: true, content: json(erasureBody) };

/** The answers of the certificate routes. */
function certificateAnswers(family: 'webhook' | 'portal'): ZodOpenApiResponsesObject {
  const failure = (description: string) => ({ description, content: json(error) });
  return {
    '200': {
      description:
        'The signed certificate: JSON, or a printable page when Accept prefers text/html (the JSON form is what is signed).',
      content: { ...json(certificate), 'text/html': { schema: z.string() } },
    },
    '400': failure('A malformed erasure id (invalid_request).'),
    ...(family === 'webhook'
      ? { '401': failure('The signature is missing, wrong, stale or made for another request (invalid_signature).') }
      : { '403': failure('Reached without an IAM identity (forbidden).') }),
    '404': failure('No erasure with that id (not_found).'),
    '409': failure('A person is still pending: no certificate yet (erasure_pending).'),
    '500': failure('An unexpected failure (internal_error); retry.'),
    '503': failure(
      'The certificate key or the controller name is not available (certificate_unavailable), or the audit table is not; retry.',
    ),
  };
}

const subjectView = z
  .strictObject({
    source: z.string(),
    subjectId: z.string(),
    persons: z.array(
      z.strictObject({
        personId: z.string().regex(PERSON_ID_PATTERN),
        linkedAt: timestamp,
        erasureIds: z.array(erasureId).meta({ description: 'The erasures that used this link (links are kept after them).' }),
      }),
    ),
    erasures: z
      .array(z.strictObject({ erasureId, receivedAt: timestamp }))
      .meta({ description: 'The erasures that named the subject, newest first.' }),
  })
  .meta({
    id: 'SubjectLinks',
    description: 'A subject: its linked Verifik persons and the erasures that named it. Stored only as a keyed hash.',
  });
const subjectPath = z.object({ source: subjectSource, subjectId });
const linkPath = subjectPath.extend({ personId: z.string().regex(PERSON_ID_PATTERN) });

/** The answers of the subject routes. */
function subjectAnswers(kind: 'link' | 'read', family: 'webhook' | 'portal'): ZodOpenApiResponsesObject {
  const failure = (description: string) => ({ description, content: json(error) });
  return {
    '200': {
      description:
        kind === 'link' ? 'Linked already: the subject as it stands.' : 'The subject (no person and no erasure when unknown).',
      content: json(subjectView),
    },
    ...(kind === 'link' ? { '201': { description: 'Linked now: the subject as it stands.', content: json(subjectView) } } : {}),
    '400': failure('A malformed source, subject id or person id, or a body on a link (invalid_request).'),
    ...(family === 'webhook'
      ? { '401': failure('The signature is missing, wrong, stale or made for another request (invalid_signature).') }
      : { '403': failure('Reached without an IAM identity (forbidden).') }),
    ...(kind === 'link'
      ? {
          '409': failure('The subject has as many linked persons as one erasure takes (subject_link_limit).'),
          '413': failure('The body is over 64 KiB (payload_too_large).'),
        }
      : {}),
    '500': failure('An unexpected failure (internal_error); retry.'),
    '503': failure('The audit table or the pepper could not be read; retry.'),
  };
}

const hubSpotBatch = z
  .array(
    z.looseObject({
      subscriptionType: z.string().meta({ example: 'contact.privacyDeletion' }),
      portalId: z.int().optional(),
      objectId: z.int().optional(),
    }),
  )
  .min(1)
  .meta({
    id: 'HubSpotEventBatch',
    description:
      "HubSpot's webhook events. contact.privacyDeletion (and contact.deletion when turned on) needs portalId and objectId; other types are ignored.",
  });
const hookAnswer = z
  .strictObject({
    erasures: z.array(z.strictObject({ erasureId, status: z.enum(['completed', 'failed', 'pending']) })),
    ignored: z.int().min(0).meta({ description: 'Events of other types.' }),
  })
  .meta({ id: 'CrmHookAnswer', description: 'The erasures recorded (Verifik is called from the retry path).' });

const webhook = { security: [{ webhookSignature: [] }] };
const portal = { security: [{ sigv4: [] }] };

const signedHeaders = webhookHeaders.omit({ 'webhook-id': true }).extend({ 'webhook-id': z.string() });
const failure = (description: string) => ({ description, content: json(error) });

const operations: Record<string, Record<string, ZodOpenApiOperationObject>> = {
  '/subjects/{source}/{subjectId}/persons/{personId}': {
    put: {
      ...webhook,
      operationId: 'linkSubject',
      summary: 'Link a Verifik person to a CRM subject (signed over the request line and the empty body)',
      requestParams: { path: linkPath, header: signedHeaders },
      responses: subjectAnswers('link', 'webhook'),
    },
  },
  '/subjects/{source}/{subjectId}': {
    get: {
      ...webhook,
      operationId: 'readSubject',
      summary: "A subject's linked persons and the erasures that named it (signed over the request line)",
      requestParams: { path: subjectPath, header: signedHeaders },
      responses: subjectAnswers('read', 'webhook'),
    },
  },
  '/portal/subjects/{source}/{subjectId}/persons/{personId}': {
    put: {
      ...portal,
      operationId: 'linkSubjectAsPortal',
      summary: 'Link a Verifik person to a CRM subject (IAM caller)',
      requestParams: { path: linkPath },
      responses: subjectAnswers('link', 'portal'),
    },
  },
  '/portal/subjects/{source}/{subjectId}': {
    get: {
      ...portal,
      operationId: 'readSubjectAsPortal',
      summary: "A subject's linked persons and the erasures that named it (IAM caller)",
      requestParams: { path: subjectPath },
      responses: subjectAnswers('read', 'portal'),
    },
  },
  '/hooks/hubspot': {
    post: {
      security: [{ hubSpotSignature: [] }],
      operationId: 'receiveHubSpotEvents',
      summary: "HubSpot's webhook: each contact deletion becomes an erasure by subject, id hubspot:<portalId>:contact:<objectId>",
      requestParams: {
        header: z.object({
          'X-HubSpot-Signature-v3': z.string().meta({
            description: 'base64 HMAC-SHA256, keyed with the app client secret, of method + URI + body + timestamp.',
          }),
          'X-HubSpot-Request-Timestamp': z
            .string()
            .regex(/^\d+$/)
            .meta({ description: 'Unix milliseconds; at most 5 minutes off.' }),
        }),
      },
      requestBody: { required: true, content: json(hubSpotBatch) },
      responses: {
        '200': { description: 'Every erasure the batch asks for is recorded.', content: json(hookAnswer) },
        '400': failure('Not JSON, not UTF-8, or not a batch of HubSpot events (invalid_request); nothing recorded.'),
        '401': failure('The signature is missing or wrong, or the timestamp more than 5 minutes off (invalid_signature).'),
        '413': failure('The body is over 64 KiB (payload_too_large).'),
        '415': failure('The content-type is missing or not JSON (unsupported_media_type).'),
        '500': failure('An unexpected failure (internal_error); HubSpot retries.'),
        '503': failure('Could not be recorded, or the client secret could not be read; HubSpot retries.'),
      },
    },
  },
  '/erasures': {
    post: {
      ...webhook,
      operationId: 'submitErasure',
      summary: 'Erase persons at Verifik (signed webhook)',
      requestParams: { header: webhookHeaders },
      requestBody: body,
      responses: answers('submit', 'webhook'),
    },
  },
  '/erasures/{erasureId}': {
    get: {
      ...webhook,
      operationId: 'readErasure',
      summary: 'Read an erasure (signed over the request line)',
      requestParams: { path: byId, header: webhookHeaders.omit({ 'webhook-id': true }).extend({ 'webhook-id': z.string() }) },
      responses: answers('read', 'webhook'),
    },
  },
  '/erasures/{erasureId}/certificate': {
    get: {
      ...webhook,
      operationId: 'readCertificate',
      summary: 'The signed certificate of a terminal erasure (signed over the request line)',
      requestParams: { path: byId, header: webhookHeaders.omit({ 'webhook-id': true }).extend({ 'webhook-id': z.string() }) },
      responses: certificateAnswers('webhook'),
    },
  },
  '/erasures/{erasureId}/extension': {
    post: {
      ...webhook,
      operationId: 'extendErasure',
      summary: 'Extend the due date once, before it passes (signed over the request line and the body)',
      requestParams: { path: byId, header: webhookHeaders.omit({ 'webhook-id': true }).extend({ 'webhook-id': z.string() }) },
      requestBody: extension,
      responses: extended('webhook'),
    },
  },
  '/portal/erasures/{erasureId}/extension': {
    post: {
      ...portal,
      operationId: 'extendErasureAsPortal',
      summary: 'Extend the due date once, before it passes (IAM caller)',
      requestParams: { path: byId },
      requestBody: extension,
      responses: extended('portal'),
    },
  },
  '/portal/erasures': {
    post: {
      ...portal,
      operationId: 'submitErasureAsPortal',
      summary: 'Erase persons at Verifik (IAM caller; requestedBy becomes the caller)',
      requestParams: { header: idempotencyKey },
      requestBody: body,
      responses: answers('submit', 'portal'),
    },
  },
  '/portal/erasures/{erasureId}': {
    get: {
      ...portal,
      operationId: 'readErasureAsPortal',
      summary: 'Read an erasure (IAM caller)',
      requestParams: { path: byId },
      responses: answers('read', 'portal'),
    },
  },
  '/portal/erasures/{erasureId}/certificate': {
    get: {
      ...portal,
      operationId: 'readCertificateAsPortal',
      summary: 'The signed certificate of a terminal erasure (IAM caller)',
      requestParams: { path: byId },
      responses: certificateAnswers('portal'),
    },
  },
};

export function openApiDocument(version: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'verifik-erasure',
      version,
      description:
        "GDPR erasures at Verifik's face-recognition API, with a provable audit trail. Webhook routes are signed (Standard Webhooks); portal routes are IAM (SigV4) calls checked by API Gateway. See docs/api.md.",
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'A deployed stack: its ApiUrl output. npm start serves the same routes on http://localhost:3000.',
        variables: { apiId: { default: 'abcde12345' }, region: { default: 'eu-central-1' } },
      },
    ],
    paths: operations,
    components: {
      securitySchemes: {
        webhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'webhook-signature',
          description: 'Standard Webhooks signature with a whsec_ key, over webhook-id, webhook-timestamp and the raw body.',
        },
        hubSpotSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-HubSpot-Signature-v3',
          description: "HubSpot's signature v3 with the app's client secret (docs/crm-integration.md).",
        },
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS Signature Version 4 (service execute-api) by a principal allowed on the PortalExecuteApiArn output.',
        },
      },
    },
  });
}
