import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'prettier';
import { OPENAPI_FILE, currentOpenApi } from './text';

/** `npm run openapi`: regenerates openapi.json from the schemas, formatted as the repository is (a test fails while it is out of date). */
writeFileSync(OPENAPI_FILE, await format(JSON.stringify(currentOpenApi()), { parser: 'json', filepath: OPENAPI_FILE }));
process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
