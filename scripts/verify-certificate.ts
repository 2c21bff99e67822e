import { readFile } from 'node:fs/promises';
import { readPublicKey, verifyCertificate } from '../lambda/certificate/verify-certificate';

/**
 * `npm run verify-certificate -- <certificate.json> <public-key>`: checks a certificate of erasure
 * offline. The public key may be a JWK, a PEM, or the DER of `aws kms get-public-key` (raw or base64).
 * Exit 0: the signature holds for exactly this certificate; 1: it does not (or a file is unreadable).
 */
async function main([certificatePath, keyPath]: string[]): Promise<number> {
  if (!certificatePath || !keyPath) {
    process.stderr.write('usage: npm run verify-certificate -- <certificate.json> <public-key (JWK, PEM or DER)>\n');
    return 2;
  }
  const document: unknown = JSON.parse(await readFile(certificatePath, 'utf8'));
  const { certificate, kid } = await verifyCertificate(document, readPublicKey(await readFile(keyPath)));
  const e = certificate.erasure;
  process.stdout.write(
    `valid: certificate of erasure ${e.erasureId} (${e.status}, ${certificate.persons.length} person(s)) ` +
      `for ${certificate.controller.name}, issued ${certificate.issuedAt}, key ${kid ?? '(no kid)'}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`INVALID: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
