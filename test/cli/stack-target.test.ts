import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListMessageMoveTasksCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { program } from '../../cli/main';

/**
 * `--stack`: the command line reads the stack's outputs (CloudFormation, mocked: no AWS here) and
 * signs the IAM routes with the operator's credentials; redrive starts an SQS move task (mocked).
 */
const cloudFormation = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);
const DLQ = 'arn:aws:sqs:eu-west-1:111122223333:VerifikErasure-DeadLetters';
const RETRY = 'arn:aws:sqs:eu-west-1:111122223333:VerifikErasure-Retry';
let api: Server;
let apiUrl: string;
const received: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  // An API Gateway stand-in that records what reaches it and answers as the service does for an unknown id.
  api = createServer((req, res) => {
    received.push({ method: req.method, url: req.url, headers: req.headers });
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'not_found', message: 'No such erasure.' }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/`;
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  });
});
afterAll(async () => {
  process.env = saved;
  await new Promise<void>((resolve) => api.close(() => resolve()));
});
beforeEach(() => {
  cloudFormation.reset();
  sqs.reset();
  received.length = 0;
  cloudFormation.on(DescribeStacksCommand, { StackName: 'VerifikErasure' }).resolves({
    Stacks: [
      {
        StackName: 'VerifikErasure',
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'ApiUrl', OutputValue: apiUrl },
          { OutputKey: 'DeadLetterQueueArn', OutputValue: DLQ },
          { OutputKey: 'RetryQueueArn', OutputValue: RETRY },
        ],
      },
    ],
  });
});

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await program(args, new AbortController().signal).run();
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('--stack', () => {
  it("calls the stack's ApiUrl on the portal route, signed with SigV4 for execute-api in the stack's region", async () => {
    const result = await run('status', 'msg_2KWP', '--stack', 'VerifikErasure', '--region', 'eu-west-1');

    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^verifik-erasure: No erasure msg_2KWP\./);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'GET', url: '/portal/erasures/msg_2KWP' });
    expect(received[0]!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(received[0]!.headers).not.toHaveProperty('webhook-signature');
  });

  it('redrives the dead-letter queue into the retry queue with an SQS move task, and lists the tasks', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          Status: 'RUNNING',
          StartedTimestamp: Date.parse('2026-11-29T12:00:00Z'),
          ApproximateNumberOfMessagesMoved: 3,
          ApproximateNumberOfMessagesToMove: 7,
        },
      ],
    });

    const started = await run('redrive', '--stack', 'VerifikErasure', '--region', 'eu-west-1', '--json');
    const listed = await run('redrive', '--status', '--stack', 'VerifikErasure', '--region', 'eu-west-1', '--json');

    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ target: 'VerifikErasure', taskHandle: 'task-1' });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({ SourceArn: DLQ, DestinationArn: RETRY });
    expect(JSON.parse(listed.stdout)).toEqual({
      target: 'VerifikErasure',
      tasks: [{ status: 'RUNNING', startedAt: '2026-11-29T12:00:00.000Z', moved: 3, toMove: 7 }],
    });
  });

  it('a stack that does not exist, or lacks an output, is a configuration problem (exit 3) with the fix', async () => {
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'Nope' })
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));

    const missing = await run('status', 'x', '--stack', 'Nope', '--region', 'eu-west-1');
    const noOutput = await run('find', '--person', 'p1', '--stack', 'VerifikErasure', '--region', 'eu-west-1');

    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe(
      'verifik-erasure: Stack Nope does not exist in this account and region. Fix: check --stack and --region (aws cloudformation list-stacks).\n',
    );
    expect(noOutput.code).toBe(3);
    expect(noOutput.stderr).toMatch(/Stack VerifikErasure \(eu-west-1\) has no output AuditTableName\. Fix: deploy this version/);
    expect(received).toEqual([]);
  });

  it('refuses --url and --stack together (usage, exit 2)', async () => {
    const both = await run('status', 'x', '--stack', 'VerifikErasure', '--url', 'http://localhost:3000', '--region', 'eu-west-1');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--url and --stack name two targets/);
  });
});
