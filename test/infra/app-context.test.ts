import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { testContext } from './stack-template';

interface AppRun {
  routeSettings?: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
  /** Each function by its description's start (`HTTP API`, `Direct invocation`, `Retry worker`…): its pace and reserved concurrency. */
  functions?: Record<string, { rate?: string; burst?: string; reserved?: number }>;
  error?: Error;
}

/**
 * Runs infra/app.ts as `cdk synth` does: the CLI hands the app its context in CDK_CONTEXT_JSON (cdk.json's
 * context, then every `-c key=value` as a string) and its output folder in CDK_OUTDIR. Unbundled.
 */
function runApp(context: Record<string, unknown>): AppRun {
  const outdir = mkdtempSync(path.join(tmpdir(), 'verifik-erasure-app-'));
  const saved = { context: process.env.CDK_CONTEXT_JSON, outdir: process.env.CDK_OUTDIR };
  process.env.CDK_CONTEXT_JSON = JSON.stringify({ ...testContext(), ...context });
  process.env.CDK_OUTDIR = outdir;
  try {
    jest.isolateModules(() => {
      require('../../infra/app');
    });
    const template = JSON.parse(readFileSync(path.join(outdir, 'VerifikErasure.template.json'), 'utf8'));
    const stage = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>).find(
      (resource) => resource.Type === 'AWS::ApiGatewayV2::Stage',
    );
    const functions: AppRun['functions'] = {};
    for (const resource of Object.values(template.Resources as Record<string, { Type: string; Properties: any }>)) {
      if (resource.Type !== 'AWS::Lambda::Function' || typeof resource.Properties.Description !== 'string') continue;
      const env = resource.Properties.Environment?.Variables ?? {};
      functions[resource.Properties.Description.split(':')[0]] = {
        rate: env.VERIFIK_RATE_LIMIT,
        burst: env.VERIFIK_BURST,
        reserved: resource.Properties.ReservedConcurrentExecutions,
      };
    }
    return { routeSettings: stage?.Properties.RouteSettings, functions };
  } catch (error) {
    return { error: error as Error };
  } finally {
    for (const [name, value] of [
      ['CDK_CONTEXT_JSON', saved.context],
      ['CDK_OUTDIR', saved.outdir],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('infra/app.ts: context apiRouteThrottling', () => {
  it('changes the limits of the routes it names, given as JSON text with -c, and keeps the others', () => {
    const run = runApp({ apiRouteThrottling: '{"POST /erasures": {"rateLimit": 50, "burstLimit": 100}}' });

    expect(run.error).toBeUndefined();
    expect(run.routeSettings).toEqual({
      'POST /erasures': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      'GET /erasures/{erasureId}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      'GET /erasures/{erasureId}/certificate': { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 5 },
      'POST /erasures/{erasureId}/extension': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 },
      'POST /portal/erasures': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'GET /portal/erasures/{erasureId}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'GET /portal/erasures/{erasureId}/certificate': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      'POST /portal/erasures/{erasureId}/extension': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 },
      // Subjects and the HubSpot hook have limits of their own (infra/constructs/subjects-and-hooks.ts).
      'PUT /subjects/{source}/{subjectId}/persons/{personId}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'GET /subjects/{source}/{subjectId}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      'PUT /portal/subjects/{source}/{subjectId}/persons/{personId}': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      'GET /portal/subjects/{source}/{subjectId}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      'POST /hooks/hubspot': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
  });

  it('takes the same value as an object, as cdk.json holds it', () => {
    const run = runApp({ apiRouteThrottling: { 'GET /portal/erasures/{erasureId}': { rateLimit: 2.5, burstLimit: 5 } } });

    expect(run.error).toBeUndefined();
    expect(run.routeSettings?.['GET /portal/erasures/{erasureId}']).toEqual({
      ThrottlingRateLimit: 2.5,
      ThrottlingBurstLimit: 5,
    });
    expect(run.routeSettings?.['POST /erasures']).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 });
  });

  it.each([
    ['text that is not JSON', '{"POST /erasures": {rateLimit: 50}}', /not valid JSON/],
    ['a list', '[]', /not an object/],
    ['an unknown route', '{"POST /erasure": {"rateLimit": 50, "burstLimit": 100}}', /unknown route "POST \/erasure"/],
    ['a missing burstLimit', '{"POST /erasures": {"rateLimit": 50}}', /"POST \/erasures" needs rateLimit/],
    ['a zero rate (it would close the route)', '{"POST /erasures": {"rateLimit": 0, "burstLimit": 10}}', /needs rateLimit/],
    ['a fractional burst', '{"POST /erasures": {"rateLimit": 5, "burstLimit": 2.5}}', /needs rateLimit/],
    ['limits given as text', '{"POST /erasures": {"rateLimit": "50", "burstLimit": "100"}}', /needs rateLimit/],
    ['an unknown field', '{"POST /erasures": {"rateLimit": 5, "burstLimit": 10, "quota": 1}}', /nothing else/],
  ])('refuses %s and synthesizes nothing', (_case, value, message) => {
    const run = runApp({ apiRouteThrottling: value });

    expect(run.error?.message).toMatch(/^context apiRouteThrottling: /);
    expect(run.error?.message).toMatch(message);
    expect(run.routeSettings).toBeUndefined();
  });
});

describe('infra/app.ts: context verifikRateLimit (the client-side pace)', () => {
  const callers = ['HTTP API', 'Direct invocation by a privacy portal', 'Retry worker on the retry queue'];
  const paceOf = (run: AppRun) => callers.map((name) => run.functions?.[name]);

  it('divides the deployment rate over every instance that may call Verifik: http 10 + invoke 5 + worker 2', () => {
    const run = runApp({ verifikRateLimit: '170' });
    expect(run.error).toBeUndefined();
    expect(paceOf(run)).toEqual([
      { rate: '10', burst: '1', reserved: 10 },
      { rate: '10', burst: '1', reserved: 5 },
      { rate: '10', burst: '1', reserved: undefined },
    ]);
    // Only the functions that call Verifik are paced.
    const others = Object.entries(run.functions!).filter(([name]) => !callers.includes(name));
    expect(others.length).toBeGreaterThan(3);
    expect(others.every(([, fn]) => fn.rate === undefined && fn.reserved === undefined)).toBe(true);
  });

  it('takes the reserved concurrency from context, and never hands out more than the rate', () => {
    const run = runApp({ verifikRateLimit: 100, verifikCallerConcurrency: '{"http": 20, "invoke": 1}' });
    expect(run.error).toBeUndefined();
    // 100 / 23 = 4.3478…, rounded down to a thousandth: 23 × 4.347 = 99.98 ≤ 100.
    expect(paceOf(run)).toEqual([
      { rate: '4.347', burst: '1', reserved: 20 },
      { rate: '4.347', burst: '1', reserved: 1 },
      { rate: '4.347', burst: '1', reserved: undefined },
    ]);
  });

  it.each([
    ['0', /verifikRateLimit must be a number of calls a second above 0, not 0/],
    ['-3', /above 0/],
    ['many', /above 0, not null/],
    ['', /above 0/],
  ])('refuses the rate %p and synthesizes nothing', (rate, message) => {
    const run = runApp({ verifikRateLimit: rate });
    expect(run.error?.message).toMatch(message);
    expect(run.functions).toBeUndefined();
  });

  it('refuses a caller concurrency below one', () => {
    const run = runApp({ verifikRateLimit: '10', verifikCallerConcurrency: '{"http": 0, "invoke": 1}' });
    expect(run.error?.message).toMatch(/verifikCallerConcurrency must be/);
  });
});
