/** A request-duration histogram of the proxy, summed over its buckets: how many, and the mean. */
export interface LatencyLine {
  readonly series: string;
  readonly count: number;
  readonly meanMs: number;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)_(sum|count)(\{[^}]*\})?\s+(\S+)$/;

/**
 * Mean latency of each request-duration histogram series in a Prometheus text page
 * (`<name>_sum` / `<name>_count`), e.g. reads served by Origin, by Target, and async reads.
 * Series of the same name and labels are added up (several nodes of one cluster).
 */
export function requestLatencies(metricsText: string): LatencyLine[] {
  const totals = new Map<string, { sum: number; count: number }>();
  for (const line of metricsText.split('\n')) {
    const match = SAMPLE.exec(line.trim());
    if (match === null || !match[1]!.includes('request_duration_seconds')) continue;
    const labels = (match[3] ?? '').replace(/,?node="[^"]*"/, '').replace('{,', '{');
    const series = `${match[1]}${labels === '{}' ? '' : labels}`;
    const entry = totals.get(series) ?? { sum: 0, count: 0 };
    if (match[2] === 'sum') entry.sum += Number(match[4]);
    else entry.count += Number(match[4]);
    totals.set(series, entry);
  }
  return [...totals]
    .filter(([, t]) => t.count > 0)
    .map(([series, t]) => ({ series, count: t.count, meanMs: (t.sum / t.count) * 1000 }));
}

/** The difference between two readings of the same page: what happened in between. */
export function latencySince(before: readonly LatencyLine[], after: readonly LatencyLine[]): LatencyLine[] {
  return after
    .map((a) => {
      const b = before.find((x) => x.series === a.series);
      const count = a.count - (b?.count ?? 0);
      const sumMs = a.meanMs * a.count - (b === undefined ? 0 : b.meanMs * b.count);
      return { series: a.series, count, meanMs: count > 0 ? sumMs / count : 0 };
    })
    .filter((l) => l.count > 0);
}
