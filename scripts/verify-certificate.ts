import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FolderArchiveStorage } from '../lambda/archive/folder-archive-storage';
import { checkCertificateArchive } from '../lambda/certificate/archive-check';
import { readPublicKey, verifyCertificate } from '../lambda/certificate/verify-certificate';

const USAGE = `usage: npm run verify-certificate -- <certificate.json> <public-key (JWK, PEM or DER)> [--archive <folder> [--archive-key <public key>]]
  --archive      a copy of the archive (aws s3 sync s3://<ArchiveBucketName> <folder>): checks the batch and digest the certificate names
  --archive-key  the archive key's public half (aws kms get-public-key --key-id <ArchiveKeyArn>): checks the digest's signature too`;

/**
 * `npm run verify-certificate -- <certificate.json> <public-key>`: checks a certificate of erasure
 * offline. The public key may be a JWK, a PEM, or the DER of `aws kms get-public-key` (raw or base64).
 * With `--archive`, also checks the archive batch and digest it names against a copy of the archive.
 * Exit 0: everything checked holds; 1: something does not (or a file is unreadable); 2: usage.
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { archive: { type: 'string' }, 'archive-key': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [certificatePath, keyPath] = positionals;
  if (values.help || !certificatePath || !keyPath || positionals.length > 2 || (values['archive-key'] && !values.archive)) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const document: unknown = JSON.parse(await readFile(certificatePath, 'utf8'));
  const { certificate, kid } = await verifyCertificate(document, readPublicKey(await readFile(keyPath)));
  const e = certificate.erasure;
  process.stdout.write(
    `valid: certificate of erasure ${e.erasureId} (${e.status}, ${certificate.persons.length} person(s)) ` +
      `for ${certificate.controller.name}, issued ${certificate.issuedAt}, key ${kid ?? '(no kid)'}\n`,
  );
  if (!values.archive) return 0;
  const archiveKey = values['archive-key'] ? readPublicKey(await readFile(values['archive-key'])) : undefined;
  const { problems, checked } = await checkCertificateArchive(certificate, new FolderArchiveStorage(values.archive), archiveKey);
  for (const line of checked) process.stdout.write(`ok: ${line}\n`);
  for (const line of problems) process.stderr.write(`ARCHIVE: ${line}\n`);
  return problems.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`INVALID: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
