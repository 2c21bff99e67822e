/**
 * KMS returns ECDSA signatures DER-encoded (`ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`,
 * RFC 3279); JWS wants the two integers as fixed-size big-endian octets, R || S (RFC 7518 3.4).
 * This converts one to the other and refuses anything that is not exactly such a sequence. (The
 * `ecdsa-sig-formatter` package does this too; it is not a dependency of the project.)
 */
export function derToJoseSignature(der: Uint8Array, octets = 32): Uint8Array {
  const bytes = Uint8Array.from(der);
  let at = 0;
  const fail = (why: string): never => {
    throw new InvalidDerSignatureError(why);
  };
  const byte = () => (at < bytes.length ? bytes[at++]! : fail('truncated'));
  const length = () => {
    const first = byte();
    if (first < 0x80) return first;
    // Long form: one length byte is all a P-256 or P-384 signature can need (at most 255 bytes).
    if (first !== 0x81) return fail('unsupported length encoding');
    const long = byte();
    if (long < 0x80) return fail('non-minimal length');
    return long;
  };
  const integer = () => {
    if (byte() !== 0x02) fail('expected an INTEGER');
    const size = length();
    if (size === 0 || at + size > bytes.length) fail('bad INTEGER length');
    let value = bytes.subarray(at, at + size);
    at += size;
    if (value[0]! & 0x80) fail('negative INTEGER');
    if (value.length > 1 && value[0] === 0 && !(value[1]! & 0x80)) fail('non-minimal INTEGER');
    if (value[0] === 0) value = value.subarray(1);
    if (value.length > octets) fail('INTEGER too large for the curve');
    const padded = new Uint8Array(octets);
    padded.set(value, octets - value.length);
    return padded;
  };
  if (byte() !== 0x30) fail('expected a SEQUENCE');
  if (length() !== bytes.length - at) fail('SEQUENCE length does not match');
  const r = integer();
  const s = integer();
  if (at !== bytes.length) fail('trailing bytes');
  const joined = new Uint8Array(2 * octets);
  joined.set(r, 0);
  joined.set(s, octets);
  return joined;
}

/** Thrown when a signer's answer is not a DER ECDSA signature for the key's curve. */
export class InvalidDerSignatureError extends Error {
  constructor(why: string) {
    super(`not a DER ECDSA signature: ${why}`);
    this.name = 'InvalidDerSignatureError';
  }
}
