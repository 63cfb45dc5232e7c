import pLimit from 'p-limit';
import type { Counts } from '../checkpoint/checkpoint-store.js';
import type { CqlClient } from '../connect/cluster-client.js';
import type { Logger } from '../log/logger.js';
import { readPages } from '../ranges/page-reader.js';
import type { RangeWorker } from '../ranges/range-runner.js';
import type { RateLimiter } from '../ranges/rate-limiter.js';
import type { TokenRange } from '../ranges/token-ring.js';
import {
  anyInWindow,
  type CellDifference,
  type CompareOptions,
  compareRow,
  hasValues,
  sameWritetimes,
} from './cell-compare.js';
import {
  type CellValue,
  type ComparedColumn,
  type DiffEntry,
  type DiffLayout,
  entryComparator,
  entryKey,
  entryWithout,
  type SideView,
} from './diff-entry.js';
import type { Repairer } from './diff-repair.js';
import type { DiffReport, RepairOutcome, ReportLine } from './diff-report.js';
import type { DifferenceKind } from './diff-settings.js';
import { readEntry } from './point-read.js';
import { type MergeStep, mergeSorted, STOP, type StepResult } from './sorted-merge.js';

export interface DiffSetup {
  readonly origin: CqlClient;
  readonly target: CqlClient;
  readonly layout: DiffLayout;
  readonly originView: SideView;
  readonly targetView: SideView;
  readonly where: string | undefined;
  readonly fetchSize: number;
  readonly originConsistency: number;
  readonly targetConsistency: number;
  readonly originLimiter: RateLimiter;
  readonly targetLimiter: RateLimiter;
  readonly compare: CompareOptions;
  readonly recheckDelayMs: number;
  readonly repair: ReadonlySet<DifferenceKind>;
  readonly repairer: Repairer;
  /** A repairer that leaves the given columns (Origin names) alone: not written, not checked. */
  readonly repairerWithout?: (columns: ReadonlySet<string>) => Repairer;
  readonly report: DiffReport;
  readonly tables: { readonly origin: string; readonly target: string };
  /** The run's fixed timestamp, for deleting extra rows that have no cells. */
  readonly runTimestamp: bigint;
  readonly logger: Logger;
}

/** Counters of a diff range, as saved in the checkpoint. */
export interface DiffCounts {
  rowsCompared: number;
  rowsEqual: number;
  rowsSkipped: number;
  missing: number;
  extra: number;
  mismatched: number;
  /** Differences that were gone on the recheck (writes in flight). */
  transient: number;
  corrected: number;
  superseded: number;
  repairFailed: number;
  /** Lists that differ only as migrate documents (not a difference; see list-writetimes.ts). */
  listWritetimes: number;
}

const zero = (): DiffCounts => ({
  rowsCompared: 0,
  rowsEqual: 0,
  rowsSkipped: 0,
  missing: 0,
  extra: 0,
  mismatched: 0,
  transient: 0,
  corrected: 0,
  superseded: 0,
  repairFailed: 0,
  listWritetimes: 0,
});

function add(into: DiffCounts, from: DiffCounts): void {
  for (const k of Object.keys(into) as (keyof DiffCounts)[]) into[k] += from[k];
}

/** A difference seen by the scan, to be confirmed by a recheck. */
interface Candidate {
  readonly origin: DiffEntry | undefined;
  readonly target: DiffEntry | undefined;
}

/** Resume position of a range: every token up to `after` is fully compared. */
export function encodeResume(after: bigint): string {
  return JSON.stringify({ after: after.toString() });
}

export function decodeResume(state: string | undefined): bigint | undefined {
  if (state === undefined) return undefined;
  try {
    const parsed = JSON.parse(state) as { after?: string };
    return parsed.after === undefined ? undefined : BigInt(parsed.after);
  } catch {
    return undefined;
  }
}

/** A writetime (µs, bigint) or TTL (s) as JSON: 64-bit numbers as strings; lists element-wise. */
const metaJson = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(metaJson) : typeof v === 'bigint' ? v.toString() : (v ?? null);

/** A cell as the report shows it. */
const cellJson = (column: ComparedColumn, c: CellValue) => ({
  value: column.model.toJson(c.value),
  writetime: metaJson(c.writetime),
  ttl: metaJson(c.ttl),
});

const LIST_WRITETIMES_NOTE =
  'migrate writes a list whose elements have mixed writetimes whole, at the newest one (README); not repaired';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads of a row that keeps changing before its difference is reported as it stands. */
const MAX_RECHECKS = 4;

async function* entriesOf(
  setup: DiffSetup,
  view: SideView,
  client: CqlClient,
  range: TokenRange,
  consistency: number,
  limiter: RateLimiter,
): AsyncGenerator<DiffEntry[]> {
  const previous = {};
  const pages = readPages({
    client,
    query: view.rangeQuery(setup.where),
    range,
    fetchSize: setup.fetchSize,
    consistency,
    resumeState: undefined,
    limiter,
  });
  for await (const page of pages) yield [...view.entries(page.rows, previous)];
}

/**
 * The diff worker: reads a range from both clusters in token and clustering order, merges the two
 * streams, and rechecks, reports and (optionally) repairs what differs.
 *
 * Resume: work is grouped by token. The checkpoint saves "every token up to T is done" only once
 * all entries of tokens <= T are compared and their differences settled, so a restarted range reads
 * again from `token > T` and never counts a row twice. Report lines written before a kill -9 but
 * after the last commit are found again and deduplicated by the report.
 */
export function diffRangeWorker(setup: DiffSetup): RangeWorker {
  const compare = entryComparator(setup.layout);
  const describe = (e: DiffEntry) => JSON.stringify(entryKey(setup.layout, e));
  const rechecks = pLimit(16);

  const readOrigin = (key: DiffEntry) =>
    readEntry(setup.originView, setup.origin, setup.originConsistency, key);
  const readTarget = (key: DiffEntry) =>
    readEntry(setup.targetView, setup.target, setup.targetConsistency, key);

  const columnsOf = (e: DiffEntry) =>
    e.clustering === undefined ? setup.layout.statics : setup.layout.regulars;

  /** Rechecks one candidate; reports and repairs it if the difference persists. */
  const present = (e: DiffEntry | undefined) =>
    e !== undefined && (e.clustering !== undefined || hasValues(e.cells));

  /** Whether two reads of an entry hold the same values and writetimes (TTLs tick down, so not those). */
  const sameRead = (a: DiffEntry | undefined, b: DiffEntry | undefined): boolean => {
    if (!present(a) || !present(b)) return present(a) === present(b);
    const columns = columnsOf(a!);
    return a!.cells.every((c, i) => {
      const other = b!.cells[i]!;
      return columns[i]!.model.equals(c.value, other.value) && sameWritetimes(c.writetime, other.writetime);
    });
  };

  /** Repairs a row from Origin, leaving alone the columns that differ only as migrate documents. */
  const repairFromOrigin = (
    o: DiffEntry,
    t: DiffEntry | undefined,
    limitations: readonly CellDifference[],
    readAt: number,
  ) => {
    if (limitations.length === 0 || setup.repairerWithout === undefined)
      return setup.repairer.repairFromOrigin(o, t, readAt);
    const columns = new Set(limitations.map((d) => d.column.origin.name));
    const without = (e: DiffEntry) => entryWithout(setup.layout, e, columns);
    return setup
      .repairerWithout(columns)
      .repairFromOrigin(without(o), t === undefined ? undefined : without(t), readAt);
  };

  /**
   * Rechecks one candidate; reports and repairs it if the difference persists. A row that changed
   * since the previous read is being written to: it is read again (after the delay) until two reads
   * in a row agree, a few times at most, so a write in flight to one cluster is not reported.
   */
  const settle = async (candidate: Candidate, counts: DiffCounts): Promise<void> => {
    const key = (candidate.origin ?? candidate.target)!;
    let previous = [candidate.origin, candidate.target];
    let o: DiffEntry | undefined;
    let t: DiffEntry | undefined;
    let readAt = Date.now();
    for (let read = 1; ; read++) {
      readAt = Date.now();
      [o, t] = await Promise.all([readOrigin(key), readTarget(key)]);
      if ((sameRead(o, previous[0]) && sameRead(t, previous[1])) || read >= MAX_RECHECKS) break;
      previous = [o, t];
      if (setup.recheckDelayMs > 0) await sleep(setup.recheckDelayMs);
    }
    let kind: DifferenceKind;
    let differences: CellDifference[] = [];
    let limitations: CellDifference[] = [];
    if (present(o) && present(t)) {
      // Lists that differ only as migrate documents were reported by the scan (`classify`).
      ({ differences, listWritetimes: limitations } = compareRow(
        columnsOf(o!),
        o!.cells,
        t!.cells,
        setup.compare,
      ));
      if (differences.length === 0) {
        counts.transient++;
        return;
      }
      kind = 'mismatch';
    } else if (present(o)) {
      kind = 'missing';
    } else if (present(t)) {
      kind = 'extra';
    } else {
      counts.transient++;
      return;
    }
    let result: { outcome: RepairOutcome; note?: string } = { outcome: 'reported' };
    if (setup.repair.has(kind)) {
      try {
        result =
          kind === 'extra'
            ? await setup.repairer.deleteExtra(t!, setup.runTimestamp)
            : await repairFromOrigin(o!, present(t) ? t : undefined, limitations, readAt);
      } catch (error) {
        result = { outcome: 'failed', note: (error as Error).message };
      }
    }
    if (kind === 'missing') counts.missing++;
    else if (kind === 'extra') counts.extra++;
    else counts.mismatched++;
    if (result.outcome === 'corrected') counts.corrected++;
    else if (result.outcome === 'superseded') counts.superseded++;
    else if (result.outcome === 'failed') counts.repairFailed++;
    const entry = (kind === 'extra' ? t : o)!;
    const base = {
      kind,
      table: setup.tables.origin,
      targetTable: setup.tables.target,
      key: entryKey(setup.layout, entry),
      repair: result.outcome,
      ...(result.note === undefined ? {} : { repairNote: result.note }),
    };
    if (kind !== 'mismatch') {
      // The row as the side that has it holds it, cell by cell.
      const cells = Object.fromEntries(
        columnsOf(entry).map((c, i) => [c.origin.name, cellJson(c, entry.cells[i]!)]),
      );
      setup.report.append({ ...base, [kind === 'missing' ? 'originRow' : 'targetRow']: cells } as ReportLine);
      return;
    }
    for (const d of differences) {
      setup.report.append({
        ...base,
        column: d.column.origin.name,
        aspects: d.aspects,
        origin: cellJson(d.column, d.origin),
        target: cellJson(d.column, d.target),
      } as ReportLine);
    }
  };

  /**
   * Reports lists that differ only as migrate documents (their own kind, never repaired) and
   * counts them; the row itself counts as equal unless other cells differ.
   */
  const reportListWritetimes = (entry: DiffEntry, cells: readonly CellDifference[], counts: DiffCounts) => {
    for (const d of cells) {
      counts.listWritetimes++;
      setup.report.append({
        kind: 'list-writetimes',
        table: setup.tables.origin,
        targetTable: setup.tables.target,
        key: entryKey(setup.layout, entry),
        column: d.column.origin.name,
        aspects: d.aspects,
        origin: cellJson(d.column, d.origin),
        target: cellJson(d.column, d.target),
        repair: 'reported',
        repairNote: LIST_WRITETIMES_NOTE,
      });
    }
  };

  return async ({ range, stop, commit, assertLease }) => {
    const after = decodeResume(range.resumeState);
    const span = { start: after ?? range.start, end: range.end };
    const origin = entriesOf(
      setup,
      setup.originView,
      setup.origin,
      span,
      setup.originConsistency,
      setup.originLimiter,
    );
    const target = entriesOf(
      setup,
      setup.targetView,
      setup.target,
      span,
      setup.targetConsistency,
      setup.targetLimiter,
    );

    // Entries of the token being read; moved to `ready` once a greater token shows up.
    let groupToken: bigint | undefined;
    let group = zero();
    let groupCandidates: Candidate[] = [];
    let ready = zero();
    let readyCandidates: Candidate[] = [];
    let readyToken: bigint | undefined;

    const closeGroup = () => {
      if (groupToken === undefined) return;
      add(ready, group);
      readyCandidates.push(...groupCandidates);
      readyToken = groupToken;
      group = zero();
      groupCandidates = [];
    };
    const flush = async () => {
      if (readyCandidates.length > 0) {
        if (setup.recheckDelayMs > 0) await sleep(setup.recheckDelayMs);
        // Settling may repair Target (counters by deltas): only while this worker holds the range.
        assertLease();
        const counts = ready;
        await Promise.all(readyCandidates.map((c) => rechecks(() => settle(c, counts))));
      }
      // The lines of these tokens are in the run's shared state before their progress is.
      await setup.report.settled();
      // Also the last commit of a range names its last token: killed before the range is marked
      // done, a restart then finds nothing left to read instead of counting the range twice.
      await commit(
        readyToken === undefined ? range.resumeState : encodeResume(readyToken),
        ready as unknown as Counts,
      );
      ready = zero();
      readyCandidates = [];
    };

    /** Classifies one merge step into the current token group. */
    const classify = (step: MergeStep<DiffEntry>): void => {
      const entry = (step.origin ?? step.target)!;
      const isRow = entry.clustering !== undefined;
      if (step.origin !== undefined && step.target !== undefined) {
        if (isRow) group.rowsCompared++;
        if (isRow && !anyInWindow(step.origin.cells, setup.compare) && hasValues(step.origin.cells)) {
          group.rowsSkipped++;
          return;
        }
        const { differences, listWritetimes } = compareRow(
          columnsOf(step.origin),
          step.origin.cells,
          step.target.cells,
          setup.compare,
        );
        if (listWritetimes.length > 0) reportListWritetimes(step.origin, listWritetimes, group);
        if (differences.length === 0) {
          if (isRow) group.rowsEqual++;
        } else {
          groupCandidates.push(step);
        }
      } else if (step.origin !== undefined) {
        if (!isRow && !hasValues(step.origin.cells)) return;
        if (isRow) group.rowsCompared++;
        if (isRow && !anyInWindow(step.origin.cells, setup.compare)) {
          group.rowsSkipped++;
          return;
        }
        groupCandidates.push(step);
      } else {
        if (!isRow && !hasValues(step.target!.cells)) return;
        groupCandidates.push(step);
      }
    };

    const onStep = (step: MergeStep<DiffEntry>): StepResult => {
      const token = (step.origin ?? step.target)!.token;
      if (token !== groupToken) {
        closeGroup();
        groupToken = token;
        if (ready.rowsCompared + ready.extra >= setup.fetchSize || readyCandidates.length >= 256) {
          return flush().then(() => {
            if (stop.aborted) return STOP;
            classify(step);
            return undefined;
          });
        }
      }
      classify(step);
      return undefined;
    };

    const finished = await mergeSorted(origin, target, compare, onStep, describe);
    if (!finished) return 'stopped';
    closeGroup();
    await flush();
    return 'done';
  };
}
