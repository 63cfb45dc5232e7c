import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { CheckpointStore, listCheckpointFiles } from '../../src/checkpoint/checkpoint-store.js';
import { holderPathOf } from '../../src/checkpoint/run-lock.js';

/** Ranges marked done in the (single) checkpoint of `dir`; 0 while it does not exist yet. */
export function doneRangeCount(dir: string): number {
  const [file] = listCheckpointFiles(dir);
  if (file === undefined) return 0;
  try {
    const store = CheckpointStore.open(file);
    try {
      return store.ranges('done').length;
    } finally {
      store.close();
    }
  } catch {
    return 0; // being created at this moment
  }
}

/** How long a wait for a condition may take, and the job process that must still be running meanwhile. */
export interface WaitOptions {
  /** Fails at once if this process ends first (it crashed, or finished before the moment awaited). */
  readonly child?: ChildProcess;
  readonly timeoutMs?: number;
}

/** Polls `condition` until it holds: a wait for a state, whatever the machine's speed, never a fixed sleep. */
export async function waitUntil(
  what: string,
  condition: () => boolean,
  options: WaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child = options.child;
  for (let waited = 0; !condition(); waited += 100) {
    assert.ok(waited < timeoutMs, `${what} within ${timeoutMs} ms`);
    if (child !== undefined)
      assert.ok(
        child.exitCode === null && child.signalCode === null,
        `the job ended (${child.exitCode ?? child.signalCode}) before: ${what}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until a running job has finished `count` ranges. */
export function waitForDoneRanges(dir: string, count: number, options: WaitOptions = {}): Promise<void> {
  return waitUntil(`the run finished ${count} ranges`, () => doneRangeCount(dir) >= count, options);
}

/** Waits until `child` holds the run lock at `lockPath` (its holder file names it). */
export function waitForLockHolder(lockPath: string, child: ChildProcess, timeoutMs?: number): Promise<void> {
  const holds = () => {
    try {
      return (JSON.parse(readFileSync(holderPathOf(lockPath), 'utf8')) as { pid?: number }).pid === child.pid;
    } catch {
      return false; // not written yet
    }
  };
  return waitUntil(`pid ${child.pid} took the lock`, holds, {
    child,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

const scratch: string[] = [];
after(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory (checkpoints of one test) removed when the test file ends. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
