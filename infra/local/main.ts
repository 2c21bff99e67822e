import { startLocalStack } from './local-stack';
import { LOCAL_TOKEN_ROUTES } from './local-token-secret';
import { ARCHIVE_DIGEST_PATH } from './local-routes';

/** `npm start`: the local stack, and how to send it a signed request. */
async function main() {
  // Locally, CloudWatch metrics (embedded metric format) would only clutter the terminal.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const stack = await startLocalStack(process.env);
  const archive = stack.archive!;
  const secretAssignment = stack.generated.webhookSecret ? `WEBHOOK_SECRET='${stack.env.WEBHOOK_SECRET}' ` : '';
  const person = stack.sandboxPersons[0] ?? '<personId>';
  const lines = [
    '',
    `verifik-erasure is listening on ${stack.url}`,
    `  audit table   ${stack.env.AUDIT_TABLE_NAME} on ${process.env.DYNAMODB_ENDPOINT ? stack.dynamoEndpoint : `embedded dynalite (${stack.dynamoEndpoint})`}${stack.tableCreated ? ', created' : ''}`,
    `  Verifik       ${stack.sandbox ? `local sandbox at ${stack.sandbox.url}, persons: ${stack.sandboxPersons.join(' ')}` : stack.env.VERIFIK_BASE_URL}`,
    stack.generated.webhookSecret
      ? `  webhook secret (generated for this run): ${stack.env.WEBHOOK_SECRET}`
      : '  webhook secret: from WEBHOOK_SECRET',
    stack.generated.hubspotClientSecret
      ? `  HubSpot client secret (generated for this run): ${stack.env.HUBSPOT_CLIENT_SECRET}; hook ${stack.url}/hooks/hubspot`
      : `  HubSpot client secret: from HUBSPOT_CLIENT_SECRET; hook ${stack.url}/hooks/hubspot`,
    stack.env.CALLBACK_ALLOWED_HOSTS
      ? `  callbacks     to ${stack.env.CALLBACK_ALLOWED_HOSTS}, signed with ${stack.generated.callbackSecret ? `(generated for this run) ${stack.env.CALLBACK_SECRET}` : 'CALLBACK_SECRET'}`
      : '  callbacks     none accepted (set CALLBACK_ALLOWED_HOSTS, e.g. localhost:8080)',
    `  controller    ${stack.env.ORGANIZATION_NAME}${stack.generated.organizationName ? ' (default; set ORGANIZATION_NAME)' : ''}`,
    stack.certificateKey
      ? `  certificate key ${stack.certificateKey.privateKeyPath}${stack.certificateKey.created ? ' (created)' : ''}; public key ${stack.certificateKey.publicKeyPath}, also at ${stack.url}/.well-known/certificate-key`
      : `  certificate key: KMS ${stack.env.CERTIFICATE_KEY_ARN}`,
    '',
    'Erase a person with a signed request (in another terminal, in this folder; the command line is docs/cli.md):',
    `  ${secretAssignment}npx verifik-erasure erase ${person} --url ${stack.url}`,
    'Then read the erasure record with the erasureId it prints:',
    `  ${secretAssignment}npx verifik-erasure status <erasureId> --url ${stack.url}`,
    'Erase every id of a file (one per line, resumable; progress, then a summary):',
    `  ${secretAssignment}npx verifik-erasure erase --file ids.csv --url ${stack.url}`,
    'Its signed certificate of erasure, and checking it offline:',
    `  ${secretAssignment}npx verifik-erasure certificate <erasureId> --url ${stack.url} --out certificate.json`,
    stack.certificateKey ? `  npm run verify-certificate -- certificate.json ${stack.certificateKey.publicKeyPath}` : '',
    'Every erasure of a person, and every erasure received in a time range (CSV or JSON lines), from the audit table:',
    `  npx verifik-erasure find --person ${person} --endpoint ${stack.dynamoEndpoint} --table ${stack.env.AUDIT_TABLE_NAME}`,
    `  npx verifik-erasure export --from 2026-01-01 --to 2027-01-01 --format csv --endpoint ${stack.dynamoEndpoint} --table ${stack.env.AUDIT_TABLE_NAME} --out erasures.csv`,
    'Renew the Verifik token now, as the rotation function does every 7 days in AWS (answers its expiry, never the token):',
    `  curl -s -X POST ${stack.url}${LOCAL_TOKEN_ROUTES.rotate}`,
    `  curl -s -X POST ${stack.url}${LOCAL_TOKEN_ROUTES.check}   (days left; finishes an interrupted rotation)`,
    '',
    `Tamper evidence: every change to the table is archived in ${archive.dir}${process.env.ARCHIVE_DIR ? '' : ' (removed when this stops; set ARCHIVE_DIR to keep it)'},`,
    'digests signed hourly and at stop (a local folder and key file: no Object Lock, no KMS). Check it while this runs:',
    `  npm run verify-archive -- --folder ${archive.dir} --public-key ${archive.publicKeyFile} --table ${stack.env.AUDIT_TABLE_NAME} --endpoint ${stack.dynamoEndpoint}`,
    'A certificate names the archive batch and the signed digest that hold its erasure; sign a digest now, then check the link:',
    `  curl -s -X POST ${stack.url}${ARCHIVE_DIGEST_PATH}`,
    stack.certificateKey
      ? `  npm run verify-certificate -- certificate.json ${stack.certificateKey.publicKeyPath} --archive ${archive.dir} --archive-key ${archive.publicKeyFile}`
      : '',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  const stop = async () => {
    await stack.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
