import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type cassandra from 'cassandra-driver';
import {
  checkClusters,
  checkReport,
  runProgram,
  type SessionContext,
  writeReferenceTypes,
} from '../clients/client-session.js';
import type { ClientProfile } from '../clients/negotiation.js';
import { readProxyOffer } from '../clients/proxy-offer.js';
import {
  type ClientReport,
  expectedKeyValues,
  parseReport,
  typesInsertCql,
  typesTableCql,
} from '../clients/session-spec.js';
import {
  type ClientCommand,
  installCqlsh,
  installGocql,
  installJava,
  installNode,
  installPython,
} from '../helpers/client-install.js';
import { cqlClient, sharedClusters } from '../helpers/clusters.js';
import { startV4OnlyGate } from '../helpers/v4-only-gate.js';

/**
 * Real clients through the real `zdm-proxy start` CLI in front of the Origin and Target test clusters:
 * the Java driver, gocql, the Python driver (default negotiation, LZ4, Snappy), cqlsh and the Node.js
 * driver (v3, v4) each run the scripted session of test/clients/README.md in a keyspace of their own,
 * and both clusters are then read directly. The clients are installed under .zdm/clients/ on first use
 * (test/helpers/client-install.ts); one that cannot be installed fails its test.
 */
const HOST = '127.0.0.1';
const PORT = 14600 + Math.floor(Math.random() * 100);

let origin: cassandra.Client;
let target: cassandra.Client;
let proxy: ChildProcess;
let proxyLog = '';
let context: SessionContext;

// Installs start at once and run while the proxy starts; each test awaits its own.
const installs = {
  java: installJava(),
  gocql: installGocql(),
  python: installPython(),
  cqlsh: installCqlsh(),
  node: installNode(),
};
// A failed install is reported by its test; without this it would also be an unhandled rejection.
for (const install of Object.values(installs)) install.catch(() => undefined);

before(async () => {
  const clusters = await sharedClusters();
  origin = await cqlClient(clusters.origin);
  target = await cqlClient(clusters.target);
  proxy = await startProxyProcess(PORT, {}, (text) => {
    proxyLog += text;
  });
  const offer = await readProxyOffer(HOST, PORT);
  console.log(`# the proxy offers protocol ${offer.versions.join('/')}, compression [${offer.compressions}]`);
  context = {
    proxyHost: HOST,
    proxyPort: PORT,
    offer,
    origin,
    target,
    referenceTypes: await writeReferenceTypes(origin, 'clients_reference'),
  };
});

/** `zdm-proxy start` in front of the test clusters on `port` (metrics on port + 1), once it listens. */
async function startProxyProcess(
  port: number,
  env: Readonly<Record<string, string>>,
  onLog: (text: string) => void,
): Promise<ChildProcess> {
  const clusters = await sharedClusters();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/zdm-proxy.ts', 'start'], {
    env: {
      ...process.env,
      ZDM_ORIGIN_CONTACT_POINTS: clusters.origin.contactPoints.join(','),
      ZDM_TARGET_CONTACT_POINTS: clusters.target.contactPoints.join(','),
      ZDM_PROXY_LISTEN_ADDRESS: HOST,
      ZDM_PROXY_LISTEN_PORT: String(port),
      ZDM_METRICS_PORT: String(port + 1),
      ZDM_LOG_LEVEL: 'INFO',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      onLog(chunk.toString());
      if (log.includes('zdm-proxy listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`zdm-proxy exited with ${code}:\n${log}`)));
  });
  return child;
}

async function stopProxyProcess(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

after(async () => {
  await stopProxyProcess(proxy);
  await origin?.shutdown();
  await target?.shutdown();
});

/** A client program, its keyspace, its arguments after HOST PORT KEYSPACE, and how it negotiates. */
interface ProgramSession {
  readonly title: string;
  readonly name: string;
  readonly install: Promise<ClientCommand>;
  readonly profile: ClientProfile;
  readonly args?: readonly string[];
}

const PROGRAM_SESSIONS: readonly ProgramSession[] = [
  {
    title: 'the Java driver 4.x',
    name: 'java',
    install: installs.java,
    profile: { maxVersion: 5, compression: 'none' },
  },
  {
    title: 'the Java driver 4.x asking for lz4',
    name: 'java_lz4',
    install: installs.java,
    profile: { maxVersion: 5, compression: 'lz4' },
    args: ['lz4'],
  },
  {
    title: 'the Java driver 4.x on protocol v4 asking for lz4',
    name: 'java_v4_lz4',
    install: installs.java,
    profile: { maxVersion: 4, compression: 'lz4' },
    args: ['lz4', 'V4'],
  },
  {
    title: 'gocql v2',
    name: 'gocql',
    install: installs.gocql,
    profile: { maxVersion: 5, compression: 'none' },
  },
  // Frame bodies compressed by each driver's own codec (lz4-java, pierrec/lz4, golang/snappy) and
  // by the proxy: small ones in TypeScript, large ones (the schema tables drivers read at start) by
  // the native libraries.
  ...(['lz4', 'snappy'] as const).map((compression) => ({
    title: `gocql v2 on protocol v4 asking for ${compression}`,
    name: `gocql_v4_${compression}`,
    install: installs.gocql,
    profile: { maxVersion: 4, compression },
    args: [compression, '4'],
  })),
  ...(['auto', 'lz4', 'snappy'] as const).map((compression) => ({
    title:
      compression === 'auto'
        ? 'the Python driver, default negotiation'
        : `the Python driver asking for ${compression}`,
    name: compression === 'auto' ? 'python' : `python_${compression}`,
    install: installs.python,
    profile: { maxVersion: 5, compression },
    args: [compression],
  })),
  // v5 compresses segments with LZ4 only: Snappy (and LZ4 frame bodies) are exercised on v4.
  ...(['lz4', 'snappy'] as const).map((compression) => ({
    title: `the Python driver on protocol v4 asking for ${compression}`,
    name: `python_v4_${compression}`,
    install: installs.python,
    profile: { maxVersion: 4, compression },
    args: [compression, '4'],
  })),
  ...[3, 4].map((version) => ({
    title: `the Node.js driver with protocol v${version} at most`,
    name: `node_v${version}`,
    install: installs.node,
    profile: { maxVersion: version, compression: 'none' as const },
    args: [String(version)],
  })),
];

describe('zdm-proxy start (the CLI)', () => {
  test('logs its effective configuration without secrets', () => {
    assert.match(proxyLog, /effective configuration/);
    assert.match(proxyLog, /"proxy_listen_port":/);
  });
});

describe('real clients through the proxy, each running the scripted session', () => {
  for (const session of PROGRAM_SESSIONS) {
    test(session.title, async () => {
      const keyspace = `clients_${session.name}`;
      const logFrom = proxyLog.length;
      const stdout = await runProgram(await session.install, [
        HOST,
        String(PORT),
        keyspace,
        ...(session.args ?? []),
      ]);
      const report = parseReport(stdout);
      checkReport(session.name, report, session.profile, context);
      // The proxy's own account of the connections the session opened: what it really spoke.
      const ready = [
        ...proxyLog
          .slice(logFrom)
          .matchAll(/"protocolVersion":(\d+),"compression":"(\w+)".*client session ready/g),
      ];
      assert.ok(ready.length > 0, `${session.name}: the proxy logged its connections`);
      for (const [, version, compression] of ready) {
        assert.equal(
          Number(version),
          report.protocolVersion,
          `${session.name}: protocol version at the proxy`,
        );
        assert.equal(compression, report.compression, `${session.name}: compression at the proxy`);
      }
      await checkClusters(session.name, keyspace, context);
    });
  }

  test('cqlsh, with DESCRIBE TABLES and COPY TO / COPY FROM a CSV file', async () => {
    const program = await installs.cqlsh;
    const keyspace = 'clients_cqlsh';
    const dir = mkdtempSync(join(tmpdir(), 'zdm-cqlsh-'));
    try {
      // COPY FROM loads the session's prepared rows 1..120 from a CSV file.
      writeFileSync(
        join(dir, 'kv-in.csv'),
        Array.from({ length: 120 }, (_, i) => `${i + 1},row-${i + 1}\n`).join(''),
      );
      const script = readFileSync(join('test', 'clients', 'cqlsh', 'session.cql'), 'utf8')
        .replaceAll('{{keyspace}}', keyspace)
        .replaceAll('{{dir}}', dir)
        .replaceAll('{{types_table}}', typesTableCql())
        .replaceAll('{{types_insert}}', typesInsertCql());
      writeFileSync(join(dir, 'session.cql'), script);
      // cqlsh -f exits 2 when any statement failed, so runProgram rejects with its output.
      const output = await runProgram(program, [HOST, String(PORT), '-f', join(dir, 'session.cql')]);

      const version = /Native protocol v(\d+)\]/.exec(output)?.[1];
      assert.ok(version !== undefined, `SHOW VERSION printed the protocol version:\n${output}`);
      assert.match(output, /^counters\s+kv\s+lwt\s+types$/m, 'DESCRIBE TABLES lists the tables');
      assert.match(output, /120 rows imported from 1 files/, 'COPY FROM loaded the CSV file');
      assert.match(output, /124 rows exported to 1 files/, 'COPY TO wrote every row');
      const exported = readFileSync(join(dir, 'kv-out.csv'), 'utf8').trimEnd().split(/\r?\n/);
      assert.deepEqual(
        new Map(exported.map((line) => [Number(line.split(',')[0]), line.slice(line.indexOf(',') + 1)])),
        new Map(expectedKeyValues()),
        'the CSV file COPY TO wrote',
      );
      const pagedRows = Number(/^\((\d+) rows\)$/m.exec(output)?.[1]);
      const lwtApplied = [...output.matchAll(/^\s+(True|False)\b/gm)].map((m) => m[1] === 'True');
      const driver = parseReport(output);
      const report: ClientReport = { ...driver, pagedRows, lwtApplied };
      assert.equal(Number(version), report.protocolVersion, 'SHOW VERSION agrees with the driver');
      checkReport('cqlsh', report, { maxVersion: 5, compression: 'auto' }, context);
      await checkClusters('cqlsh', keyspace, context);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ZDM_BLOCKED_PROTOCOL_VERSIONS', () => {
  test('with v5 blocked, the Python driver is refused v5, steps down to v4 and keeps LZ4', async () => {
    const port = PORT + 200;
    let log = '';
    const blocked = await startProxyProcess(
      port,
      { ZDM_BLOCKED_PROTOCOL_VERSIONS: 'v5,DseV1,DseV2' },
      (text) => {
        log += text;
      },
    );
    try {
      const offer = await readProxyOffer(HOST, port);
      assert.deepEqual(offer.versions, [3, 4], 'SUPPORTED no longer lists v5');
      const keyspace = 'clients_python_blocked_v5';
      const stdout = await runProgram(await installs.python, [HOST, String(port), keyspace, 'auto']);
      const report = parseReport(stdout);
      checkReport(
        'python_blocked_v5',
        report,
        { maxVersion: 5, compression: 'auto' },
        {
          ...context,
          proxyPort: port,
          offer,
        },
      );
      assert.equal(report.protocolVersion, 4);
      assert.equal(report.compression, 'lz4');
      assert.match(log, /"protocolVersion":4,"compression":"lz4".*client session ready/);
      assert.doesNotMatch(log, /"protocolVersion":5,.*client session ready/);
      await checkClusters('python_blocked_v5', keyspace, context);
    } finally {
      await stopProxyProcess(blocked);
    }
  });
});

describe('a cluster that speaks protocol v4 at most (Cassandra 3.x), clients on v5', () => {
  // The Python driver pinned to v5 (it cannot step down) with LZ4 segments, with Origin (the usual
  // case: an old Origin, a new Target) or Target on v4, and with Target primary (its reads, result
  // columns and ids then come through the translation); the Java driver and gocql negotiating. All
  // keep v5 with the proxy, which speaks v4 to that cluster and translates.
  type BridgedSession = ProgramSession & {
    readonly gated: 'origin' | 'target';
    readonly env?: Readonly<Record<string, string>>;
  };
  const python = {
    install: installs.python,
    args: ['lz4', '5'],
    profile: { maxVersion: 5, compression: 'lz4' },
  } as const;
  const sessions: readonly BridgedSession[] = [
    {
      ...python,
      title: 'the Python driver pinned to v5, Target on v4',
      name: 'python_v5_on_v4_target',
      gated: 'target',
    },
    {
      ...python,
      title: 'the Python driver pinned to v5, Target on v4 and primary',
      name: 'python_v5_on_v4_target_primary',
      gated: 'target',
      env: { ZDM_PRIMARY_CLUSTER: 'TARGET' },
    },
    {
      ...python,
      title: 'the Python driver pinned to v5, Origin on v4',
      name: 'python_v5_on_v4_origin',
      gated: 'origin',
    },
    {
      title: 'the Java driver 4.x, Target on v4',
      name: 'java_on_v4_target',
      install: installs.java,
      profile: { maxVersion: 5, compression: 'none' },
      gated: 'target',
    },
    {
      title: 'gocql v2, Origin on v4',
      name: 'gocql_on_v4_origin',
      install: installs.gocql,
      profile: { maxVersion: 5, compression: 'none' },
      gated: 'origin',
    },
  ];
  for (const [index, session] of sessions.entries()) {
    test(`${session.title}: every statement reaches both clusters`, async () => {
      const clusters = await sharedClusters();
      const gatedCluster = clusters[session.gated];
      const gate = await startV4OnlyGate({ host: gatedCluster.contactPoints[0]!, port: gatedCluster.port });
      const role = session.gated.toUpperCase();
      const port = PORT + 300 + index * 2;
      let log = '';
      const bridged = await startProxyProcess(
        port,
        {
          [`ZDM_${role}_CONTACT_POINTS`]: gate.host,
          [`ZDM_${role}_PORT`]: String(gate.port),
          ...session.env,
        },
        (text) => {
          log += text;
        },
      );
      try {
        const offer = await readProxyOffer(HOST, port);
        const keyspace = `clients_${session.name}`;
        const stdout = await runProgram(await session.install, [
          HOST,
          String(port),
          keyspace,
          ...(session.args ?? []),
        ]);
        const report = parseReport(stdout);
        checkReport(session.name, report, session.profile, { ...context, proxyPort: port, offer });
        assert.equal(report.protocolVersion, 5, 'the client kept v5');
        assert.ok(gate.refusedV5() > 0, `${session.gated} refused v5 (the proxy then bridged it)`);
        assert.match(log, /"protocolVersion":5,.*client session ready/);
        await checkClusters(session.name, keyspace, context);
      } finally {
        await stopProxyProcess(bridged);
        await gate.close();
      }
    });
  }
});
