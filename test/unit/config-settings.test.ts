import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveFromArgv } from '../../src/cli/settings-options.js';
import { CLUSTER_SETTINGS, clusterConfig, clusterConfigProblems } from '../../src/config/cluster-settings.js';
import { describeSettings, settingsReference } from '../../src/config/resolve.js';
import { OperatorError } from '../../src/errors.js';

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'zdm-config-')), 'zdm.yaml');
  writeFileSync(path, text);
  return path;
}

describe('configuration: file, then environment, then flags', () => {
  const file = configFile(
    'origin_contact_points: 10.0.0.1,10.0.0.2\norigin_port: 9043\nORIGIN_USERNAME: app\norigin_password: s3cret\ntarget_contact_points: [10.1.0.1]\n',
  );

  test('file values apply, env overrides file, flags override env', () => {
    const env = { ZDM_ORIGIN_PORT: '9044', ZDM_TARGET_PORT: '9050' };
    const { values } = resolveFromArgv(CLUSTER_SETTINGS, { config: file, 'target-port': '9051' }, env);
    const origin = clusterConfig(values, 'origin');
    const target = clusterConfig(values, 'target');
    assert.deepEqual(origin.contactPoints, ['10.0.0.1', '10.0.0.2']);
    assert.equal(origin.port, 9044);
    assert.equal(origin.username, 'app');
    assert.deepEqual(target.contactPoints, ['10.1.0.1']);
    assert.equal(target.port, 9051);
    assert.equal(target.readConsistency, 'LOCAL_QUORUM');
    assert.equal(Object.isFrozen(origin), true);
  });

  test('every bad value is named with its source, in one error', () => {
    const env = { ZDM_ORIGIN_PORT: 'ninety', ZDM_TARGET_READ_CONSISTENCY: 'most' };
    assert.throws(
      () => resolveFromArgv(CLUSTER_SETTINGS, { 'target-connection-timeout-ms': '-5' }, env),
      (error: unknown) => {
        assert.ok(error instanceof OperatorError);
        assert.equal(error.code, 'CONFIG_INVALID');
        assert.match(error.message, /origin_port \(from environment ZDM_ORIGIN_PORT\)/);
        assert.match(
          error.message,
          /target_read_consistency \(from environment ZDM_TARGET_READ_CONSISTENCY\): expected one of/,
        );
        assert.match(
          error.message,
          /target_connection_timeout_ms \(from flag --target-connection-timeout-ms\)/,
        );
        return true;
      },
    );
  });

  test('secrets are redacted when the effective configuration is shown', () => {
    const { values } = resolveFromArgv(CLUSTER_SETTINGS, { config: file }, {});
    const shown = describeSettings(CLUSTER_SETTINGS, values);
    assert.equal(shown.origin_password, '[redacted]');
    assert.equal(shown.origin_username, 'app');
    assert.doesNotMatch(JSON.stringify(shown), /s3cret/);
  });

  test('missing contact points and half-given credentials are reported', () => {
    const { values } = resolveFromArgv(CLUSTER_SETTINGS, {}, { ZDM_TARGET_USERNAME: 'x' });
    const problems = clusterConfigProblems(clusterConfig(values, 'target'));
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /target_contact_points/);
    assert.match(problems[1]!, /target_username .* must be given together/);
  });

  test('a malformed file is an operator error naming the file', () => {
    assert.throws(
      () => resolveFromArgv(CLUSTER_SETTINGS, { config: configFile('a: [1,\n') }, {}),
      /is not valid YAML/,
    );
    assert.throws(
      () => resolveFromArgv(CLUSTER_SETTINGS, { config: '/nonexistent/zdm.yaml' }, {}),
      /Cannot read config file/,
    );
  });

  test('the reference table is generated from the schema', () => {
    const reference = settingsReference(CLUSTER_SETTINGS);
    assert.match(
      reference,
      /\| `origin_contact_points` \| `ZDM_ORIGIN_CONTACT_POINTS` \| `--origin-contact-points` \|/,
    );
  });
});

describe('docs/configuration.md', () => {
  test('is the reference generated from the current schemas (run `npm run docs:config` after a change)', async () => {
    const { readFileSync } = await import('node:fs');
    const { configurationReference } = await import('../../src/config/reference.js');
    assert.equal(
      readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'),
      configurationReference(),
    );
  });
});
