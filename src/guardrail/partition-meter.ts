import {
  cellViolations,
  type GuardrailLimits,
  partitionViolations,
  rowViolations,
  type Violation,
} from './limits.js';

/** One column value of a row, measured. */
export interface MeasuredCell {
  readonly column: string;
  readonly bytes: number;
  /** Elements of a collection; undefined for other types. */
  readonly elements: number | undefined;
  /** Static cells belong to the partition: every CQL row of it repeats them. */
  readonly static: boolean;
}

/** One CQL row as read from Origin, measured. */
export interface MeasuredRow {
  readonly token: bigint;
  readonly partition: readonly unknown[];
  readonly partitionKeyBytes: number;
  /** Undefined for the row of a partition that has only static cells. */
  readonly clustering: readonly unknown[] | undefined;
  readonly clusteringBytes: number;
  readonly cells: readonly MeasuredCell[];
}

/** A violation found on a partition, one of its rows, or one of its cells. */
export interface Finding extends Violation {
  readonly scope: 'partition' | 'row' | 'cell';
  readonly token: bigint;
  readonly partition: readonly unknown[];
  /** Set for rows and cells of regular rows; undefined for partitions and static rows/cells. */
  readonly clustering: readonly unknown[] | undefined;
  readonly column: string | undefined;
}

/** A partition read to its end: its totals and everything found on it. */
export interface MeasuredPartition {
  readonly token: bigint;
  readonly partition: readonly unknown[];
  readonly rows: number;
  readonly bytes: number;
  readonly findings: readonly Finding[];
}

interface OpenPartition {
  readonly token: bigint;
  readonly key: string;
  readonly partition: readonly unknown[];
  rows: number;
  bytes: number;
  readonly findings: Finding[];
}

/**
 * Adds up the rows of a token range into partitions. Rows arrive in token order and a partition's
 * rows are contiguous, so a partition ends when the next row has another key (or at the range's end).
 * The estimate is the data of the partition: its key once, and each row's clustering key and cell
 * values as serialized (static cells once). No I/O: the range scanner feeds it pages.
 */
export class PartitionMeter {
  private open: OpenPartition | undefined;

  /** `keyOf`: a partition key's identity (its serialized bytes, see keyBytesOf). */
  constructor(
    private readonly limits: GuardrailLimits,
    private readonly keyOf: (values: readonly unknown[]) => string,
  ) {}

  /** Token of the partition still being read, if any. */
  get openToken(): bigint | undefined {
    return this.open?.token;
  }

  /** Adds a row; returns the partition it closed when it starts a new one. */
  add(row: MeasuredRow): MeasuredPartition | undefined {
    const key = this.keyOf(row.partition);
    let closed: MeasuredPartition | undefined;
    if (this.open === undefined || this.open.token !== row.token || this.open.key !== key) {
      closed = this.finish();
      this.open = {
        token: row.token,
        key,
        partition: row.partition,
        rows: 0,
        bytes: row.partitionKeyBytes,
        findings: [],
      };
    }
    this.measureRow(this.open, row);
    return closed;
  }

  /** Ends the open partition (the range is read to its end). */
  finish(): MeasuredPartition | undefined {
    const open = this.open;
    this.open = undefined;
    if (open === undefined) return undefined;
    const partitionFindings = partitionViolations(open, this.limits).map((v) =>
      this.finding(open, v, 'partition', undefined, undefined),
    );
    return {
      token: open.token,
      partition: open.partition,
      rows: open.rows,
      bytes: open.bytes,
      findings: [...partitionFindings, ...open.findings],
    };
  }

  private measureRow(open: OpenPartition, row: MeasuredRow): void {
    const first = open.rows === 0;
    open.rows++;
    // Static cells repeat on every CQL row of the partition: they are measured on the first only.
    const cells = row.cells.filter((c) => !c.static || first);
    const statics = cells.filter((c) => c.static);
    const regulars = cells.filter((c) => !c.static);
    const sum = (list: readonly MeasuredCell[]) => list.reduce((s, c) => s + c.bytes, 0);
    open.bytes += row.clusteringBytes + sum(cells);
    for (const cell of cells) {
      const clustering = cell.static ? undefined : row.clustering;
      for (const v of cellViolations(cell, this.limits))
        open.findings.push(this.finding(open, v, 'cell', clustering, cell.column));
    }
    // Migrate writes the static row and each regular row as separate mutations (partition key included).
    if (statics.length > 0) {
      for (const v of rowViolations({ bytes: row.partitionKeyBytes + sum(statics) }, this.limits))
        open.findings.push(this.finding(open, v, 'row', undefined, undefined));
    }
    if (row.clustering !== undefined) {
      const bytes = row.partitionKeyBytes + row.clusteringBytes + sum(regulars);
      for (const v of rowViolations({ bytes }, this.limits))
        open.findings.push(this.finding(open, v, 'row', row.clustering, undefined));
    }
  }

  private finding(
    open: OpenPartition,
    violation: Violation,
    scope: Finding['scope'],
    clustering: readonly unknown[] | undefined,
    column: string | undefined,
  ): Finding {
    return { ...violation, scope, token: open.token, partition: open.partition, clustering, column };
  }
}
