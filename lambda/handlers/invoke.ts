import { composeInvoke } from '../compose';
import { createInvokeHandler } from '../invoke/invoke-handler';

/** Direct Lambda invocation entry for privacy portals inside AWS. */
export const handler = createInvokeHandler(composeInvoke(process.env));
