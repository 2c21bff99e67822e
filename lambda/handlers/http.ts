import { createHttpApp } from '../http/http-app';
import { dependenciesFromEnvironment } from '../wiring';

/** API Gateway (HTTP API, payload v2) entry: the webhook routes and the IAM-authorized portal routes. */
export const handler = createHttpApp(dependenciesFromEnvironment().http);
