import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { readConfig } from '../../lambda/config';
import { ARCHIVE_METRIC_NAMES } from '../../lambda/archive/ports';
import { CALLBACK_METRIC_NAMES, DEADLINE_METRIC_NAMES, METRIC_NAMES, PENDING_AGE_METRIC } from '../../lambda/erasure/ports';
import { TOKEN_METRIC_NAMES } from '../../lambda/rotation/token-rotation';
import { secretsFromEnvironment } from '../../lambda/secrets/secrets';
import { VerifikErasureStack } from '../../infra/stack';
import { testContext } from '../infra/stack-template';

/**
 * The pages users read must not drift from the code: every relative link resolves inside the
 * repository, and every alarm, output, metric, parameter, context key and environment variable they
 * name exists. The conventions the pages follow (docs/development.md, "Tests"):
 * - a table whose first column is headed Alarm, Output, Metric, Parameter, Context or Variable lists
 *   names of that kind, in backticks, in that column; between them, those tables list every such name;
 * - in running text, "the `X` alarm" or "alarm `X`" (and so on for each kind) names one of that kind;
 * - in commands, `<Name>` with a capital is an output, `--parameters Name=` a parameter, `-c name=` a
 *   context key;
 * - any other backticked PascalCase or UPPER_CASE word is a known name or appears in the code.
 */

const ROOT = process.cwd();
const PAGES = [
  'README.md',
  'SECURITY.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

type Kind = 'alarm' | 'output' | 'metric' | 'parameter' | 'context' | 'variable';
const KINDS: readonly Kind[] = ['alarm', 'output', 'metric', 'parameter', 'context', 'variable'];
/** What a name of each kind looks like; a backticked word of another shape next to the kind's word is not a name of it. */
const SHAPE: Record<Kind, RegExp> = {
  alarm: /^[A-Z][A-Za-z0-9]*$/,
  output: /^[A-Z][A-Za-z0-9]*$/,
  metric: /^[A-Z][A-Za-z0-9]*$/,
  parameter: /^[A-Z][A-Za-z0-9]*$/,
  context: /^[a-z][A-Za-z0-9]*$/,
  variable: /^[A-Z][A-Z0-9_]*$/,
};
/** Names that are none of ours and appear nowhere in the code, each with why the pages use it. */
const EXTERNAL_NAMES: Record<string, string> = {
  AdministratorAccess: 'AWS managed policy',
  PowerUserAccess: 'AWS managed policy',
  BlockPublicPolicy: 'Secrets Manager resource policy option',
  ConditionCheckItem: 'DynamoDB action no role is granted',
  SourceArn: 'condition of a Lambda resource policy',
  INSUFFICIENT_DATA: 'CloudWatch alarm state',
};
/** Names CDK adds to every stack, which the pages need not list. */
const CDK_PARAMETERS = new Set(['BootstrapVersion']);

// ---------------------------------------------------------------- the names the code has

/** Every key `read` looks up in the environment it is given (it may fail: an empty environment is invalid). */
async function variablesRead(read: (env: NodeJS.ProcessEnv) => unknown): Promise<string[]> {
  const seen = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, key) => {
      if (typeof key === 'string') seen.add(key);
      return undefined;
    },
    has: (_target, key) => {
      if (typeof key === 'string') seen.add(key);
      return false;
    },
  });
  try {
    await read(env);
  } catch {
    // What matters is what was looked up.
  }
  return [...seen].filter((key) => /^[A-Z][A-Z0-9_]*$/.test(key));
}

/** The secrets' variables: `<NAME>_SECRET_ARN` looked up at once, `<NAME>` when a secret is read without one. */
const secretVariables = () =>
  variablesRead((env) => {
    const secrets = secretsFromEnvironment(env);
    return Promise.allSettled([secrets.verifikToken(), secrets.webhookSecrets(), secrets.pepper(), secrets.callbackSecret()]);
  });

const source = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const filesUnder = (folder: string): string[] =>
  readdirSync(path.join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return filesUnder(relative);
    return /\.(ts|mjs|cjs|js|json)$/.test(entry.name) ? [relative] : [];
  });
const matchesOf = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((match) => match[1]!);

interface Known {
  names: Record<Kind, Set<string>>;
  /** The code's text, for the names the pages mention that are not ours (AWS API actions, classes...). */
  code: string;
}

async function knownNames(): Promise<Known> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'verifik-erasure-docs-'));
  try {
    const app = new App({ outdir, context: testContext() });
    const stack = new VerifikErasureStack(app, 'VerifikErasure');
    const template = Template.fromStack(stack).toJSON();
    const resources = Object.values(template.Resources as Record<string, { Type: string; Properties?: any }>);
    const ofType = (type: string) => resources.filter((resource) => resource.Type === type);

    const alarms = stack.node.findAll().filter((construct): construct is Alarm => construct instanceof Alarm);
    if (alarms.length !== ofType('AWS::CloudWatch::Alarm').length) {
      throw new Error('an alarm of the template is not an Alarm construct: teach this test its name');
    }
    const alarmNames = alarms.map((alarm) => alarm.node.id);
    for (const resource of ofType('AWS::CloudWatch::Alarm')) {
      if (typeof resource.Properties?.AlarmName === 'string') alarmNames.push(resource.Properties.AlarmName);
    }

    const localSources = filesUnder('infra/local').map(source).join('\n');
    const variables = [
      ...(await variablesRead((env) => readConfig('http', env))),
      ...(await variablesRead((env) => readConfig('invoke', env))),
      ...(await variablesRead((env) => readConfig('worker', env))),
      ...(await variablesRead((env) => readConfig('deadlines', env))),
      ...(await variablesRead((env) => readConfig('rotation', env))),
      ...(await variablesRead((env) => readConfig('callbacks', env))),
      ...(await secretVariables()),
      ...matchesOf(localSources, /\benv\.([A-Z][A-Z0-9_]+)/g),
      ...ofType('AWS::Lambda::Function').flatMap((fn) => Object.keys(fn.Properties?.Environment?.Variables ?? {})),
    ];
    const metrics = [
      ...METRIC_NAMES,
      PENDING_AGE_METRIC,
      ...DEADLINE_METRIC_NAMES,
      ...CALLBACK_METRIC_NAMES,
      ...TOKEN_METRIC_NAMES,
      ...ARCHIVE_METRIC_NAMES,
      ...ofType('AWS::Logs::MetricFilter').flatMap((filter) =>
        (filter.Properties?.MetricTransformations ?? []).map((t: { MetricName: string }) => t.MetricName),
      ),
    ];
    const code = ['lambda', 'infra', 'scripts', 'bench']
      .flatMap(filesUnder)
      .concat(['package.json', 'cdk.json'])
      .map(source)
      .join('\n');
    return {
      names: {
        alarm: new Set(alarmNames),
        output: new Set(Object.keys(template.Outputs ?? {})),
        metric: new Set(metrics),
        parameter: new Set(Object.keys(template.Parameters ?? {})),
        context: new Set(matchesOf(source('infra/app.ts'), /tryGetContext\('([^']+)'\)/g)),
        variable: new Set(variables),
      },
      code,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the pages

interface Page {
  file: string;
  /** Lines outside fenced code blocks. */
  prose: string[];
  /** Lines inside fenced code blocks. */
  code: string[];
  /** Headings' anchors, as GitHub makes them. */
  anchors: Set<string>;
}

const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function readPage(file: string): Page {
  const page: Page = { file, prose: [], code: [], anchors: new Set() };
  let fence: string | undefined;
  const counts = new Map<string, number>();
  for (const line of source(file).split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence !== undefined) {
      page.code.push(line);
      continue;
    }
    page.prose.push(line);
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1];
    if (heading) {
      const base = slug(heading);
      const seen = counts.get(base) ?? 0;
      counts.set(base, seen + 1);
      page.anchors.add(seen === 0 ? base : `${base}-${seen}`);
    }
  }
  return page;
}

/** The cells of a table row; a `|` inside a code span does not split. */
function cells(row: string): string[] {
  const result: string[] = [];
  let cell = '';
  let inCode = false;
  for (const char of row.trim().replace(/^\||\|$/g, '')) {
    if (char === '`') inCode = !inCode;
    if (char === '|' && !inCode) {
      result.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  result.push(cell.trim());
  return result;
}

const codeSpans = (text: string) => matchesOf(text, /`([^`\n]+)`/g);

interface TypedRow {
  kind: Kind;
  line: string;
  names: string[];
}

/** The first-column names of every table headed by a kind. */
function typedRows(page: Page): TypedRow[] {
  const rows: TypedRow[] = [];
  for (let i = 0; i + 1 < page.prose.length; i++) {
    const isTableStart = page.prose[i]!.trimStart().startsWith('|') && /^\s*\|\s*:?-{3,}/.test(page.prose[i + 1]!);
    if (!isTableStart || (i > 0 && page.prose[i - 1]!.trimStart().startsWith('|'))) continue;
    const header = cells(page.prose[i]!)[0]!.replace(/`/g, '').trim().toLowerCase();
    const kind = KINDS.find((k) => header === k || header === `${k}s`);
    if (!kind) continue;
    for (let j = i + 2; j < page.prose.length && page.prose[j]!.trimStart().startsWith('|'); j++) {
      rows.push({ kind, line: page.prose[j]!, names: codeSpans(cells(page.prose[j]!)[0]!) });
    }
  }
  return rows;
}

/** Names given their kind in running text: "the `X` alarm", "alarm `X`", "environment variable `X`". */
function typedMentions(page: Page): { kind: Kind; name: string }[] {
  const text = page.prose.join(' ');
  const words = KINDS.join('|');
  const mentions = [
    ...[...text.matchAll(new RegExp(`\`([A-Za-z][A-Za-z0-9_]*)\`\\s+(${words})s?\\b`, 'gi'))].map((m) => ({
      name: m[1]!,
      kind: m[2]!.toLowerCase() as Kind,
    })),
    ...[...text.matchAll(new RegExp(`\\b(${words})s?\\s+\`([A-Za-z][A-Za-z0-9_]*)\``, 'gi'))].map((m) => ({
      name: m[2]!,
      kind: m[1]!.toLowerCase() as Kind,
    })),
  ];
  return mentions.filter(({ kind, name }) => SHAPE[kind].test(name));
}

/** Names used in commands: `<Output>` placeholders, `--parameters Name=`, `-c name=`. */
function commandMentions(page: Page): { kind: Kind; name: string }[] {
  const text = [...page.prose, ...page.code].join('\n');
  return [
    ...matchesOf(text, /<([A-Z][A-Za-z0-9]*)>/g).map((name) => ({ kind: 'output' as const, name })),
    ...matchesOf(text, /--parameters\s+([A-Za-z0-9]+)=/g).map((name) => ({ kind: 'parameter' as const, name })),
    ...matchesOf(text, /(?:^|[\s`(])(?:-c|--context)\s+'?([A-Za-z][A-Za-z0-9:-]*)=/g).map((name) => ({
      kind: 'context' as const,
      name,
    })),
  ];
}

interface Link {
  target: string;
}

function links(page: Page): Link[] {
  return [
    // Inline links, their text possibly wrapped over lines.
    ...matchesOf(page.prose.join(' '), /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
    // Reference definitions: `[label]: target`.
    ...matchesOf(page.prose.join('\n'), /^\s*\[[^\]]+\]:\s*(\S+)/gm),
  ].map((target) => ({ target }));
}

const article = (kind: Kind) => (/^[aeiou]/.test(kind) ? 'an' : 'a');
const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

// ---------------------------------------------------------------- the checks

describe('the documentation', () => {
  let known: Known;
  let pages: Page[];

  beforeAll(async () => {
    known = await knownNames();
    pages = PAGES.map(readPage);
  }, 30_000);

  it('finds the names in the code it checks the pages against', () => {
    expect(known.names.alarm).toContain('DeadLetters');
    expect(known.names.output).toContain('ApiUrl');
    for (const metric of ['PendingAge', 'ApiThrottled', 'Erased']) expect(known.names.metric).toContain(metric);
    expect(known.names.parameter).toContain('VerifikBaseUrl');
    expect(known.names.context).toEqual(
      new Set(['auditTableEncryption', 'stackName', 'apiRouteThrottling', 'verifikRateLimit', 'verifikCallerConcurrency']),
    );
    for (const variable of ['RETRY_SCHEDULE', 'RESERVE_MS', 'VERIFIK_TOKEN', 'WEBHOOK_SECRET_ARN', 'PORT', 'AUDIT_TABLE_NAME']) {
      expect(known.names.variable).toContain(variable);
    }
  });

  it('recognises the conventions in the pages (so that a check finding nothing means something)', () => {
    const kindsWithTables = new Set(pages.flatMap((page) => typedRows(page).map((row) => row.kind)));

    expect([...kindsWithTables].sort()).toEqual([...KINDS].sort());
    expect(pages.flatMap(typedMentions).length).toBeGreaterThan(10);
    expect(new Set(pages.flatMap(commandMentions).map((mention) => mention.kind))).toEqual(
      new Set(['output', 'parameter', 'context']),
    );
    expect(pages.flatMap(links).length).toBeGreaterThan(20);
  });

  it('links only to files and headings that exist inside the repository', () => {
    const broken: string[] = [];
    const byFile = new Map(pages.map((page) => [page.file, page]));
    for (const page of pages) {
      for (const { target } of links(page)) {
        if (isExternal(target)) continue;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const resolved = file === '' ? path.join(ROOT, page.file) : path.resolve(path.dirname(path.join(ROOT, page.file)), file);
        const relative = path.relative(ROOT, resolved);
        if (relative.startsWith('..') || path.isAbsolute(relative) || !existsSync(resolved)) {
          broken.push(`${page.file}: ${target} (no such file in the repository)`);
          continue;
        }
        if (anchor === undefined || !relative.endsWith('.md') || statSync(resolved).isDirectory()) continue;
        const linked = byFile.get(relative.split(path.sep).join('/')) ?? readPage(relative);
        if (!linked.anchors.has(anchor)) broken.push(`${page.file}: ${target} (no such heading)`);
      }
    }

    expect(broken).toEqual([]);
  });

  it('keeps README.md free of links outside the repository: the project describes its own API and rules', () => {
    const readme = pages.find((page) => page.file === 'README.md')!;

    expect(links(readme).filter(({ target }) => isExternal(target))).toEqual([]);
  });

  it('names in its typed tables only alarms, outputs, metrics, parameters, context keys and variables that exist', () => {
    const unknown: string[] = [];
    for (const page of pages) {
      for (const row of typedRows(page)) {
        if (row.names.length === 0)
          unknown.push(`${page.file}: ${article(row.kind)} ${row.kind} row without a backticked name: ${row.line}`);
        for (const name of row.names) {
          if (!known.names[row.kind].has(name)) unknown.push(`${page.file}: ${row.kind} \`${name}\``);
        }
      }
    }

    expect(unknown).toEqual([]);
  });

  it.each(KINDS)('lists every %s of the code in a table of its kind', (kind) => {
    const listed = new Set(
      pages.flatMap((page) =>
        typedRows(page)
          .filter((row) => row.kind === kind)
          .flatMap((row) => row.names),
      ),
    );
    const expected = [...known.names[kind]].filter((name) => !(kind === 'parameter' && CDK_PARAMETERS.has(name)));

    expect(expected.filter((name) => !listed.has(name)).sort()).toEqual([]);
  });

  it('gives a name its right kind in running text and in commands', () => {
    const wrong: string[] = [];
    for (const page of pages) {
      for (const { kind, name } of [...typedMentions(page), ...commandMentions(page)]) {
        if (!known.names[kind].has(name)) wrong.push(`${page.file}: \`${name}\` is not ${article(kind)} ${kind}`);
      }
    }

    expect(wrong).toEqual([]);
  });

  it('names nothing that looks like a name unless the stack, the configuration or the code has it', () => {
    const all = new Set(KINDS.flatMap((kind) => [...known.names[kind]]));
    const nameShaped = /^(?:[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)$/;
    const unknown = new Set<string>();
    for (const page of pages) {
      for (const span of codeSpans(page.prose.join('\n'))) {
        if (!nameShaped.test(span) || all.has(span) || span in EXTERNAL_NAMES) continue;
        if (!new RegExp(`\\b${span}\\b`).test(known.code)) unknown.add(`${page.file}: \`${span}\``);
      }
    }

    expect([...unknown]).toEqual([]);
  });

  it('lists as external only names the pages use and the code does not have', () => {
    const spans = new Set(pages.flatMap((page) => codeSpans(page.prose.join('\n'))));
    const stale = Object.keys(EXTERNAL_NAMES).filter((name) => !spans.has(name) || new RegExp(`\\b${name}\\b`).test(known.code));

    expect(stale).toEqual([]);
  });
});
