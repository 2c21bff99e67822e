import { decodeJwt } from 'jose';

const DAY_MS = 86_400_000;

/**
 * When a Verifik token stops working, from the JWT's `exp` claim. The token is decoded, not
 * verified: only Verifik holds its key, and the answer is used for alarms and for refusing a
 * renewal that is already dead, never for trusting the token. Undefined: not a JWT, or no `exp`.
 */
export function tokenExpiry(token: string): Date | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Whole and fractional days from `now` until `expiry`, never below 0 (an expired token has none). */
export function daysLeft(expiry: Date, now: Date): number {
  return Math.max(0, Math.round(((expiry.getTime() - now.getTime()) / DAY_MS) * 100) / 100);
}

/**
 * Why a token Verifik handed back must not be stored, or undefined when it may be: it must be a JWT
 * whose `exp` lies in the future. The reason never quotes the token.
 */
export function refusalOfRenewedToken(token: string, now: Date): string | undefined {
  const expiry = tokenExpiry(token);
  if (expiry === undefined) return 'the renewed token is not a JWT with an exp claim';
  if (expiry.getTime() <= now.getTime()) return `the renewed token expired at ${expiry.toISOString()}`;
  return undefined;
}
