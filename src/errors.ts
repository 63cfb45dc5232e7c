/**
 * Errors an operator can act on: a stable code for scripts and a message that says what to do.
 * The CLI prints `message` (and `hint`) without a stack trace and exits with `exitCode`.
 */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; exitCode?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode ?? 2;
  }
  readonly exitCode: number;
}

/** Text of any thrown value, for messages; never the stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause === undefined ? '' : ` (${describeError(error.cause)})`;
    const inner =
      'innerErrors' in error && error.innerErrors && typeof error.innerErrors === 'object'
        ? Object.entries(error.innerErrors as Record<string, unknown>)
            .map(([host, e]) => `${host}: ${describeError(e)}`)
            .join('; ')
        : '';
    // The driver's NoHostAvailableError message embeds inspected errors with stacks: say per host instead.
    if (inner !== '') return `no host could be reached (${inner})${cause}`;
    return `${error.message}${cause}`;
  }
  return String(error);
}
