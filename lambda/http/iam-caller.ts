import { ForbiddenError } from '../errors';
import type { HttpEvent, HttpMiddleware } from './http-types';

/**
 * The IAM principal API Gateway attached to a portal call (routes with IAM authorization). The Lambda
 * refuses a portal route without one rather than trusting the route configuration alone.
 */
export function iamPrincipal(event: HttpEvent): string {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } }).authorizer?.iam;
  if (typeof iam?.userArn !== 'string' || !iam.userArn.startsWith('arn:')) throw new ForbiddenError();
  return iam.userArn;
}

export const requireIamCaller = (): HttpMiddleware => ({
  name: 'requireIamCaller',
  before: ({ event }) => {
    iamPrincipal(event);
  },
});
