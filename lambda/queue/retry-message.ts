// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import type { RetryMessage } from '../erasure/ports';

const retryMessage = z.object({
  erasureId: z.string().min(1).max(128),
  attempt: z.number().int().min(0),
  notBefore: z.number().int().min(0),
  redrives: z.number().int().min(0).optional(),
  lookups: z.number().int().min(0).optional(),
  step: z.string().min(1).max(64).optional(),
  after: z.string().min(1).max(64).optional(),
  final: z.boolean().optional(),
  deadLettered: z.boolean().optional(),
});

export const encodeRetryMessage = (message: RetryMessage): string => JSON.stringify(message);

/** Parses a queue message body; a malformed one throws, so SQS's redrive policy moves it aside. */
export const decodeRetryMessage = (body: string): RetryMessage => retryMessage.parse(JSON.parse(body));
