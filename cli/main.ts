import { getEventListeners } from 'node:events';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SOFTWARE } from '../lambda/certificate/software';
import { PERSON_ID_PATTERN } from '../lambda/erasure/rules';
import { SUBJECT_FORMAT, subjectOf, type Subject } from './subject';
import type { EraseOptions } from './commands/erase';
import { CliError, EXIT, UsageError, errorLine, type ExitCode } from './errors';
import { INPUT_FORMATS } from './erase-input';
import { stdOutput, type Output } from './output';
import type { AuditTable, TableOptions, TargetOptions } from './targets';

// The subcommands and targets load when one runs: the AWS SDK's clients take a while to load, and
// `--help` or a usage error needs none of them.
const load = {
  targets: () => import('./targets'),
  erase: () => import('./commands/erase'),
  records: () => import('./commands/records'),
  audit: () => import('./commands/audit'),
  maintenance: () => import('./commands/maintenance'),
};
const apiTarget = async (options: TargetOptions) => (await load.targets()).apiTarget(options);
const deployedStack = async (options: TargetOptions) => (await load.targets()).deployedStack(options);

interface GlobalOptions extends TargetOptions {
  json?: boolean;
}

const whole = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number, at least ${min}.`);
  return n;
};
const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number, 0 or more.`);
  return n;
};

/** The command line's arguments with `--from-line` set to `line`, quoted for a POSIX shell. */
export function resumeCommand(argv: readonly string[], line: number): string {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--from-line') i += 1;
    else if (!arg.startsWith('--from-line=')) args.push(arg);
  }
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  return ['npx', 'verifik-erasure', ...args, '--from-line', String(line)].map(quote).join(' ');
}

const tableOptions = (command: Command) =>
  command
    .option('--endpoint <url>', 'a local DynamoDB engine (npm start prints its endpoint); dummy credentials')
    .option('--table <name>', 'the audit table (default: AUDIT_TABLE_NAME, else verifik-erasure-audit)');

/** The program: subcommands, their options and help. `run` resolves with the exit code. */
export function program(argv: readonly string[], signal: AbortSignal): { run: () => Promise<ExitCode> } {
  let exitCode: ExitCode = EXIT.ok;
  const cli = new Command('verifik-erasure')
    .description(
      'GDPR erasures at Verifik and their audit trail, for a privacy operator.\n' +
        'Targets: --url (a local or signed stack, requests signed with WEBHOOK_SECRET) or --stack (a deployed stack,\n' +
        'IAM routes signed with your AWS credentials). Exit codes: 0 ok, 1 something failed, 2 usage,\n' +
        '3 unreachable or misconfigured, 4 no such erasure, 130 interrupted. See docs/cli.md.',
    )
    .version(SOFTWARE.version, '-V, --version')
    .option('--url <url>', "the stack's base URL (default http://localhost:$PORT, 3000); signs with WEBHOOK_SECRET")
    .option('--stack <name>', 'a deployed CloudFormation stack: its outputs, and SigV4 with your AWS credentials')
    .option('--region <region>', 'AWS region of --stack (default: your AWS configuration)')
    .addOption(
      new Option('--timeout <seconds>', 'give up on one HTTP request after this long')
        .default(30)
        .argParser(positive('--timeout')),
    )
    .option('--json', 'machine-readable output on stdout (one JSON document; its shape is documented per command)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`verifik-erasure: ${text.replace(/^error: /, '').trim()}\n`) });

  const globals = (command: Command) => command.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
  const outputOf = (command: Command): Output => stdOutput(globals(command).json === true);
  const action =
    <A extends unknown[]>(body: (...args: A) => Promise<ExitCode>) =>
    async (...args: A) => {
      exitCode = await body(...args);
    };
  const withTable = async <T>(options: TableOptions, use: (table: AuditTable) => Promise<T>) => {
    const table = await (await load.targets()).auditTable(options);
    try {
      return await use(table);
    } finally {
      table.close();
    }
  };

  cli
    .command('erase')
    .description('erase persons: the ids given (one erasure), or one erasure per line of --file')
    .argument('[personIds...]', 'Verifik person ids (at most 100)')
    .option(
      '--file <path>',
      'a CSV (a person id or source:id per line, or personId and subject columns) or JSON-lines file ("id", "source:id", or {"personId": …, "subject": …})',
    )
    .addOption(new Option('--format <format>', "the file's format (default: from its extension)").choices(INPUT_FORMATS))
    .option('--batch <name>', "names the batch (erasure ids <batch>-L<line>); default: f + the file's SHA-256")
    .addOption(
      new Option('--from-line <n>', 'send lines from this one on (a resume)').default(1).argParser(whole('--from-line', 1)),
    )
    .addOption(new Option('--concurrency <n>', 'requests at once').default(4).argParser(whole('--concurrency', 1)))
    .addOption(new Option('--rate <n>', 'requests per second at most (0: no limit)').default(10).argParser(positive('--rate')))
    .addOption(
      new Option('--retries <n>', 'retries of a line while the server is unreachable or answers 429/5xx')
        .default(5)
        .argParser(whole('--retries', 0)),
    )
    .addOption(
      new Option('--retry-delay <ms>', 'first pause before a retry (doubles each time)')
        .default(1000)
        .argParser(whole('--retry-delay', 1)),
    )
    .option('--report <file>', "write every line's result as JSON lines")
    .option('--no-progress', 'no progress on stderr')
    .addOption(
      new Option('--progress-interval <ms>', 'progress line interval when stderr is not a terminal')
        .default(2000)
        .argParser(whole('--progress-interval', 100)),
    )
    .option('--subject <source:id>', 'a CRM subject: the persons linked to it are erased (instead of, or besides, ids)')
    .option('--id <erasureId>', 'the erasure id (ids given on the command line; default: a new one)')
    .option('--subject-ref <ref>', "the CRM's reference of the data subject (stored as a keyed hash)")
    .option('--reason <text>', 'why (kept in the record)', 'gdpr-art-17')
    .option('--requested-by <name>', 'who asks (kept in the record; an IAM call records your principal)', 'cli')
    .action(
      action(async (personIds: string[], options: EraseOptions & { subject?: string }, command: Command) => {
        const g = globals(command);
        const subject = options.subject === undefined ? undefined : parseSubject(options.subject);
        return (await load.erase()).erase(() => apiTarget(g), personIds, { ...options, subject }, outputOf(command), {
          signal,
          resumeCommand: (line) => resumeCommand(argv, line),
        });
      }),
    );

  cli
    .command('status')
    .description("an erasure's record: its status and each person's outcome")
    .argument('<erasureId>')
    .action(
      action(async (erasureId: string, _options: object, command: Command) =>
        (await load.records()).status(await apiTarget(globals(command)), erasureId, outputOf(command)),
      ),
    );

  cli
    .command('certificate')
    .description('the signed certificate of erasure (JSON, verifiable offline; or --html, printable)')
    .argument('<erasureId>')
    .option('--html', 'the printable HTML page')
    .option('--out <file>', 'write it to this file')
    .action(
      action(async (erasureId: string, options: { html?: boolean; out?: string }, command: Command) =>
        (await load.records()).certificate(await apiTarget(globals(command)), erasureId, options, outputOf(command)),
      ),
    );

  cli
    .command('extend')
    .description("extend an erasure's due date once, by 1 or 2 months (GDPR art. 12(3)), before it is due")
    .argument('<erasureId>')
    .addOption(new Option('--months <n>', 'further months').choices(['1', '2']).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why (kept in the record, shown on the certificate)')
    .action(
      action(async (erasureId: string, options: { months: string; reason: string }, command: Command) =>
        (await load.records()).extend(
          await apiTarget(globals(command)),
          erasureId,
          { months: Number(options.months), reason: options.reason },
          outputOf(command),
        ),
      ),
    );

  tableOptions(
    cli
      .command('find')
      .description('every erasure that touched a person, newest first (reads the audit table)')
      .option('--person <personId>', 'a Verifik person id')
      .option('--subject <source:id>', 'a CRM subject (asks the service: its linked persons and the erasures that named it)')
      .addOption(new Option('--limit <n>', 'at most this many').default(100).argParser(whole('--limit', 1))),
  ).action(
    action(async (options: { person?: string; subject?: string; limit: number }, command: Command) => {
      if (options.subject && options.person) throw new UsageError('find takes --person or --subject, not both.');
      if (options.subject) {
        const subject = parseSubject(options.subject);
        return (await load.records()).findSubject(await apiTarget(globals(command)), subject, outputOf(command));
      }
      if (!options.person) throw new UsageError('find needs --person <personId> or --subject <source:id>.');
      return withTable(globals(command), async (table) =>
        (await load.audit()).findPerson(table, options.person!, options.limit, outputOf(command)),
      );
    }),
  );

  tableOptions(
    cli
      .command('list')
      .description('erasures received in [--from, --to), oldest first (reads the audit table)')
      .requiredOption('--from <date>', 'ISO 8601 date or date-time, inclusive (UTC unless an offset is given)')
      .requiredOption('--to <date>', 'exclusive')
      .addOption(new Option('--status <status>', 'only these').choices(['pending', 'completed', 'failed']))
      .addOption(new Option('--limit <n>', 'at most this many').default(1000).argParser(whole('--limit', 1))),
  ).action(
    action(async (options: { from: string; to: string; status?: string; limit: number }, command: Command) =>
      withTable(globals(command), async (table) => (await load.audit()).list(table, options, outputOf(command))),
    ),
  );

  tableOptions(
    cli
      .command('export')
      .description('every erasure received in [--from, --to), CSV or JSON lines, for the record of processing')
      .requiredOption('--from <date>', 'ISO 8601 date or date-time, inclusive')
      .requiredOption('--to <date>', 'exclusive')
      .addOption(new Option('--format <format>').choices(['csv', 'jsonl']).default('csv'))
      .option('--out <file>', 'write to this new file (refuses to overwrite)'),
  ).action(
    action(async (options: { from: string; to: string; format: string; out?: string }, command: Command) =>
      withTable(globals(command), async (table) => (await load.audit()).exportRecords(table, options, outputOf(command))),
    ),
  );

  tableOptions(
    cli
      .command('verify')
      .description('check the tamper-evidence archive: its chain, its signed digests, and the table against it')
      .option('--folder <dir>', "an archive folder (npm start's, or a bucket copied with aws s3 sync)")
      .option('--public-key <file>', "the archive key's public key (PEM or DER)")
      .option('--archive-only', 'check the archive alone, not the table against it')
      .addOption(
        new Option('--from-batch <n>', 'batches before this one have expired').default(1).argParser(whole('--from-batch', 1)),
      ),
  ).action(
    action(
      async (
        options: TableOptions & { folder?: string; publicKey?: string; archiveOnly?: boolean; fromBatch: number },
        command: Command,
      ) => {
        const g = globals(command);
        const stack = await deployedStack(g);
        const withItems = !options.archiveOnly && Boolean(stack || options.endpoint || options.table);
        const table = withItems ? await (await load.targets()).auditTable(g) : undefined;
        try {
          return await (
            await load.maintenance()
          ).verify(
            stack,
            table,
            { folder: options.folder, publicKey: options.publicKey, fromBatch: options.fromBatch, withTable: withItems },
            outputOf(command),
          );
        } finally {
          table?.close();
        }
      },
    ),
  );

  cli
    .command('redrive')
    .description('move dead letters back to the retry queue (after fixing the cause), so failed persons are retried')
    .option('--status', 'with --stack: the move tasks and their progress')
    .action(
      action(async (options: { status?: boolean }, command: Command) => {
        const g = globals(command);
        return (await load.maintenance()).redrive(await deployedStack(g), () => apiTarget(g), options, outputOf(command));
      }),
    );

  cli
    .command('link')
    .description('link a CRM subject to a Verifik person, at enrollment (so that an erasure by subject finds it)')
    .argument('<source:subjectId>')
    .argument('<personId>')
    .action(
      action(async (subject: string, personId: string, _options: object, command: Command) => {
        if (!PERSON_ID_PATTERN.test(personId))
          throw new UsageError(`${JSON.stringify(personId)} is not a Verifik person id (1 to 64 of A-Z a-z 0-9 _ -).`);
        return (await load.records()).link(await apiTarget(globals(command)), parseSubject(subject), personId, outputOf(command));
      }),
    );

  return {
    run: async () => {
      try {
        await cli.parseAsync(argv, { from: 'user' });
        return exitCode;
      } catch (error) {
        if (error instanceof CommanderError) {
          const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
          return ok ? EXIT.ok : EXIT.usage;
        }
        process.stderr.write(`${errorLine(error)}\n`);
        return error instanceof CliError ? error.exitCode : EXIT.failed;
      }
    },
  };
}

/** Runs the process's command line: Ctrl-C stops a file run cleanly once; a second Ctrl-C exits at once. */
export async function runAsProgram(): Promise<never> {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    // Only a file run listens: it stops cleanly. Anything else, or a second Ctrl-C, ends at once.
    if (interrupt.signal.aborted || getEventListeners(interrupt.signal, 'abort').length === 0) process.exit(EXIT.interrupted);
    interrupt.abort();
  });
  const code = await program(process.argv.slice(2), interrupt.signal).run();
  // Exit once what was written has gone out (HTTP keep-alive sockets would hold the process a while).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

/** `source:subjectId` (hubspot:8812): the source as the service names it, the id as the CRM does. */
function parseSubject(value: string): Subject {
  const subject = subjectOf(value);
  if (!subject) throw new UsageError(`${JSON.stringify(value)} is not a subject: write ${SUBJECT_FORMAT}.`);
  return subject;
}
