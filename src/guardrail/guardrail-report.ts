import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointFileName } from '../checkpoint/checkpoint-store.js';
import { describeError, OperatorError } from '../errors.js';
import { cqlValueModel } from '../schema/cql-value/index.js';
import type { TableSchema } from '../schema/table-schema.js';
import type { CheckName, Severity, Unit } from './limits.js';
import type { Finding } from './partition-meter.js';

/** One line of the JSON Lines report: one partition, row or cell over one limit. */
export interface GuardrailReportLine {
  readonly check: CheckName;
  readonly severity: Severity;
  readonly scope: Finding['scope'];
  readonly table: string;
  readonly key: {
    readonly token: string;
    readonly partition: Readonly<Record<string, unknown>>;
    /** Null for a partition, or for a static row or cell. */
    readonly clustering: Readonly<Record<string, unknown>> | null;
  };
  /** Set for cells. */
  readonly column?: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: Unit;
}

/** A finding as a report line, with the key's column names and JSON-safe values. */
export function reportLine(schema: TableSchema, finding: Finding): GuardrailReportLine {
  const named = (columns: TableSchema['partitionKey'], values: readonly unknown[]) =>
    Object.fromEntries(
      columns.map((c, i) => [c.name, cqlValueModel(c.type, schema.userTypes).toJson(values[i])]),
    );
  return {
    check: finding.check,
    severity: finding.severity,
    scope: finding.scope,
    table: `${schema.keyspace}.${schema.table}`,
    key: {
      token: finding.token.toString(),
      partition: named(schema.partitionKey, finding.partition),
      clustering: finding.clustering === undefined ? null : named(schema.clustering, finding.clustering),
    },
    ...(finding.column === undefined ? {} : { column: finding.column }),
    measured: finding.measured,
    limit: finding.limit,
    unit: finding.unit,
  };
}

/**
 * The report of one run, `guardrail-<ks.table>-<time>.jsonl`: every finding, one JSON object per line,
 * in the order partitions were read to their end. A run always writes a new file.
 */
export class GuardrailReport {
  private readonly fd: number;
  lines = 0;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** A new report in `dir` (created if needed); a second run in the same second gets its own file. */
  static create(dir: string, table: string, at: Date): GuardrailReport {
    const base = checkpointFileName('guardrail', table, at).replace(/\.sqlite$/, '');
    try {
      mkdirSync(dir, { recursive: true });
      let path = join(dir, `${base}.jsonl`);
      for (let i = 2; existsSync(path); i++) path = join(dir, `${base}-${i}.jsonl`);
      return new GuardrailReport(path, openSync(path, 'wx'));
    } catch (error) {
      throw new OperatorError(
        'REPORT_DIR',
        `Cannot write the guardrail report in ${dir}: ${describeError(error)}`,
        'Point --report-dir at a writable directory.',
      );
    }
  }

  append(line: GuardrailReportLine): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    this.lines++;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads a report back (tests, scripts). */
export function readGuardrailReport(path: string): GuardrailReportLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GuardrailReportLine);
}
