import { CallbackUrlPolicy, parseAllowedHosts } from '../../lambda/callbacks/callback-url';
import { InvalidRequestError } from '../../lambda/errors';

describe('parseAllowedHosts', () => {
  it('reads comma-separated hosts and host:port, without case or spaces', () => {
    expect(parseAllowedHosts(' Portal.Example.com, hooks.example.org:8443 ,127.0.0.1:3001,[::1]:9000')).toEqual([
      'portal.example.com',
      'hooks.example.org:8443',
      '127.0.0.1:3001',
      '[::1]:9000',
    ]);
  });

  it('reads an empty list as "no callbacks"', () => {
    expect(parseAllowedHosts('')).toEqual([]);
    expect(parseAllowedHosts(' , ')).toEqual([]);
  });

  it.each(['https://portal.example.com', 'portal.example.com/path', '*.example.com', 'user@host', 'host:port', '-bad.example'])(
    'refuses %s',
    (entry) => {
      expect(() => parseAllowedHosts(entry)).toThrow(/not host or host:port/);
    },
  );
});

describe('CallbackUrlPolicy', () => {
  const policy = new CallbackUrlPolicy(parseAllowedHosts('portal.example.com,hooks.example.org:8443,127.0.0.1:3001,localhost'));

  it.each([
    'https://portal.example.com/hooks/erasures',
    'https://PORTAL.example.com/hooks?tenant=7',
    'https://portal.example.com:443/x',
    'https://hooks.example.org:8443/x',
    'http://127.0.0.1:3001/callback',
    'http://localhost/callback',
  ])('admits %s', (url) => {
    expect(policy.refusal(url)).toBeUndefined();
  });

  it.each([
    ['a host not on the list', 'https://evil.example.com/x', /allowlist/],
    ['a subdomain of an allowed host', 'https://a.portal.example.com/x', /allowlist/],
    ['an allowed host on another port', 'https://portal.example.com:8443/x', /allowlist/],
    ['a host:port entry on its default port', 'https://hooks.example.org/x', /allowlist/],
    ['plain http to a listed host that is not loopback', 'http://portal.example.com/x', /https/],
    ['plain http to loopback on a port not listed', 'http://127.0.0.1:3002/x', /allowlist/],
    ['another scheme', 'ftp://portal.example.com/x', /https/],
    ['a relative URL', '/hooks', /absolute/],
    ['no URL at all', 'not a url', /absolute/],
    ['credentials in the URL', 'https://user:secret@portal.example.com/x', /user name or password/],
    ['a fragment', 'https://portal.example.com/x#frag', /fragment/],
    ['an overlong URL', `https://portal.example.com/${'a'.repeat(2048)}`, /at most 2048/],
    ['an IP address standing for an allowed name', 'https://93.184.216.34/x', /allowlist/],
  ])('refuses %s', (_what, url, reason) => {
    expect(policy.refusal(url)).toMatch(reason);
    expect(() => policy.check(url)).toThrow(InvalidRequestError);
  });

  it('refuses every URL when the allowlist is empty', () => {
    expect(new CallbackUrlPolicy([]).refusal('https://portal.example.com/x')).toMatch(/CALLBACK_ALLOWED_HOSTS is empty/);
  });

  it('keeps the URL normalized, as it will be called', () => {
    expect(policy.check('https://PORTAL.example.com:443/a/../hooks')).toBe('https://portal.example.com/hooks');
  });

  it('says in the 400 which field is wrong', () => {
    expect(() => policy.check('https://evil.example.com/')).toThrow(
      expect.objectContaining({
        statusCode: 400,
        code: 'invalid_request',
        details: [{ path: 'callbackUrl', message: expect.any(String) }],
      }),
    );
  });
});
