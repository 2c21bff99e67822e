import { defaultBurst, verifikPace } from '../../lambda/verifik/verifik-pace';

/**
 * The pace only ever holds calls back, so what is asserted is an upper bound on how many calls go
 * out in a window: a busy machine makes the calls slower, never faster, and cannot break it.
 */
let ending: AbortController;
beforeEach(() => {
  ending = new AbortController();
});
// Slots still queued (ten seconds away) end with the test.
afterEach(() => ending.abort());

describe('verifikPace', () => {
  it('lets the burst out at once, then no more than the rate: 30 calls at 100/s in bursts of 5 take at least 250 ms', async () => {
    const pace = verifikPace({ ratePerSecond: 100, burst: 5, signal: ending.signal });
    const started = performance.now();
    const granted = await Promise.all(Array.from({ length: 30 }, () => pace(Date.now() + 60_000)));
    // Six windows of 50 ms: the first at once, the sixth 250 ms later at the earliest. A busy machine
    // can only make it later, so only the lower bound is asserted.
    expect(granted.every(Boolean)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(249);
  });

  it('answers false, sending nothing, when the slot would come after the deadline', async () => {
    // One call every ten seconds: the first goes at once, the next slot is ten seconds away.
    const pace = verifikPace({ ratePerSecond: 0.1, burst: 1, signal: ending.signal });
    await expect(pace(Date.now() + 60_000)).resolves.toBe(true);
    await expect(pace(Date.now() + 100)).resolves.toBe(false);
    await expect(pace(Date.now() - 1)).resolves.toBe(false);
  });

  it('serves waiting calls in the order they asked', async () => {
    const pace = verifikPace({ ratePerSecond: 1000, burst: 1, signal: ending.signal });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 12 }, (_, i) => pace(Date.now() + 60_000).then(() => order.push(i))));
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('answers false to every waiting call once ended', async () => {
    const pace = verifikPace({ ratePerSecond: 0.1, burst: 1, signal: ending.signal });
    await pace(Date.now() + 60_000);
    const waiting = pace(Date.now() + 60_000);
    ending.abort();
    await expect(waiting).resolves.toBe(false);
  });

  it('refuses a rate of 0, a non-number or a burst below one', () => {
    expect(() => verifikPace({ ratePerSecond: 0, burst: 1 })).toThrow(/above 0/);
    expect(() => verifikPace({ ratePerSecond: Number.NaN, burst: 1 })).toThrow(/above 0/);
    expect(() => verifikPace({ ratePerSecond: 10, burst: 0 })).toThrow(/burst/);
  });

  it('takes a tenth of a second as the default burst, at least one call', () => {
    expect([defaultBurst(200), defaultBurst(25), defaultBurst(5), defaultBurst(0.5)]).toEqual([20, 2, 1, 1]);
  });
});
