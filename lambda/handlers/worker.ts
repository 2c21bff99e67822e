import { dependenciesFromEnvironment } from '../wiring';
import { createRetryWorker } from '../worker/retry-worker';

/** SQS entry: the retry queue's messages, with partial batch failures. */
export const handler = createRetryWorker(dependenciesFromEnvironment().worker);
