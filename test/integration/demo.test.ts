import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { sharedClusters } from '../helpers/clusters.js';

/**
 * The README's first command, smaller: the five-phase demo on the shared test clusters, with its
 * sample application writing through a real zdm-proxy the whole time. It must end with 0
 * differences (exit 0) and leave Target with everything the application wrote.
 */
describe('npm run demo (five phases, small)', () => {
  test('ends with 0 differences and the summary of every phase', { timeout: 15 * 60_000 }, async () => {
    const { origin, target } = await sharedClusters();
    const args = [
      '--import',
      'tsx',
      'scripts/demo.ts',
      `--use-clusters=${origin.contactPoints[0]},${target.contactPoints[0]}`,
      '--rows=4000',
      '--phase-seconds=3',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, `demo failed:\n${stdout}\n${stderr.slice(-4000)}`);
    for (const phase of ['Phase 1', 'Phase 2a', 'Phase 2b', 'Phase 3', 'Phase 4', 'Phase 5', 'Summary'])
      assert.match(stdout, new RegExp(`== ${phase}`));
    assert.match(stdout, /Done: Target equals Origin/);

    // What the application wrote through the proxy is on Target, read back directly.
    const client = new cassandra.Client({
      contactPoints: [...target.contactPoints],
      localDataCenter: target.localDataCenter,
    });
    await client.connect();
    try {
      const live = await client.execute(
        "SELECT count(*) FROM demo.readings WHERE status = 'live' ALLOW FILTERING",
      );
      assert.ok(Number(live.first()!.get(0)) > 0, 'no reading written by the application reached Target');
      const seeded = await client.execute('SELECT count(*) FROM demo.profiles');
      assert.equal(Number(seeded.first()!.get(0)), 200);
    } finally {
      await client.shutdown();
    }
  });
});
