/**
 * The JSON Canonicalization Scheme (RFC 8785) for the values a certificate holds: objects, arrays,
 * strings, finite numbers, booleans and null. Keys are sorted by UTF-16 code units and strings and
 * numbers are written the way ECMAScript's JSON.stringify writes them, which is what RFC 8785
 * prescribes; undefined members are left out, as JSON.stringify does. The maintained `canonicalize`
 * package does the same for every JSON value; this covers what the model can contain and refuses
 * anything else, so two parties always sign and verify the same bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: numbers must be finite');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      // Default sort compares UTF-16 code units, as RFC 8785 section 3.2.3 asks.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
}

/** The bytes a certificate's signature covers. */
export const canonicalBytes = (value: unknown): Uint8Array => new TextEncoder().encode(canonicalJson(value));
