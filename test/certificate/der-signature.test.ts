import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { InvalidDerSignatureError, derToJoseSignature } from '../../lambda/certificate/der-signature';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('derToJoseSignature', () => {
  it('turns every DER ECDSA signature OpenSSL makes into the R || S that verifies as IEEE P1363', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (message) => {
        const der = sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
        const raw = derToJoseSignature(der);
        expect(raw).toHaveLength(64);
        expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps short integers right-aligned (leading zero octets of R or S)', () => {
    // r = 1, s = 0x80 (needs a 0x00 sign octet in DER).
    const der = Uint8Array.from([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]);
    const raw = derToJoseSignature(der);
    expect(raw[31]).toBe(1);
    expect(raw[63]).toBe(0x80);
    expect(raw.slice(0, 31).every((b) => b === 0) && raw.slice(32, 63).every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['empty', []],
    ['not a SEQUENCE', [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]],
    ['wrong SEQUENCE length', [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]],
    ['trailing bytes', [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]],
    ['negative INTEGER', [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]],
    ['non-minimal INTEGER', [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]],
    ['zero-length INTEGER', [0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01]],
    ['INTEGER too large', [0x30, 0x26, 0x02, 0x21, 0x01, ...new Array(32).fill(0), 0x02, 0x01, 0x01]],
    ['missing S', [0x30, 0x03, 0x02, 0x01, 0x01]],
  ])('refuses %s', (_name, bytes) => {
    expect(() => derToJoseSignature(Uint8Array.from(bytes))).toThrow(InvalidDerSignatureError);
  });

  it('never accepts a mangled DER signature as a different valid one without throwing or failing verification', () => {
    const message = Buffer.from('certificate');
    const der = sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const mangled = Buffer.from(der);
        mangled[at] = mangled[at]! ^ flip;
        let raw: Uint8Array;
        try {
          raw = derToJoseSignature(mangled);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidDerSignatureError);
          return;
        }
        expect(verify('sha256', message, { key: createPublicKey(privateKey), dsaEncoding: 'ieee-p1363' }, raw)).toBe(false);
      }),
    );
  });
});
