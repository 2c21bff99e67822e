/**
 * Just enough of CloudFormation's intrinsic functions to evaluate the expressions this stack builds
 * from parameters (Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Equals, Fn::Join, Fn::Split, Fn::Select),
 * so a test can check what a policy resolves to for a given parameter value, and just enough of
 * IAM's policy evaluation to say whether a request is allowed.
 */
export interface Scope {
  /** Parameters (a CommaDelimitedList is a string[]), pseudo parameters and resources' Ref values. */
  refs: Record<string, string | string[]>;
  conditions: Record<string, unknown>;
  /** `Fn::GetAtt` values by `LogicalId.Attribute`. */
  attributes?: Record<string, string>;
}

export function evaluate(expression: unknown, scope: Scope): unknown {
  if (typeof expression === 'string' || typeof expression === 'number' || typeof expression === 'boolean') return expression;
  if (Array.isArray(expression)) return expression.map((item) => evaluate(item, scope));
  const [[fn, args]] = Object.entries(expression as Record<string, unknown>) as [[string, any]];
  switch (fn) {
    case 'Ref': {
      if (!(args in scope.refs)) throw new Error(`no value for Ref ${args}`);
      return scope.refs[args];
    }
    case 'Fn::GetAtt': {
      const name = `${args[0]}.${args[1]}`;
      if (!scope.attributes || !(name in scope.attributes)) throw new Error(`no value for Fn::GetAtt ${name}`);
      return scope.attributes[name];
    }
    case 'Fn::Sub':
      if (typeof args !== 'string') throw new Error('only the one-argument form of Fn::Sub is supported');
      return args.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const value = evaluate({ Ref: name }, scope);
        if (typeof value !== 'string') throw new Error(`Fn::Sub of a list ${name}`);
        return value;
      });
    case 'Fn::If':
      return evaluate(isTrue(args[0], scope) ? args[1] : args[2], scope);
    case 'Fn::Equals':
      return evaluate(args[0], scope) === evaluate(args[1], scope);
    case 'Fn::Not':
      return !evaluate(args[0], scope);
    case 'Fn::Join':
      return (evaluate(args[1], scope) as string[]).join(args[0]);
    case 'Fn::Split':
      return (evaluate(args[1], scope) as string).split(args[0]);
    case 'Fn::Select': {
      const list = evaluate(args[1], scope) as unknown[];
      const index = Number(evaluate(args[0], scope));
      if (index >= list.length) throw new Error(`Fn::Select index ${index} out of range`);
      return list[index];
    }
    default:
      throw new Error(`unsupported intrinsic ${fn}`);
  }
}

function isTrue(condition: string, scope: Scope): boolean {
  const expression = scope.conditions[condition];
  if (expression === undefined) throw new Error(`no condition ${condition}`);
  return evaluate(expression, scope) === true;
}

/** IAM resource matching: `*` any run of characters, `?` exactly one. */
export function iamMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\/]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(arn);
}

/** Every intrinsic function anywhere inside `value` (a whole policy document, say) evaluated. */
export function resolve(value: unknown, scope: Scope): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, scope));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return evaluate(value, scope);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, scope)]));
}

/**
 * `ArnLike`: each of the six colon-separated parts of the ARN matched on its own, so a `*` never
 * spans a colon (the resource part, the sixth, keeps any further colons).
 */
export function arnLike(pattern: string, arn: string): boolean {
  const parts = (value: string) => {
    const split = value.split(':');
    return split.length < 6 ? undefined : [...split.slice(0, 5), split.slice(5).join(':')];
  };
  const [p, a] = [parts(pattern), parts(arn)];
  return p !== undefined && a !== undefined && p.every((part, i) => iamMatches(part, a[i]!));
}

/** A statement with its intrinsics resolved. */
export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One API call by a principal of the same account. */
export interface AccessRequest {
  principalArn: string;
  action: string;
  resource: string;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const CONDITION_OPERATORS: Record<string, (values: string[], actual: string) => boolean> = {
  ArnLike: (values, actual) => values.some((value) => arnLike(value, actual)),
  ArnNotLike: (values, actual) => !values.some((value) => arnLike(value, actual)),
  StringEquals: (values, actual) => values.includes(actual),
  StringNotEquals: (values, actual) => !values.includes(actual),
};

/** Whether a statement covers a request (action, resource, and every condition; aws:PrincipalArn is the only key known). */
export function statementApplies(statement: PolicyStatementJson, request: AccessRequest): boolean {
  const actionMatches = (patterns: string[]) =>
    patterns.some((pattern) => iamMatches(pattern.toLowerCase(), request.action.toLowerCase()));
  if (statement.Action !== undefined && !actionMatches(list(statement.Action))) return false;
  if (statement.NotAction !== undefined && actionMatches(list(statement.NotAction))) return false;
  if (!list(statement.Resource ?? '*').some((pattern) => iamMatches(pattern, request.resource))) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, tests]) => {
    const check = CONDITION_OPERATORS[operator];
    if (!check) throw new Error(`unsupported condition operator ${operator}`);
    return Object.entries(tests).every(([key, values]) => {
      if (key !== 'aws:PrincipalArn') throw new Error(`unsupported condition key ${key}`);
      return check(list(values), request.principalArn);
    });
  });
}

export type Decision = 'allowed' | 'explicitly denied' | 'implicitly denied';

/**
 * IAM's decision for a request inside one account: an explicit deny in any policy wins; otherwise
 * an allow in the principal's identity policies or in the resource's policy is enough.
 */
export function decide(
  policies: { identity: PolicyStatementJson[]; resource: PolicyStatementJson[] },
  request: AccessRequest,
): Decision {
  for (const statement of policies.resource) {
    // Enough for this stack's resource policies, which all name every principal and narrow by condition.
    if (JSON.stringify(statement.Principal) !== '{"AWS":"*"}') throw new Error('only Principal {"AWS": "*"} is supported');
  }
  const applying = [...policies.identity, ...policies.resource].filter((statement) => statementApplies(statement, request));
  if (applying.some((statement) => statement.Effect === 'Deny')) return 'explicitly denied';
  return applying.some((statement) => statement.Effect === 'Allow') ? 'allowed' : 'implicitly denied';
}
