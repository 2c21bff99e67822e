import { createSameCallsHandler, referenceConfig } from './references';

/** The same-calls reference as a Lambda entry, configured at cold start like lambda/handlers/http.ts. */
export const handler = createSameCallsHandler(referenceConfig());
