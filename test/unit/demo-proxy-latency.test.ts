import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latencySince, requestLatencies } from '../../scripts/demo/proxy-latency.js';

const page = `# HELP zdm_proxy_request_duration_seconds Request latency
# TYPE zdm_proxy_request_duration_seconds histogram
zdm_proxy_request_duration_seconds_bucket{le="0.005",type="reads_origin"} 3
zdm_proxy_request_duration_seconds_sum{type="reads_origin"} 0.5
zdm_proxy_request_duration_seconds_count{type="reads_origin"} 100
zdm_proxy_request_duration_seconds_sum{type="writes"} 2
zdm_proxy_request_duration_seconds_count{type="writes"} 50
zdm_proxy_request_duration_seconds_sum{type="reads_target"} 0
zdm_proxy_request_duration_seconds_count{type="reads_target"} 0
zdm_async_request_duration_seconds_sum{node="127.0.0.3:9042",type="reads"} 0.3
zdm_async_request_duration_seconds_count{node="127.0.0.3:9042",type="reads"} 10
zdm_async_request_duration_seconds_sum{node="127.0.0.4:9042",type="reads"} 0.1
zdm_async_request_duration_seconds_count{node="127.0.0.4:9042",type="reads"} 10
zdm_proxy_failed_reads_total{cluster="origin"} 0
`;

describe('requestLatencies', () => {
  it('gives count and mean per series, nodes of one cluster added up, empty series left out', () => {
    assert.deepEqual(requestLatencies(page), [
      { series: 'zdm_proxy_request_duration_seconds{type="reads_origin"}', count: 100, meanMs: 5 },
      { series: 'zdm_proxy_request_duration_seconds{type="writes"}', count: 50, meanMs: 40 },
      { series: 'zdm_async_request_duration_seconds{type="reads"}', count: 20, meanMs: 20 },
    ]);
  });
  it('latencySince keeps what happened between two readings', () => {
    const before = [{ series: 's', count: 10, meanMs: 10 }];
    const after = [
      { series: 's', count: 30, meanMs: 20 },
      { series: 't', count: 5, meanMs: 2 },
    ];
    assert.deepEqual(latencySince(before, after), [
      { series: 's', count: 20, meanMs: 25 },
      { series: 't', count: 5, meanMs: 2 },
    ]);
  });
});
