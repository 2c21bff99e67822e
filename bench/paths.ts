import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, wherever the bench is started from. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const fromRoot = (...parts: string[]) => path.join(ROOT, ...parts);
