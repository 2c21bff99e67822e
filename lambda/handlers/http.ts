import { readConfig } from '../config';
import { createHttpApp } from '../http/http-app';
import { EnvSecrets } from '../secrets/secrets';
import { buildDependencies } from '../wiring';

/** API Gateway (HTTP API, payload v2) entry: POST /erasures, GET /erasures/{erasureId}. */
export const handler = createHttpApp(buildDependencies(readConfig(), new EnvSecrets()).http);
