// The namespace import lets the bundler leave out zod's locales (a third of the bundle).
import * as z from 'zod';
import type { CallbackMessage } from '../erasure/ports';

const callbackMessage = z.object({
  erasureId: z.string().min(1).max(128),
  eventId: z.string().min(1).max(64),
  attempt: z.number().int().min(0),
  since: z.number().int().min(0).optional(),
  notBefore: z.number().int().min(0),
  deadLettered: z.boolean().optional(),
});

export const encodeCallbackMessage = (message: CallbackMessage): string => JSON.stringify(message);

/** Parses a callback queue message body; a malformed one throws, so SQS's redrive policy moves it aside. */
export const decodeCallbackMessage = (body: string): CallbackMessage => callbackMessage.parse(JSON.parse(body));
