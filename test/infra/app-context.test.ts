import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { testContext } from './stack-template';

interface AppRun {
  routeSettings?: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
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
    return { routeSettings: stage?.Properties.RouteSettings };
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
