import vectors from './sigv4/botocore-vectors.json';
import { PortalClient } from '../../cli/portal-client';

/**
 * The IAM routes' Signature V4, as the command line sends it, against signatures computed by botocore
 * (the AWS SDK for Python, an independent implementation; test/cli/sigv4/botocore-vectors.py) for
 * the same requests, credentials and time. What this proves: the request the command line sends
 * (method, host, path and its escaping, headers, body, service `execute-api`, region) is signed as
 * AWS's own SDK signs it. What it cannot prove here: that API Gateway and IAM admit the caller (no
 * AWS account is reachable from this machine).
 */
describe('the portal client signs as botocore does', () => {
  const sent: { url: string; init: RequestInit }[] = [];
  const clientFor = (sessionToken: string | null) =>
    new PortalClient(vectors.apiUrl, {
      region: vectors.region,
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        ...(sessionToken ? { sessionToken } : {}),
      },
      now: () => new Date(vectors.at),
      fetch: async (url, init) => {
        sent.push({ url: String(url), init: init! });
        return new Response('{}', { status: 200 });
      },
    });
  const call = async (name: string, client: PortalClient) => {
    if (name === 'submit an erasure')
      return client.submit('f0123456789abcdef0123-L2', {
        personIds: ['person_00001'],
        reason: 'gdpr-art-17',
        requestedBy: 'cli',
      });
    if (name === 'read a record whose id needs escaping') return client.read('hubspot:1:contact:8812');
    if (name === 'the certificate as HTML') return client.certificate('msg_2KWP', { html: true });
    return client.extend('msg_2KWP', { months: 2, reason: 'several systems' });
  };

  it.each(vectors.vectors.map((v) => [`${v.name}${v.sessionToken ? ', with a session token' : ''}`, v] as const))(
    '%s',
    async (_name, vector) => {
      sent.length = 0;
      await call(vector.name, clientFor(vector.sessionToken));

      expect(sent).toHaveLength(1);
      const { url, init } = sent[0]!;
      const headers = init.headers as Record<string, string>;
      expect(url).toBe(`${vectors.apiUrl.replace(/\/$/, '')}${vector.path}`);
      expect(init.method).toBe(vector.method);
      expect(init.body).toBe((vector as { body?: string }).body);
      expect(headers.authorization).toBe(vector.signed.authorization);
      expect(headers['x-amz-date']).toBe(vector.signed['x-amz-date']);
      expect(headers['x-amz-security-token']).toBe(
        (vector.signed as { 'x-amz-security-token'?: string })['x-amz-security-token'],
      );
    },
  );

  it('a signature for another time does not match (the vectors are not vacuous)', async () => {
    const vector = vectors.vectors[0]!;
    const client = new PortalClient(vectors.apiUrl, {
      region: vectors.region,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      now: () => new Date(Date.parse(vectors.at) + 1000),
      fetch: async (url, init) => {
        sent.push({ url: String(url), init: init! });
        return new Response('{}');
      },
    });
    sent.length = 0;
    await call(vector.name, client);
    expect((sent[0]!.init.headers as Record<string, string>).authorization).not.toBe(vector.signed.authorization);
  });
});
