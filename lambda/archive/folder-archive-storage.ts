import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ArchiveStorage } from './ports';

/**
 * The archive in a local folder (`npm start`, or a bucket copied with `aws s3 sync` for `verify`).
 * Objects are created with the `wx` flag, so an existing one is never overwritten by this code; but
 * nothing stops anyone else from editing the files: a folder has no Object Lock.
 */
export class FolderArchiveStorage implements ArchiveStorage {
  constructor(readonly root: string) {}

  async create(key: string, body: Uint8Array, sha256Hex: string): Promise<boolean> {
    if (createHash('sha256').update(body).digest('hex') !== sha256Hex) throw new Error(`archive: ${key} does not match its hash`);
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    try {
      await writeFile(file, body, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.file(key))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Every key under `prefix`, in sub-folders too (as S3 lists keys under a prefix), sorted. */
  async list(prefix: string): Promise<string[]> {
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const folder = path.dirname(this.file(`${base}x`));
    try {
      const entries = await readdir(folder, { recursive: true, withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => `${base}${path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')}`)
        .filter((key) => key.startsWith(prefix))
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private file(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`archive: key outside the folder: ${key}`);
    return file;
  }
}
