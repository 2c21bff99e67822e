import { startLocalStack } from './local-stack';
import { LOCAL_TOKEN_ROUTES } from './local-token-secret';

/** `npm start`: the local stack, and how to send it a signed request. */
async function main() {
  // Locally, CloudWatch metrics (embedded metric format) would only clutter the terminal.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const stack = await startLocalStack(process.env);
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
    '',
    'Erase a person with a signed request (in another terminal, in this folder):',
    `  ${secretAssignment}npm run erasure -- erase ${person} --url ${stack.url}`,
    'Then read the erasure record with the erasureId it prints:',
    `  ${secretAssignment}npm run erasure -- status <erasureId> --url ${stack.url}`,
    'Renew the Verifik token now, as the rotation function does every 7 days in AWS (answers its expiry, never the token):',
    `  curl -s -X POST ${stack.url}${LOCAL_TOKEN_ROUTES.rotate}`,
    `  curl -s -X POST ${stack.url}${LOCAL_TOKEN_ROUTES.check}   (days left; finishes an interrupted rotation)`,
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
