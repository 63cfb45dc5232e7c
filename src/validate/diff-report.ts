import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
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
 */
export class DiffReport {
  private readonly seen = new Set<string>();
  private readonly fd: number;

  constructor(readonly path: string) {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      const complete = text.lastIndexOf('\n') + 1;
      for (const raw of text.slice(0, complete).split('\n')) {
        if (raw.trim() === '') continue;
        try {
          this.seen.add(dedupeKey(JSON.parse(raw) as ReportLine));
        } catch {
          // A corrupt line is kept as is; it is never a duplicate of a new one.
        }
      }
      this.fd = openSync(path, 'r+');
      if (complete < Buffer.byteLength(text))
        ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, complete)));
    } else {
      this.fd = openSync(path, 'w');
    }
  }

  /** Whether this difference is already in the report (from an earlier session). */
  has(line: Pick<ReportLine, 'kind' | 'key' | 'column'>): boolean {
    return this.seen.has(dedupeKey(line));
  }

  /** Appends a line unless it is already there; returns whether it was written. */
  append(line: ReportLine): boolean {
    const key = dedupeKey(line);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    const text = `${JSON.stringify(line)}\n`;
    // Written at the file's end (opened without O_APPEND so that a cut line can be truncated).
    writeSync(this.fd, text, endOf(this.fd));
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The file's end; looked up per line, which costs nothing: lines are rare (differences only). */
const endOf = (fd: number): number => fstatSync(fd).size;

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
