import { createBaselineHandler, referenceConfig } from './references';

/** The baseline as a Lambda entry, configured at cold start like lambda/handlers/http.ts. */
export const handler = createBaselineHandler(referenceConfig());
