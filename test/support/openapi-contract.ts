import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OPENAPI_FILE } from '../../infra/openapi/text';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// The whole document as one schema, so every $ref to #/components/schemas resolves within it.
ajv.addSchema(document, 'openapi.json');
const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const compiled = new Map<string, ValidateFunction>();

/** The documented route a concrete path belongs to (`/erasures/msg_1` → `/erasures/{erasureId}`), if any. */
function routeOf(path: string): string | undefined {
  return Object.keys(document.paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path.split('?')[0]!),
  );
}

/**
 * Fails when an answer of the service does not match openapi.json: an undocumented status, a body
 * outside the documented schema, a documented header missing. Paths the document does not name (a
 * test's deliberately wrong route: API Gateway answers those in the cloud) are not checked.
 */
export function expectAnswerMatchesContract(
  method: string,
  path: string,
  answer: { status: number; headers: Record<string, string>; body: unknown },
): void {
  const route = routeOf(path);
  const operation = route === undefined ? undefined : document.paths[route]?.[method.toLowerCase()];
  if (route === undefined || operation === undefined) return;
  const where = `${method} ${route} answered ${answer.status}`;
  const documented = operation.responses[String(answer.status)];
  if (documented === undefined) throw new Error(`${where}, a status openapi.json does not document`);
  for (const header of Object.keys(documented.headers ?? {})) {
    if (answer.headers[header.toLowerCase()] === undefined && answer.headers[header] === undefined) {
      throw new Error(`${where} without its documented header ${header}`);
    }
  }
  if (documented.content?.['application/json'] === undefined) return;
  const key = pointer(
    'paths',
    route,
    method.toLowerCase(),
    'responses',
    String(answer.status),
    'content',
    'application/json',
    'schema',
  );
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile({ $ref: `openapi.json#/${key}` });
    compiled.set(key, validate);
  }
  if (!validate(answer.body)) {
    throw new Error(`${where} with a body openapi.json does not allow: ${ajv.errorsText(validate.errors)}`);
  }
}
