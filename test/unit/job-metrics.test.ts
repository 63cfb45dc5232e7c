import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { JobMetrics } from '../../src/metrics/job-metrics.js';

test('a new session exports both range outcomes at 0', async () => {
  const text = await new JobMetrics('diff', 'ks.t').registry.metrics();
  assert.match(text, /zdm_job_ranges_total\{command="diff",table="ks.t",outcome="done"\} 0/);
  assert.match(text, /zdm_job_ranges_total\{command="diff",table="ks.t",outcome="failed"\} 0/);
});

test('job metrics are served in Prometheus text format', async () => {
  const metrics = new JobMetrics('migrate', 'ks.t');
  metrics.setRanges(10, 3);
  metrics.onCommit({ rowsRead: 1000, rowsWritten: 990, rowsSkipped: 0 });
  metrics.onRangeEnd(true);
  metrics.onRangeEnd(false);
  await metrics.serve('127.0.0.1', 0, silentLogger());
  try {
    const response = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /zdm_job_rows_total\{command="migrate",table="ks.t",counter="rowsRead"\} 1000/);
    assert.match(text, /zdm_job_rows_total\{command="migrate",table="ks.t",counter="rowsWritten"\} 990/);
    assert.match(text, /zdm_job_ranges_total\{command="migrate",table="ks.t",outcome="failed"\} 1/);
    assert.match(text, /zdm_job_ranges\{command="migrate",table="ks.t"\} 10/);
    assert.match(text, /zdm_job_ranges_done\{command="migrate",table="ks.t"\} 4/);
    assert.equal((await fetch(`http://127.0.0.1:${metrics.port}/other`)).status, 404);
  } finally {
    await metrics.close();
  }
});
