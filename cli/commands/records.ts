import { writeFile } from 'node:fs/promises';
import {
  configurationProblem,
  describeAnswer,
  notFound,
  reach,
  type ApiAnswer,
  type ApiTarget,
  type Subject,
} from '../api-target';
import { CliError, EXIT, type ExitCode } from '../errors';
import { printJson, recordText, table, type Output } from '../output';

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

/** A subject as the service answers it: its links and the erasures that named it. */
interface SubjectAnswer {
  source: string;
  persons: { personId: string; linkedAt: string; erasureIds: string[] }[];
  erasures: { erasureId: string; receivedAt: string }[];
}

/** A call on a subject: exit 3 for a configuration problem, any other refusal exit 1 with what the service said. */
async function onSubject(api: ApiTarget, what: string, send: () => Promise<ApiAnswer>): Promise<ApiAnswer> {
  const answer = await reach(api, send);
  const problem = configurationProblem(api, answer);
  if (problem) throw problem;
  if (answer.status >= 400) throw new CliError(`Could not ${what}: ${describeAnswer(answer)}.`, EXIT.failed);
  return answer;
}

/** `link <source:subjectId> <personId>`: registers the link at enrollment time (201 new, 200 already linked). */
export async function link(api: ApiTarget, subject: Subject, personId: string, output: Output): Promise<ExitCode> {
  const answer = await onSubject(api, `link ${subject.source}:${subject.id} to ${personId}`, () => api.link(subject, personId));
  const created = answer.status === 201;
  if (output.json) printJson(output, { subject: `${subject.source}:${subject.id}`, personId, created, answer: answer.body });
  else output.out(`${created ? 'Linked' : 'Already linked'}: ${subject.source}:${subject.id} → ${personId}\n`);
  return EXIT.ok;
}

/** `find --subject <source:id>`: the persons linked to a subject and the erasures that named it (one query, server side). */
export async function findSubject(api: ApiTarget, subject: Subject, output: Output): Promise<ExitCode> {
  const answer = await onSubject(api, `read subject ${subject.source}:${subject.id}`, () => api.subject(subject));
  const found = answer.body as SubjectAnswer;
  if (output.json) {
    printJson(output, { subject: `${subject.source}:${subject.id}`, persons: found.persons, erasures: found.erasures });
    return EXIT.ok;
  }
  output.out(
    `Subject ${subject.source}:${subject.id}: ${found.persons.length} linked person(s), ${found.erasures.length} erasure(s)\n`,
  );
  if (found.persons.length > 0)
    output.out(
      `${table(
        ['Person', 'Linked', 'Erasures'],
        found.persons.map((p) => [p.personId, p.linkedAt, p.erasureIds.join(' ')]),
      )}`,
    );
  if (found.erasures.length > 0)
    output.out(
      `${table(
        ['Erasure', 'Received'],
        found.erasures.map((e) => [e.erasureId, e.receivedAt]),
      )}`,
    );
  return EXIT.ok;
}
