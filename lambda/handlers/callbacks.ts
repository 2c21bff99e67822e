import { composeCallbacks } from '../compose';
import { createCallbackWorker } from '../callbacks/callback-worker';

/** SQS entry: the callback queue's messages (signed POSTs of terminal erasures), with partial batch failures. */
export const handler = createCallbackWorker(composeCallbacks(process.env));
