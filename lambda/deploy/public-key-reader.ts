import { createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { CdkCustomResourceEvent, CdkCustomResourceResponse, CloudFormationCustomResourceResponse } from 'aws-lambda';

/** What the stack outputs of a signing key: the base64 DER (SubjectPublicKeyInfo) that `aws kms get-public-key` prints. */
export interface PublicKeyData {
  [key: string]: string;
  PublicKeyDer: string;
}

/**
 * A deploy-time custom resource: reads the public half of an
 * asymmetric KMS key, so the stack can output it and an auditor can verify signatures without AWS
 * access. The key never changes (KMS keys are not rotated in place), so Update reads it again and
 * Delete has nothing to undo.
 */
export function createPublicKeyReader(kms: KMSClient) {
  return async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse<PublicKeyData>> => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
    const keyId = event.ResourceProperties.KeyId;
    if (typeof keyId !== 'string' || keyId === '') throw new Error('public key reader: KeyId is required');
    const { PublicKey, KeySpec } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    if (!PublicKey || KeySpec !== 'ECC_NIST_P256') throw new Error(`public key reader: ${keyId} is not an ECC P-256 key`);
    // Parsed once, so that what the stack outputs is certain to be a key.
    const der = createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }).export({
      format: 'der',
      type: 'spki',
    });
    return { PhysicalResourceId: keyId, Data: { PublicKeyDer: der.toString('base64') } };
  };
}

/**
 * The function CloudFormation invokes for the custom resource: it answers, success or failure, by
 * the one means CloudFormation listens to, a PUT of the JSON response to the pre-signed `ResponseURL`
 * (an empty content type, as the URL was signed without one). Without an answer the stack would
 * wait an hour; so every error is answered as FAILED, with its message (no secret is involved).
 */
export function customResourceHandler(
  read: (event: CdkCustomResourceEvent) => Promise<CdkCustomResourceResponse<PublicKeyData>>,
  put: typeof fetch = fetch,
) {
  return async (event: CdkCustomResourceEvent): Promise<void> => {
    const common = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
    const fallbackId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : event.LogicalResourceId;
    let response: CloudFormationCustomResourceResponse;
    try {
      const { PhysicalResourceId = fallbackId, Data } = await read(event);
      response = { ...common, Status: 'SUCCESS', PhysicalResourceId, Data };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      response = { ...common, Status: 'FAILED', Reason: reason.slice(0, 1_000), PhysicalResourceId: fallbackId };
    }
    const answer = await put(event.ResponseURL, {
      method: 'PUT',
      headers: { 'content-type': '' },
      body: JSON.stringify(response),
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok) throw new Error(`CloudFormation did not take the response: HTTP ${answer.status}`);
  };
}
