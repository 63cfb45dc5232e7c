/**
 * Test hook: `ZDM_TEST_KILL_AT=<point>@<n>` makes the process SIGKILL itself the n-th time it reaches
 * `<point>` (e.g. `page-uncommitted@3`), so a test can cut a checkpoint write at an exact moment
 * instead of racing a timer. Unset (always, outside tests), a kill point costs one comparison.
 */
export type KillPoint =
  /** Creation: the temporary file is open, nothing written yet. */
  | 'create-open'
  /** Creation: after each range row is inserted (inside the creating transaction). */
  | 'create-range'
  /** Creation: the temporary file is complete and closed, not yet renamed into place. */
  | 'create-written'
  /** Creation: renamed into place, not yet reopened. */
  | 'create-renamed'
  /** A page commit: the Target writes are done, the transaction not begun. */
  | 'page-begin'
  /** A page commit: counters and resume position updated, not committed. */
  | 'page-uncommitted'
  /** A page commit: committed. */
  | 'page-committed'
  /** A range was marked done. */
  | 'range-done';

const wanted = parse(process.env.ZDM_TEST_KILL_AT);
let reached = 0;

function parse(value: string | undefined): { point: string; n: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const [point, n] = value.split('@');
  return { point: point!, n: Number(n ?? 1) };
}

export function killPoint(point: KillPoint): void {
  if (wanted === undefined || wanted.point !== point) return;
  reached++;
  if (reached === wanted.n) process.kill(process.pid, 'SIGKILL');
}
