import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { scratchDir } from '../helpers/checkpoints.js';
import { type CliResult, diffArgs, migrateArgs, runZdm } from '../helpers/cli.js';
import { clusterPairFixture, seedRows } from '../helpers/keyspace.js';

const KS = 'json_out';

/** Every line of stdout parsed as JSON (the assertion names the line that is not). */
function jsonLines(result: CliResult): Record<string, unknown>[] {
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, `some output: ${result.stderr}`);
  return lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return assert.fail(`not JSON: ${line}`);
    }
  });
}

describe('--json prints JSON on every path of migrate, diff and status', () => {
  const pair = clusterPairFixture(KS, [`CREATE TABLE ${KS}.t (id int PRIMARY KEY, v text)`]);

  before(async () => {
    await seedRows(pair.o, 200, `INSERT INTO ${KS}.t (id, v) VALUES (?, ?)`, (i) => [i, `v${i}`]);
  });

  test('migrate: dry run, a run, an already-completed run', async () => {
    const dir = scratchDir('zdm-json-');
    const args = migrateArgs(`${KS}.t`, pair.origin, pair.target, dir, '--splits', '4', '--json');
    const plan = jsonLines(await runZdm([...args, '--dry-run']));
    assert.equal(plan.at(-1)!['token ranges'], 4);
    const run = await runZdm(args);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(jsonLines(run).at(-1)!['rows read'], 200);
    const again = await runZdm(args);
    assert.equal(again.code, 0, again.stderr);
    const [done] = jsonLines(again);
    assert.equal(done!.status, 'already completed');
    assert.equal(done!['rows read'], 200);
    assert.match(String(done!.checkpoint), /\.sqlite$/);
    // Without --json the same state is one line of text.
    const text = await runZdm(args.filter((a) => a !== '--json'));
    assert.match(text.stdout, /already completed \(200 rows read\); nothing to do/);
  });

  test('diff: dry run and a run; status', async () => {
    const dir = scratchDir('zdm-json-diff-');
    const args = diffArgs(`${KS}.t`, pair.origin, pair.target, dir, '--json');
    jsonLines(await runZdm([...args, '--dry-run']));
    const run = await runZdm(args);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    assert.ok(jsonLines(run).length >= 1);
    const status = await runZdm(['status', '--checkpoint-dir', dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const [line] = jsonLines(status);
    assert.equal(line!.job, 'diff');
  });
});
