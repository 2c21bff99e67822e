import fc from 'fast-check';
import { canonicalJson } from '../../lambda/certificate/canonical-json';

describe('canonicalJson (RFC 8785 for the values a certificate holds)', () => {
  it('sorts keys by UTF-16 code units at every depth and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: undefined, '\u20ac': 1, '\ud83d\ude00': 2, z: 0 } })).toBe(
      '{"a":{"d":[true,null,"x"],"z":0,"\u20ac":1,"\ud83d\ude00":2},"b":1}',
    );
  });

  it('writes numbers and strings as RFC 8785 section 3.2.2 asks (ECMAScript serialisation)', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 'a\u2028"\\', 404])).toBe('[1e+21,1e-7,0,0.1,"a\u2028\\"\\\\",404]');
  });

  it('does not depend on the order members were written in, and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        const reversed = JSON.parse(text, (_key, v: unknown) =>
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        );
        expect(canonicalJson(reversed)).toBe(text);
      }),
    );
  });

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY], [new Date(0)], [() => 1], [10n]])('refuses %p', (value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});
