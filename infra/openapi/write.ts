import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { OPENAPI_FILE, currentOpenApi } from './text';

/** `npm run openapi`: regenerates openapi.json from the schemas, formatted as the repository is (a test fails while it is out of date). */
const options = { ...(await resolveConfig(OPENAPI_FILE)), parser: 'json', filepath: OPENAPI_FILE };
writeFileSync(OPENAPI_FILE, await format(JSON.stringify(currentOpenApi()), options));
process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
