import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { CheckpointStore, listCheckpointFiles } from '../../src/checkpoint/checkpoint-store.js';

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

/**
 * Waits until a running job has finished `count` ranges, whatever the machine's speed. With `child`,
 * fails at once if that process ends first (it crashed, or finished before the moment awaited).
 */
export async function waitForDoneRanges(
  dir: string,
  count: number,
  options: { readonly child?: ChildProcess; readonly timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  for (let waited = 0; doneRangeCount(dir) < count; waited += 200) {
    assert.ok(waited < timeoutMs, `the run finished ${count} ranges within ${timeoutMs} ms`);
    const child = options.child;
    if (child !== undefined)
      assert.ok(
        child.exitCode === null && child.signalCode === null,
        `the job ended (${child.exitCode ?? child.signalCode}) before finishing ${count} ranges`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
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
