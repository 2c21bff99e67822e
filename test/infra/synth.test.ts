import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The variables lambda/config.ts insists on at cold start; nothing here reaches AWS. */
const COLD_START_ENV = {
  VERIFIK_BASE_URL: 'https://api.verifik.co',
  AUDIT_TABLE_NAME: 'audit',
  RETRY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dead-letters',
  // Each function names where its secrets are at cold start (they are read only when a request needs them).
  VERIFIK_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:verifik-token',
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook',
  SUBJECT_REF_PEPPER_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pepper',
  HUBSPOT_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hubspot',
  CALLBACK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:callback',
  CALLBACK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/callbacks',
  ARCHIVE_BUCKET_NAME: 'verifik-erasure-archive',
  ARCHIVE_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-1111-2222-3333-444444444444',
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/** Loads a bundle the way the Lambda runtime does (an ES module on Node 24) and runs `script` against it. */
function runBundle(bundle: string, script: string): { status: number | null; stdout: string; stderr: string } {
  const source = `const m = await import(${JSON.stringify(bundle)});\n${script}`;
  return spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', source], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...COLD_START_ENV },
    timeout: 30_000,
  });
}

/** Upper bound for a handler bundle: they are about 0.95 MB today; a jump means a dependency came along. */
const BUNDLE_BUDGET_BYTES = 1_500_000;

/**
 * `cdk synth` exactly as an operator runs it (cdk.json → tsx infra/app.ts), offline, bundling for
 * real with the local esbuild and running cdk-nag: a finding nobody acknowledged fails it.
 */
describe('npx cdk synth', () => {
  let outdir: string;
  let result: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'verifik-erasure-synth-'));
    result = spawnSync(
      process.execPath,
      [path.join(process.cwd(), 'node_modules/aws-cdk/bin/cdk'), 'synth', '--no-notices', '-q', '-o', outdir],
      {
        cwd: process.cwd(),
        encoding: 'utf8',
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DEFAULT_REGION: '', CDK_DEFAULT_ACCOUNT: '' },
        timeout: 170_000,
      },
    );
  }, 180_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const assetFolders = () =>
    readdirSync(outdir)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => path.join(outdir, name));

  it('succeeds with cdk-nag and the template checks clean', () => {
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(existsSync(path.join(outdir, 'VerifikErasure.template.json'))).toBe(true);
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    for (const plugin of report.pluginReports) expect(plugin.violations).toEqual([]);
  });

  it('bundles each handler into a minified ESM file with an external source map', () => {
    const folders = assetFolders();

    // http, invoke, worker, the token rotation, the archiver, the deadline check, the callback delivery
    // and the deploy-time public key reader.
    expect(folders).toHaveLength(8);
    for (const folder of folders) {
      const bundle = path.join(folder, 'index.mjs');
      const code = readFileSync(bundle, 'utf8');
      expect(code.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(
        true,
      );
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      // Minified: a few very long lines (newlines survive only inside template literals).
      expect(code.length / code.split('\n').length).toBeGreaterThan(2_000);
      expect(statSync(bundle).size).toBeLessThan(BUNDLE_BUDGET_BYTES);
      const map = JSON.parse(readFileSync(path.join(folder, 'index.mjs.map'), 'utf8'));
      expect(map.sourcesContent).toBeUndefined();
      expect(map.sources.some((source: string) => source.includes('lambda/handlers/'))).toBe(true);
    }
  });

  it('loads every bundle as an ES module on Node 24 and finds its handler', () => {
    for (const folder of assetFolders()) {
      const run = runBundle(path.join(folder, 'index.mjs'), 'console.log(typeof m.handler);');

      expect({ status: run.status, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({
        status: 0,
        stdout: 'function',
        stderr: '',
      });
    }
  });

  it('answers an API Gateway v2 event through the bundled HTTP handler', () => {
    const http = assetFolders().find((folder) =>
      readFileSync(path.join(folder, 'index.mjs.map'), 'utf8').includes('handlers/http.ts'),
    )!;
    const event = {
      version: '2.0',
      routeKey: 'POST /erasures',
      rawPath: '/erasures',
      rawQueryString: '',
      headers: { 'content-type': 'text/plain' },
      requestContext: {
        http: { method: 'POST', path: '/erasures' },
        requestId: 'r-1',
        routeKey: 'POST /erasures',
        stage: '$default',
      },
      body: 'not json',
      isBase64Encoded: false,
    };
    const context = '{ getRemainingTimeInMillis: () => 15000, awsRequestId: "a-1", functionName: "http" }';

    const run = runBundle(
      path.join(http, 'index.mjs'),
      `const answer = await m.handler(${JSON.stringify(event)}, ${context}); process.stdout.write(JSON.stringify(answer));`,
    );

    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ statusCode: 415 });
  });
});
