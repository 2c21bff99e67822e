import { createInvokeHandler } from '../invoke/invoke-handler';
import { dependenciesFromEnvironment } from '../wiring';

/** Direct Lambda invocation entry for privacy portals inside AWS. */
export const handler = createInvokeHandler(dependenciesFromEnvironment().http);
