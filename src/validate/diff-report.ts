import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import type { SharedReportLines } from '../checkpoint/run-state.js';
import type { DifferenceKind } from './diff-settings.js';

/** What happened to a reported difference. */
export type RepairOutcome = 'reported' | 'corrected' | 'superseded' | 'failed';

/** A cell as reported: value, writetime (µs) and remaining TTL (s); lists for multi-cell columns. */
export interface CellReport {
  readonly value: unknown;
  readonly writetime: unknown;
  readonly ttl: unknown;
}

/**
 * A documented limitation of migrate, reported for the record: not a difference, never repaired,
 * not counted against the exit code. `list-writetimes`: a non-frozen list whose elements had mixed
 * writetimes/TTLs on Origin, written whole by migrate (README, "What `zdm migrate` preserves").
 */
export const LIMITATION_KINDS = ['list-writetimes'] as const;
export type LimitationKind = (typeof LIMITATION_KINDS)[number];

export const isLimitation = (kind: string): kind is LimitationKind =>
  (LIMITATION_KINDS as readonly string[]).includes(kind);

/**
 * One line of the report: one difference that persisted after the recheck, or one cell that
 * differs only as a documented limitation of migrate explains.
 */
export interface ReportLine {
  readonly kind: DifferenceKind | LimitationKind;
  readonly table: string;
  readonly targetTable: string;
  readonly key: {
    readonly token: string;
    readonly partition: Readonly<Record<string, unknown>>;
    /** Null for a partition's static cells. */
    readonly clustering: Readonly<Record<string, unknown>> | null;
  };
  /** Set for mismatches: the Origin column name. */
  readonly column?: string;
  readonly aspects?: readonly string[];
  readonly origin?: CellReport;
  readonly target?: CellReport;
  /** Missing rows: Origin's cells; extra rows: Target's cells (by Origin column name). */
  readonly originRow?: Readonly<Record<string, CellReport>>;
  readonly targetRow?: Readonly<Record<string, CellReport>>;
  readonly repair: RepairOutcome;
  readonly repairNote?: string;
}

/** The report file of a run: `<checkpoint basename>.diff.jsonl` beside the checkpoint. */
export const reportPathFor = (checkpointPath: string): string =>
  checkpointPath.replace(/\.sqlite$/, '') + '.diff.jsonl';

const dedupeKey = (line: Pick<ReportLine, 'kind' | 'key' | 'column'>): string =>
  `${line.kind}|${JSON.stringify(line.key)}|${line.column ?? ''}`;

/**
 * Appends report lines, once each. A resumed range re-reads from its last committed token and may
 * find the same differences again; lines already in the file (same kind, key and column) are not
 * written twice. A line cut short by kill -9 is dropped when the file is opened again.
 *
 * Several worker processes of one run may append to one report: the file is appended to with
 * O_APPEND (each line one write, so lines of different processes never overwrite each other), and
 * lines the others appended are read before each check, so a range taken over from a dead worker
 * does not report again what that worker reported. Only the process that started the workers
 * (`repairCutLine`) drops a cut line, before the workers open the file.
 *
 * With run state in Cassandra (`shared`), every line also goes to the state, where the machines of
 * a run that spans several find each other's lines (`mergeShared`); `settled` says when the lines
 * appended so far are saved there, which a range awaits before it commits its progress.
 */
export class DiffReport {
  private readonly seen = new Set<string>();
  private readonly fd: number;
  /** Bytes of the file already read into `seen` (up to the end of a complete line). */
  private readUpTo = 0;
  private readonly shared: SharedReportLines | null;
  private readonly saving = new Set<Promise<void>>();
  private saveFailure: unknown;

  constructor(
    readonly path: string,
    options: { readonly repairCutLine?: boolean; readonly shared?: SharedReportLines | null } = {},
  ) {
    this.shared = options.shared ?? null;
    if (existsSync(path) && (options.repairCutLine ?? true)) {
      const bytes = readFileSync(path);
      const complete = completeLength(bytes);
      if (complete < bytes.length) truncateSync(path, complete);
    }
    this.fd = openSync(path, 'a+');
    this.catchUp();
  }

  /** Reads the lines appended since the last look (by this process or another) into `seen`. */
  private catchUp(): void {
    const size = fstatSync(this.fd).size;
    if (size <= this.readUpTo) return;
    const fresh = Buffer.alloc(size - this.readUpTo);
    readSync(this.fd, fresh, 0, fresh.length, this.readUpTo);
    const complete = completeLength(fresh);
    for (const raw of fresh.subarray(0, complete).toString('utf8').split('\n')) {
      if (raw.trim() === '') continue;
      try {
        this.seen.add(dedupeKey(JSON.parse(raw) as ReportLine));
      } catch {
        // A corrupt line is kept as is; it is never a duplicate of a new one.
      }
    }
    this.readUpTo += complete;
  }

  /** Whether this difference is already in the report (from an earlier session or another worker). */
  has(line: Pick<ReportLine, 'kind' | 'key' | 'column'>): boolean {
    this.catchUp();
    return this.seen.has(dedupeKey(line));
  }

  /**
   * Appends a line unless it is already there; returns whether it was written. A line already in
   * the file is still saved to the shared state: it may be there from before a kill that came
   * before its save.
   */
  append(line: ReportLine): boolean {
    this.catchUp();
    const key = dedupeKey(line);
    const text = JSON.stringify(line);
    this.share(key, text);
    return this.writeNew(key, text);
  }

  /** Writes a line whose key the file does not hold yet; returns whether it was written. */
  private writeNew(key: string, text: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    writeSync(this.fd, `${text}\n`);
    return true;
  }

  private share(key: string, text: string): void {
    if (this.shared === null) return;
    const saved: Promise<void> = this.shared
      .save(key, text)
      .catch((error: unknown) => {
        this.saveFailure ??= error;
      })
      .finally(() => this.saving.delete(saved));
    this.saving.add(saved);
  }

  /** Resolves once the lines appended so far are saved to the shared state; throws if one was not. */
  async settled(): Promise<void> {
    await Promise.all(this.saving);
    const failure = this.saveFailure;
    this.saveFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  /** Appends the shared state's lines this file lacks (other machines' findings); returns how many. */
  async mergeShared(): Promise<number> {
    if (this.shared === null) return 0;
    this.catchUp();
    let added = 0;
    for await (const text of this.shared.all()) {
      let key: string;
      try {
        key = dedupeKey(JSON.parse(text) as ReportLine);
      } catch {
        continue; // Not a line this version wrote: left out rather than copied unread.
      }
      if (this.writeNew(key, text)) added++;
    }
    return added;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Bytes up to and including the last newline (the complete lines). */
const completeLength = (bytes: Buffer): number => bytes.lastIndexOf(0x0a) + 1;

/** Reads a report back (for --rerun and tests). */
export function readReport(path: string): ReportLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as ReportLine];
      } catch {
        return [];
      }
    });
}
