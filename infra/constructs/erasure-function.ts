import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/names';
import { LAMBDA_BUNDLING } from '../lambda-bundling';

/**
 * What a resource is bound to: the variable that names it and the grant that lets the function use
 * it always come together (`bindTo`), so a function cannot get one without the other.
 */
export interface BindTarget {
  readonly role: Role;
  addEnvironment(name: string, value: string): unknown;
}

export interface ErasureFunctionProps {
  /** Handler entry relative to the project root, e.g. `lambda/handlers/http.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Variables beyond the common ones (Powertools, source maps). */
  readonly environment?: Record<string, string>;
  /** @default three months */
  readonly logRetention?: RetentionDays;
  /** Reserved concurrency: the most instances at once (a client-side pace is divided over them). @default none */
  readonly reservedConcurrency?: number;
}

/**
 * A Lambda function with the service's defaults set once: Node.js 24 on arm64, a minified ESM
 * bundle with source maps built by the local esbuild (no Docker), JSON logs in a log group of its
 * own, and a role of its own that starts with nothing but writing to that log group (no AWS
 * managed policy). Access to the table, queues and secrets is added by the constructs that own
 * them, one grant per need.
 *
 * Paths resolve from the project root (`process.cwd()`), which is where both `npx cdk` and jest
 * run; `__dirname` and `import.meta` are not both available across tsx (ESM) and jest (CommonJS).
 */
export class ErasureFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ErasureFunctionProps) {
    super(scope, id);
    const root = process.cwd();

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.THREE_MONTHS });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `verifik-erasure ${id}: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(root, props.entry),
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: path.join(root, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: LAMBDA_BUNDLING.target,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        banner: LAMBDA_BUNDLING.banner,
        minify: LAMBDA_BUNDLING.minify,
        sourceMap: LAMBDA_BUNDLING.sourceMap,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: LAMBDA_BUNDLING.sourcesContent,
        // The SDK versions in package-lock.json are the ones the tests ran against; bundling them
        // (tree-shaken) also loads faster than the runtime's copy from disk.
        bundleAwsSDK: true,
        externalModules: [],
        forceDockerBundling: false,
      },
    });
  }

  /** Adds an environment variable (the constructs that grant access also say where to find it). */
  addEnvironment(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }
}
