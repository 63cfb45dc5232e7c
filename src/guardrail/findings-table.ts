import { formatBytes } from './byte-size.js';
import type { GuardrailReportLine } from './guardrail-report.js';

/** Refused first, then by how far over its limit. */
export function findingOrder(a: GuardrailReportLine, b: GuardrailReportLine): number {
  if (a.severity !== b.severity) return a.severity === 'refused' ? -1 : 1;
  return b.measured / b.limit - a.measured / a.limit;
}

/**
 * The findings worth showing on a terminal: the `limit` most severe, kept while the scan runs
 * without holding every finding (the report file has them all).
 */
export class WorstFindings {
  private kept: GuardrailReportLine[] = [];
  total = 0;

  constructor(private readonly limit: number) {}

  add(line: GuardrailReportLine): void {
    this.total++;
    this.kept.push(line);
    if (this.kept.length >= this.limit * 4) this.trim();
  }

  worst(): readonly GuardrailReportLine[] {
    this.trim();
    return this.kept;
  }

  private trim(): void {
    this.kept = this.kept.sort(findingOrder).slice(0, this.limit);
  }
}

const amount = (value: number, unit: GuardrailReportLine['unit']): string =>
  unit === 'bytes' ? formatBytes(value) : `${value.toLocaleString('en-US')} ${unit}`;

const keyText = (values: Readonly<Record<string, unknown>>): string =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');

/** Cuts long key texts so that one finding stays one line. */
const clip = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, width - 1)}…`;

/** An aligned text table of findings, one per line, for a terminal. */
export function findingsTable(lines: readonly GuardrailReportLine[]): string {
  const header = ['SEVERITY', 'CHECK', 'SCOPE', 'PARTITION KEY', 'CLUSTERING', 'COLUMN', 'MEASURED', 'LIMIT'];
  const rows = lines.map((l) => [
    l.severity === 'refused' ? 'REFUSED' : 'over',
    l.check,
    l.scope,
    clip(keyText(l.key.partition), 40),
    l.key.clustering === null ? '' : clip(keyText(l.key.clustering), 30),
    l.column ?? '',
    amount(l.measured, l.unit),
    amount(l.limit, l.unit),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
