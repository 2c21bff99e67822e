import { composeWorker } from '../compose';
import { createRetryWorker } from '../worker/retry-worker';

/** SQS entry: the retry queue's messages, with partial batch failures. */
export const handler = createRetryWorker(composeWorker(process.env));
