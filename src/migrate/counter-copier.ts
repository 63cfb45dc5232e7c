import type { Counts } from '../checkpoint/checkpoint-store.js';
import type { RangeWorker } from '../ranges/range-runner.js';
import { quoteIdent } from '../schema/identifier.js';
import { counterDeltas, counterUpdate } from '../write/counter-writes.js';
import { type CopySetup, readOriginPages } from './range-copier.js';

/**
 * The migrate worker for counter tables: reads Target's current values for the page's rows, then
 * adds the differences. Rows missing on Target are created only when `createMissing` is set.
 */
export function copyCounterRangeWorker(setup: CopySetup, createMissing: boolean): RangeWorker {
  const schema = setup.originSchema;
  const keyColumns = [...schema.partitionKey, ...schema.clustering];
  const counters = setup.copied.filter((c) => c.column.kind === 'regular' || c.column.kind === 'static');
  const targetKeys = keyColumns.map((c) => setup.copied.find((m) => m.column === c)?.targetName ?? c.name);
  const where = targetKeys.map((k) => `${quoteIdent(k)} = ?`).join(' AND ');
  const readTarget = `SELECT ${counters.map((c) => quoteIdent(c.targetName)).join(', ')} FROM ${setup.writeTarget.tableCql} WHERE ${where}`;

  return async ({ range, stop, commit, assertLease }) => {
    for await (const page of readOriginPages(setup, range)) {
      const counts = { rowsRead: 0, rowsWritten: 0, rowsSkipped: 0, rowsUnchanged: 0 };
      const work = page.rows.map((driverRow) =>
        setup.writeSlots(async () => {
          const row = driverRow as unknown as Record<string, unknown>;
          counts.rowsRead++;
          const keyValues = keyColumns.map((c) => row[c.name]);
          const originValues = counters.map((c) => row[c.column.name]);
          const existing = (
            await setup.target.execute(readTarget, keyValues, {
              prepare: true,
              consistency: setup.writeConsistency,
            })
          ).first();
          if (existing === null && !createMissing) {
            counts.rowsSkipped++;
            return;
          }
          const deltas = counterDeltas(
            originValues,
            existing === null ? undefined : counters.map((c) => existing.get(c.targetName)),
          );
          // A missing row is created even when Origin's values are all zero (adding 0 creates it).
          const changed = counters
            .map((c, i) => ({ name: c.targetName, delta: deltas[i]! }))
            .filter((c) => c.delta !== 0n || existing === null);
          if (changed.length === 0) {
            counts.rowsUnchanged++;
            return;
          }
          const update = counterUpdate(
            setup.writeTarget,
            changed.map((c) => ({ column: c.name, delta: c.delta })),
            keyValues,
          )!;
          await setup.writeLimiter.acquire(1);
          // Counter deltas are not idempotent: checked right before each row's update, not just per page.
          assertLease();
          await setup.target.execute(update.query, update.params, {
            prepare: true,
            consistency: setup.writeConsistency,
          });
          counts.rowsWritten++;
        }),
      );
      const results = await Promise.allSettled(work);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      await commit(page.nextState, counts as Counts);
      if (page.nextState !== undefined && stop.aborted) return 'stopped';
    }
    return 'done';
  };
}
