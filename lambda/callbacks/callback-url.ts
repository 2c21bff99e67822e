import { InvalidRequestError } from '../errors';

/** Longest callbackUrl accepted. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
/** One allowlist entry: a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
const ALLOWED_HOST_ENTRY = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/;

/**
 * Parses CALLBACK_ALLOWED_HOSTS: comma-separated `host` or `host:port` entries, compared without case.
 * A bare host admits the scheme's default port only (443; 80 for plain http on loopback).
 * Empty: no callback is accepted. A malformed entry throws (the function refuses to start).
 */
export function parseAllowedHosts(value: string): readonly string[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  const bad = entries.filter((entry) => !ALLOWED_HOST_ENTRY.test(entry));
  if (bad.length > 0) throw new Error(`not host or host:port: ${bad.join(', ')}`);
  return Object.freeze(entries);
}

/**
 * The operator's allowlist of callback hosts. Only a URL it admits is recorded, and only such a URL is
 * ever called (the delivery function checks again: an entry removed later stops deliveries there).
 */
export class CallbackUrlPolicy {
  constructor(private readonly allowedHosts: readonly string[]) {}

  /** Why `value` may not be called, or undefined when it may. */
  refusal(value: string): string | undefined {
    if (value.length > MAX_CALLBACK_URL_LENGTH) return `must be at most ${MAX_CALLBACK_URL_LENGTH} characters`;
    if (!URL.canParse(value)) return 'must be an absolute https:// URL';
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute https:// URL';
    // Credentials would end up in the audit trail; the event's signature is what authenticates it.
    if (url.username || url.password) return 'must not carry a user name or password';
    if (url.hash) return 'must not have a fragment';
    if (url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname))
      return 'must use https (plain http only for a loopback host)';
    if (this.allowedHosts.length === 0)
      return 'is not accepted: this service takes no callbacks (CALLBACK_ALLOWED_HOSTS is empty)';
    const host = url.hostname.toLowerCase();
    const admitted = this.allowedHosts.includes(url.port === '' ? host : `${host}:${url.port}`);
    if (!admitted) return "names a host that is not on the operator's callback allowlist";
    return undefined;
  }

  allows(value: string): boolean {
    return this.refusal(value) === undefined;
  }

  /** The URL as it is recorded and called (normalized), or a 400 saying why it is refused. */
  check(value: string): string {
    const refusal = this.refusal(value);
    if (refusal !== undefined) {
      throw new InvalidRequestError(`callbackUrl ${refusal}.`, [{ path: 'callbackUrl', message: refusal }]);
    }
    return new URL(value).href;
  }
}
