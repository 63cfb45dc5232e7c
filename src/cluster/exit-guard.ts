import { readCmdline, signal, terminateProcess } from './node-process.js';

/**
 * Makes sure node JVMs started by this process do not outlive it by accident: a 1 GB JVM left behind by
 * a crashed test run holds its address and ports and breaks the next run.
 *
 * Nodes started detached (the `zdm cluster start` CLI) are deliberately not tracked.
 */

/** Pid → the marker argument its command line must carry, so a reused pid is never killed. */
const tracked = new Map<number, string>();
const signalCleanups: Array<() => Promise<void>> = [];
let installed = false;
let stopping = false;

/** Grace before SIGKILL when the process is asked to stop (SIGINT/SIGTERM). */
const SIGNAL_GRACE_MS = 15_000;

export function trackNode(pid: number, marker: string): void {
  install();
  tracked.set(pid, marker);
}

export function untrackNode(pid: number): void {
  tracked.delete(pid);
}

/**
 * Extra async work for SIGINT/SIGTERM, run after tracked nodes are stopped and before exiting (the
 * integration runner uses it to stop its test process and sweep strays).
 */
export function addSignalCleanup(cleanup: () => Promise<void>): void {
  install();
  signalCleanups.push(cleanup);
}

/** Pids this process started and has not stopped yet. */
export function trackedNodes(): readonly number[] {
  return [...tracked.keys()];
}

function install(): void {
  if (installed) return;
  installed = true;
  // 'exit' handlers must be synchronous: no time for a clean shutdown, only SIGKILL.
  process.on('exit', () => {
    for (const [pid, marker] of tracked) if (readCmdline(pid)?.includes(marker)) signal(pid, 'SIGKILL');
  });
  process.on('SIGINT', () => void stopAllThenExit(130));
  process.on('SIGTERM', () => void stopAllThenExit(143));
}

async function stopAllThenExit(code: number): Promise<void> {
  // A second Ctrl-C while nodes drain should not start a second round of termination.
  if (stopping) return;
  stopping = true;
  const ours = [...tracked].filter(([pid, marker]) => readCmdline(pid)?.includes(marker));
  await Promise.allSettled(ours.map(([pid]) => terminateProcess(pid, SIGNAL_GRACE_MS)));
  tracked.clear();
  for (const cleanup of signalCleanups) await cleanup().catch(() => undefined);
  process.exit(code);
}
