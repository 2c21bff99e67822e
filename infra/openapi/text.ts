import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { openApiDocument } from './document';

/** Where the document lives (committed, so integrators can read it without running anything). */
export const OPENAPI_FILE = path.join(process.cwd(), 'openapi.json');

/** The document the schemas generate now, as plain JSON (what openapi.json must hold). */
export function currentOpenApi(): unknown {
  const { version } = JSON.parse(readFileSync(path.join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
  return JSON.parse(JSON.stringify(openApiDocument(version)));
}
