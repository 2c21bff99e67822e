import { KMSClient } from '@aws-sdk/client-kms';
import { createPublicKeyReader, customResourceHandler } from '../deploy/public-key-reader';

/** Deploy time only: the stack outputs the signing keys' public halves (infra/constructs/public-key-outputs.ts). */
export const handler = customResourceHandler(createPublicKeyReader(new KMSClient({})));
