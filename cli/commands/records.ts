import { writeFile } from 'node:fs/promises';
import { configurationProblem, describeAnswer, notFound, reach, type ApiAnswer, type ApiTarget } from '../api-target';
import { CliError, EXIT, type ExitCode } from '../errors';
import { printJson, recordText, type Output } from '../output';

/** A call on one erasure: exit 3 for a configuration problem, 4 when it does not exist. */
async function call(api: ApiTarget, erasureId: string, send: () => Promise<ApiAnswer>): Promise<ApiAnswer> {
  const answer = await reach(api, send);
  const problem = configurationProblem(api, answer);
  if (problem) throw problem;
  if (answer.status === 404) throw notFound(erasureId);
  return answer;
}

/** `status <id>`: the erasure record. */
export async function status(api: ApiTarget, erasureId: string, output: Output): Promise<ExitCode> {
  const answer = await call(api, erasureId, () => api.read(erasureId));
  if (answer.status !== 200) throw new CliError(`Could not read erasure ${erasureId}: ${describeAnswer(answer)}.`, EXIT.failed);
  if (output.json) printJson(output, answer.body);
  else output.out(recordText(answer.body));
  return EXIT.ok;
}

/**
 * `certificate <id>`: the signed certificate of erasure, JSON (verifiable offline with
 * `npm run verify-certificate`) or the printable HTML page, to stdout or `--out`.
 */
export async function certificate(
  api: ApiTarget,
  erasureId: string,
  options: { html?: boolean; out?: string },
  output: Output,
): Promise<ExitCode> {
  const answer = await call(api, erasureId, () => api.certificate(erasureId, { html: options.html === true }));
  if (answer.status !== 200)
    throw new CliError(`No certificate for erasure ${erasureId}: ${describeAnswer(answer)}.`, EXIT.failed);
  // The document exactly as served: the JSON's signature covers its content, not its formatting.
  const document = typeof answer.body === 'string' ? answer.body : `${JSON.stringify(answer.body, null, 2)}\n`;
  if (options.out) {
    await writeFile(options.out, document);
    if (output.json) printJson(output, { erasureId, out: options.out, format: options.html ? 'html' : 'json' });
    else
      output.err(
        `Certificate of erasure ${erasureId} written to ${options.out}.` +
          (options.html ? '\n' : `\nCheck it offline: npm run verify-certificate -- ${options.out} <certificate public key>\n`),
      );
  } else output.out(document);
  return EXIT.ok;
}

/** `extend <id> --months 1|2 --reason TEXT`: the erasure's one extension of its due date. */
export async function extend(
  api: ApiTarget,
  erasureId: string,
  extension: { months: number; reason: string },
  output: Output,
): Promise<ExitCode> {
  const answer = await call(api, erasureId, () => api.extend(erasureId, extension));
  if (answer.status !== 200)
    throw new CliError(
      `The extension was refused: ${describeAnswer(answer)}.`,
      EXIT.failed,
      answer.status === 409 ? 'an erasure is extended once, before its due date (verifik-erasure status shows both).' : undefined,
    );
  if (output.json) printJson(output, answer.body);
  else output.out(recordText(answer.body));
  return EXIT.ok;
}
