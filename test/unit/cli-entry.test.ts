import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';

/**
 * The README's commands are written as `npx zdm ...` / `npx zdm-proxy ...` from a clone: `npm ci`
 * builds dist/ (the `prepare` script) and npx finds the package's own bins. This runs them as written.
 */
function npx(...args: string[]) {
  return spawnSync('npx', ['--no-install', ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('the installed command lines', () => {
  it('dist/ was built by npm ci (the prepare script)', () => {
    assert.ok(existsSync('dist/cli/zdm.js'), 'dist/cli/zdm.js is missing: run `npm ci` or `npm run build`');
  });

  for (const bin of ['zdm', 'zdm-proxy']) {
    it(`npx ${bin} --help prints the usage and exits 0`, () => {
      const run = npx(bin, '--help');
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^${bin} <command>`));
    });
  }

  it('a mistyped flag exits 2 with one short message and a suggestion', () => {
    const run = npx('zdm', 'migrate', 'ks.t', '--concurency', '4');
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /unknown option: --concurency\n {2}did you mean --concurrency\?/);
    assert.ok(run.stderr.split('\n').length < 6, run.stderr);
  });

  it('a missing argument exits 2', () => {
    const run = npx('zdm', 'diff');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /missing argument/);
  });
});
