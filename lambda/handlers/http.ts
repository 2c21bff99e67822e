import { composeHttp } from '../compose';
import { createHttpApp } from '../http/http-app';

/** API Gateway (HTTP API, payload v2) entry: the webhook routes and the IAM-authorized portal routes. */
export const handler = createHttpApp(composeHttp(process.env));
