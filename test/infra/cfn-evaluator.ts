/**
 * Just enough of CloudFormation's intrinsic functions to evaluate the expressions this stack builds
 * from parameters (Ref, Fn::If, Fn::Equals, Fn::Join, Fn::Split, Fn::Select), so a test can check
 * what a policy resolves to for a given parameter value.
 */
export interface Scope {
  refs: Record<string, string>;
  conditions: Record<string, unknown>;
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
