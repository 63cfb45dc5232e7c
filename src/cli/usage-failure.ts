/**
 * What the CLIs do with a usage error (unknown flag, missing argument, bad command): one short
 * message, a "did you mean" when a known name is close, and exit code 2 ("bad input"), never the
 * whole help text and never exit 1, which means "ranges failed / differences remain".
 */

/** Exit code of every usage error, the same as other bad input. */
export const USAGE_EXIT = 2;

/** Edit distance (insertions, deletions, substitutions), for suggestions only. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name closest to `given`, when it is close enough to be a typo; else undefined. */
export function closestName(given: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(given, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  // A third of the length, at least 2 edits: `--concurency` finds `--concurrency`, `--x` finds nothing.
  const allowed = Math.max(2, Math.floor(given.length / 3));
  return best !== undefined && best.distance <= allowed ? best.name : undefined;
}

/** The flags (without dashes) yargs reports as unknown: "Unknown argument: foo" / "Unknown arguments: a, b". */
export function unknownArguments(message: string): readonly string[] {
  const match = /^Unknown arguments?: (.*)$/.exec(message);
  if (match === null) return [];
  // yargs lists a dashed flag twice (`foo-bar, fooBar`): keep the form the user typed.
  return match[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && !/[A-Z]/.test(s));
}

/** yargs' wording, made to say what is wrong in the user's terms. */
export function plainMessage(message: string): string {
  if (message.startsWith('Did you mean')) return `unknown command. ${message}`;
  const unknown = unknownArguments(message);
  if (unknown.length > 0)
    return `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.map((u) => `--${u}`).join(', ')}`;
  const missing = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(message);
  if (missing !== null) return `missing argument: the command needs ${missing[2]}, got ${missing[1]}`;
  return message;
}

/**
 * The lines to print for a usage error: the message, a suggestion per unknown flag when one is
 * close, and where to find the help.
 */
export function usageErrorLines(
  message: string,
  knownFlags: readonly string[],
  helpCommand: string,
): readonly string[] {
  const lines = [`error [usage]: ${plainMessage(message)}`];
  for (const unknown of unknownArguments(message)) {
    const suggestion = closestName(unknown, knownFlags);
    if (suggestion !== undefined) lines.push(`  did you mean --${suggestion}?`);
  }
  lines.push(`  See \`${helpCommand} --help\`.`);
  return lines;
}

/**
 * A yargs `.fail()` handler: prints `usageErrorLines` to stderr and exits with USAGE_EXIT. An error
 * thrown by a command's own code (not a usage error) is re-thrown so it is reported as what it is.
 * `knownFlags` is asked at failure time, when yargs holds the failing command's options.
 */
export function failWithUsage(helpCommand: string, knownFlags: () => readonly string[]) {
  return (message: string | null | undefined, error: Error | undefined): void => {
    if (error !== undefined && error.name !== 'YError') throw error;
    const known = knownFlags().filter((k) => k.length > 1 && k !== '$0');
    const text = message ?? error?.message ?? 'invalid command line';
    process.stderr.write(`${usageErrorLines(text, known, helpCommand).join('\n')}\n`);
    process.exit(USAGE_EXIT);
  };
}

/** Methods yargs 18 has at run time and its typings lack. */
interface YargsRuntime {
  getOptions(): { key: Record<string, unknown> };
  usageConfiguration(config: Record<string, boolean>): unknown;
}

/**
 * Sets up a yargs instance for `failWithUsage` and for the settings' own help labels: yargs' type
 * labels are hidden (setting flags are strings to yargs, so `[string]` would be wrong for integers;
 * each flag's description states its type and default instead). Returns the known-flags getter.
 */
export function prepareUsage(cli: object): () => readonly string[] {
  const runtime = cli as YargsRuntime;
  runtime.usageConfiguration({ 'hide-types': true });
  return () => Object.keys(runtime.getOptions().key);
}
