/**
 * Exit codes of `verifik-erasure` (docs/cli.md): scripts may rely on them.
 * - 0: everything asked for was done (an erasure still `pending` is accepted and being retried);
 * - 1: something failed (a person `failed`, a line refused or invalid, archive findings);
 * - 2: usage (an unknown option, a missing argument, a bad date);
 * - 3: the target is unreachable or misconfigured (server down, wrong secret, no credentials, no stack);
 * - 4: no such erasure;
 * - 130: interrupted (Ctrl-C); what is left and how to resume is printed.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, notFound: 4, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the command line reports in one line, with what to do about it, and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** What the operator can do about it (printed after the message). */
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A bad option or argument: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, fix?: string) {
    super(message, EXIT.usage, fix);
  }
}

/** The server could not be reached, or answered that it is unavailable: exit 3. */
export class UnreachableError extends CliError {
  constructor(message: string, fix?: string, options?: { cause?: unknown }) {
    super(message, EXIT.unreachable, fix, options);
  }
}

/** The error line: `verifik-erasure: <message> (fix: <fix>)`, one line whatever the message held. */
export function errorLine(error: unknown): string {
  const said = error instanceof Error ? error.message : String(error);
  const fix = error instanceof CliError && error.fix ? ` Fix: ${error.fix}` : '';
  const message = fix && !/[.!?)]$/.test(said) ? `${said}.` : said;
  return `verifik-erasure: ${`${message}${fix}`.replace(/\s*\n\s*/g, ' ')}`;
}
