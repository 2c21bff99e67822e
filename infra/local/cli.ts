import { parseArgs } from 'node:util';
import { parseWebhookSecrets } from '../../lambda/secrets/secrets';
import { ErasureApiClient, newMessageId } from './signed-client';

const USAGE = `usage:
  npm run erasure -- erase <personId...> [--url URL] [--id ERASURE_ID] [--subject-ref REF] [--reason TEXT] [--requested-by NAME]
  npm run erasure -- status <erasureId> [--url URL]
  npm run erasure -- certificate <erasureId> [--url URL] [--html]
  npm run erasure -- extend <erasureId> --months 1|2 --reason TEXT [--url URL]
Signs with the first secret in WEBHOOK_SECRET. URL defaults to http://localhost:$PORT (3000).`;

/** The operator's command line: signed requests to a local or deployed stack. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      id: { type: 'string' },
      'subject-ref': { type: 'string' },
      reason: { type: 'string' },
      'requested-by': { type: 'string' },
      html: { type: 'boolean' },
      months: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  const extendUsage = command === 'extend' && (values.months === undefined || values.reason === undefined);
  if (
    values.help ||
    !command ||
    args.length === 0 ||
    !['erase', 'status', 'certificate', 'extend'].includes(command) ||
    extendUsage
  ) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const [secret] = parseWebhookSecrets(process.env.WEBHOOK_SECRET ?? '', 'WEBHOOK_SECRET');
  const url = values.url ?? `http://localhost:${process.env.PORT ?? 3000}`;
  const client = new ErasureApiClient(url, secret!);
  const answer =
    command === 'erase'
      ? await client.erase(
          {
            personIds: args,
            subjectRef: values['subject-ref'],
            reason: values.reason ?? 'gdpr-art-17',
            requestedBy: values['requested-by'] ?? 'cli',
          },
          values.id ?? newMessageId(),
        )
      : command === 'certificate'
        ? await client.certificate(args[0]!, { html: values.html === true })
        : command === 'extend'
          ? await client.extend(args[0]!, { months: Number(values.months), reason: values.reason! })
          : await client.status(args[0]!);
  if (command === 'certificate' && answer.status === 200) {
    // Only the document on stdout, so it can be saved and verified as it is.
    process.stdout.write(typeof answer.body === 'string' ? answer.body : `${JSON.stringify(answer.body, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`HTTP ${answer.status}\n${JSON.stringify(answer.body, null, 2)}\n`);
  return answer.status < 300 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`erasure: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
