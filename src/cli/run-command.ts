import { describeError, OperatorError } from '../errors.js';

/**
 * Runs a command handler and turns its outcome into an exit code. Operator errors print their
 * message and hint, never a stack; anything else is reported as a bug with its stack, because it is one.
 */
export async function runCommand(handler: () => Promise<number | undefined>): Promise<void> {
  try {
    process.exitCode = (await handler()) ?? 0;
  } catch (error) {
    if (error instanceof OperatorError) {
      process.stderr.write(`error [${error.code}]: ${error.message}\n`);
      if (error.hint !== undefined) process.stderr.write(`  ${error.hint}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`error: ${describeError(error)}\n`);
      if (process.env.ZDM_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
      else process.stderr.write('  This is a bug in zdm; rerun with ZDM_DEBUG=1 to print the stack trace.\n');
      process.exitCode = 1;
    }
  }
}
