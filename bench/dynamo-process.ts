/**
 * dynalite and the counting proxy in a process of their own (forked by dynamo-server.ts), so that
 * a benchmark whose handlers run in the bench process is not bound by the engine's CPU on the same
 * core. Messages: sends { endpoint, direct } when ready; answers 'take' with the counts so far.
 */
import { startEmbeddedDynamo } from '../infra/local/embedded-dynamodb';
import { CountingDynamoProxy } from './storage';

const engine = await startEmbeddedDynamo();
const proxy = await CountingDynamoProxy.start(engine.endpoint);
process.on('message', (message: unknown) => {
  if (message === 'take') process.send!({ counts: proxy.counter.take() });
  if (message === 'close') {
    void Promise.all([proxy.close(), engine.close()]).then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ endpoint: proxy.url, direct: engine.endpoint });
