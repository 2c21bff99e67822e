import { readConfig } from '../config';
import { EnvSecrets } from '../secrets/secrets';
import { buildDependencies } from '../wiring';
import { createRetryWorker } from '../worker/retry-worker';

/** SQS entry: the retry queue's messages, with partial batch failures. */
export const handler = createRetryWorker(buildDependencies(readConfig(), new EnvSecrets()).worker);
