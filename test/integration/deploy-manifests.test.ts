/**
 * The deployment files, checked without Docker or Kubernetes (neither runs here) and without
 * Cassandra: the Dockerfile parsed by BuildKit's own parser and checks, the Helm chart linted and
 * rendered by the real Helm CLI, and every rendered manifest decoded strictly into the Kubernetes API
 * types (test/tools/manifest-check). Each validator is shown to reject a broken input too.
 * The tools are built from the Go module proxy on first use; a tool that cannot be built fails the test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { installGoTool, installHelm } from '../helpers/client-install.js';
import { type DockerfileReport, dockerfileProblems, isPinned } from '../helpers/dockerfile-report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = fileURLToPath(new URL('../../deploy/zdm', import.meta.url));
const TOPOLOGY_SCRIPT = fileURLToPath(new URL('../../deploy/zdm/files/proxy-topology.sh', import.meta.url));
const PROXY_PORTS = [14002, 14001];
// Building Helm from source takes minutes on two busy cores, the first time only (cached in .zdm/).
const INSTALL_TIMEOUT_MS = 30 * 60_000;

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(
  command: string,
  args: readonly string[],
  options: { readonly input?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

async function succeed(command: string, args: readonly string[], input?: string): Promise<string> {
  const outcome = await exec(command, args, { input });
  assert.equal(outcome.code, 0, `${command} ${args.join(' ')} failed:\n${outcome.stderr}${outcome.stdout}`);
  return outcome.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field below.
type Manifest = Record<string, any>;

// A Helm built from source assumes Kubernetes 1.20 when no cluster is reached; the chart needs 1.28.
const KUBE_VERSION = ['--kube-version', '1.34.0'];
const VALUES = [
  ...KUBE_VERSION,
  '--set',
  'origin.contactPoints={origin-0.example,origin-1.example}',
  '--set',
  'target.contactPoints={target-0.example}',
  '--set',
  'credentials.existingSecret=zdm-credentials',
  '--set',
  'job.enabled=true',
  '--set',
  'job.tables={shop.orders}',
];

describe('Dockerfile', () => {
  let check: string;
  before(async () => {
    check = await installGoTool('dockerfile-check');
  });

  it('parses with BuildKit, passes its build checks and builds a sane image', async () => {
    const report = JSON.parse(await succeed(check, ['Dockerfile'])) as DockerfileReport;
    assert.deepEqual(dockerfileProblems(report, PROXY_PORTS), []);
    const runtime = report.stages.at(-1);
    const copied = runtime?.instructions.filter((i) => i.keyword === 'copy').map((i) => i.args[0]);
    assert.deepEqual(copied, ['/src/package.json', '/src/node_modules', '/src/dist']);
    const command = runtime?.instructions.find((i) => i.keyword === 'cmd');
    assert.deepEqual(command?.args, ['zdm-proxy', 'start']);
  });

  it('is refused when it does not parse', async () => {
    const outcome = await exec(check, ['-'], { input: 'FROM node:20.19.5\nCOPPY . .\n' });
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /unknown instruction: COPPY/);
  });

  it('is refused when it runs as root, is unpinned or hides the proxy ports', async () => {
    const broken =
      'FROM node AS build\nRUN npm ci && npm run build\nFROM node:latest\nUSER root\nEXPOSE 9042\nCMD ["zdm-proxy"]\n';
    const report = JSON.parse(await succeed(check, ['-'], broken)) as DockerfileReport;
    assert.deepEqual(dockerfileProblems(report, PROXY_PORTS), [
      'stage build: base image node is not pinned to a version',
      'stage (unnamed): base image node:latest is not pinned to a version',
      'the runtime stage runs as root (USER root)',
      'the runtime stage does not EXPOSE 14002',
      'the runtime stage does not EXPOSE 14001',
    ]);
  });

  it('reads a pinned image only with a version or a digest', () => {
    const table: [string, boolean][] = [
      ['node:20.19.5-bookworm-slim', true],
      ['registry.example:5000/node:20.19', true],
      [`node@sha256:${'a'.repeat(64)}`, true],
      ['node', false],
      ['node:latest', false],
      ['node:20', false],
      ['registry.example:5000/node', false],
    ];
    for (const [image, pinned] of table) assert.equal(isPinned(image), pinned, image);
  });
});

describe('Helm chart', { timeout: INSTALL_TIMEOUT_MS }, () => {
  let helm: string;
  let manifestCheck: string;
  let rendered: string;
  let manifests: Manifest[];
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const one = (kind: string) => {
    const found = byKind(kind);
    assert.equal(found.length, 1, `one ${kind}`);
    return found[0] as Manifest;
  };

  before(async () => {
    [helm, manifestCheck] = await Promise.all([installHelm(), installGoTool('manifest-check')]);
    rendered = await succeed(helm, ['template', 'shop', CHART, ...VALUES]);
    manifests = parseAllDocuments(rendered)
      .map((d) => d.toJS() as Manifest | null)
      .filter((m): m is Manifest => m !== null);
  });

  it('passes helm lint --strict', async () => {
    const out = await succeed(helm, ['lint', '--strict', CHART, ...VALUES]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders manifests that decode strictly into the Kubernetes API types', async () => {
    const valid = (await succeed(manifestCheck, [], rendered)).trim().split('\n').sort();
    assert.deepEqual(valid, [
      'ConfigMap/shop-zdm-proxy',
      'ConfigMap/shop-zdm-proxy-topology',
      'ConfigMap/shop-zdm-settings',
      'Job/shop-zdm-migrate',
      'PersistentVolumeClaim/shop-zdm-checkpoints',
      'PodDisruptionBudget/shop-zdm-proxy',
      'Service/shop-zdm-proxy',
      'Service/shop-zdm-proxy-peers',
      'StatefulSet/shop-zdm-proxy',
    ]);
  });

  it('rejects a manifest with a misspelt field, a wrong type, an unknown kind or a bad port name', async () => {
    const statefulSet = rendered.split(/^---$/m).find((d) => d.includes('kind: StatefulSet')) ?? '';
    const cases: [string, string, RegExp][] = [
      [
        'misspelt field',
        statefulSet.replace(/^ {2}replicas:/m, '  replica:'),
        /unknown field "spec.replica"/,
      ],
      ['wrong type', statefulSet.replace(/^ {2}replicas: 3$/m, '  replicas: three'), /replicas/],
      ['unknown kind', statefulSet.replace('kind: StatefulSet', 'kind: StatefulSett'), /StatefulSett/],
      [
        'bad port name',
        statefulSet.replace('- name: metrics', '- name: metrics_port'),
        /port name "metrics_port"/,
      ],
      [
        'duplicate key',
        statefulSet.replace(/^ {2}replicas: 3$/m, '  replicas: 3\n  replicas: 4'),
        /replicas/,
      ],
    ];
    for (const [what, manifest, message] of cases) {
      assert.notEqual(manifest, statefulSet, `${what}: the mutation applies`);
      const outcome = await exec(manifestCheck, [], { input: manifest });
      assert.equal(outcome.code, 1, `${what} is rejected`);
      assert.match(outcome.stderr, message, what);
    }
  });

  it('runs the proxy as a StatefulSet whose ordinal and peers become its topology', () => {
    const statefulSet = one('StatefulSet');
    const pod = statefulSet.spec.template.spec;
    const container = pod.containers[0];
    const env = new Map<string, Manifest>(container.env.map((e: Manifest) => [e.name, e]));
    assert.equal(
      env.get('ZDM_PROXY_TOPOLOGY_INDEX')?.valueFrom.fieldRef.fieldPath,
      "metadata.labels['apps.kubernetes.io/pod-index']",
    );
    assert.equal(statefulSet.spec.podManagementPolicy, 'Parallel');
    const headless = byKind('Service').find((s) => s.spec.clusterIP === 'None') as Manifest;
    assert.equal(statefulSet.spec.serviceName, headless.metadata.name);
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    assert.equal(env.get('HEADLESS_SERVICE')?.value, headless.metadata.name);
    assert.equal(env.get('STATEFULSET_NAME')?.value, statefulSet.metadata.name);
    assert.equal(env.get('PROXY_REPLICAS')?.value, String(statefulSet.spec.replicas));
    // Not auto: in a container Node counts the node's CPUs, not the pod's limit.
    assert.equal(env.get('ZDM_PROXY_WORKERS')?.value, '1');
    assert.deepEqual(container.command, ['/bin/sh', '/opt/zdm-topology/proxy-topology.sh']);
    assert.deepEqual(container.args, ['zdm-proxy', 'start']);
    const script = byKind('ConfigMap').find((c) => c.data['proxy-topology.sh']);
    assert.ok(script, 'the topology script is in a ConfigMap');
    assert.equal(
      pod.volumes.find((v: Manifest) => v.name === 'topology').configMap.name,
      script.metadata.name,
    );
  });

  it('probes the proxy on its health endpoints and budgets its disruptions', () => {
    const statefulSet = one('StatefulSet');
    const container = statefulSet.spec.template.spec.containers[0];
    const metricsPort = container.ports.find((p: Manifest) => p.name === 'metrics').containerPort;
    assert.equal(metricsPort, 14001);
    assert.equal(container.ports.find((p: Manifest) => p.name === 'cql').containerPort, 14002);
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/health/readiness', port: 'metrics' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/health/liveness', port: 'metrics' });
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    const settings = byKind('ConfigMap').find((c) => c.metadata.name === 'shop-zdm-proxy') as Manifest;
    assert.equal(settings.data.ZDM_METRICS_PORT, '14001');
    assert.equal(settings.data.ZDM_PROXY_LISTEN_ADDRESS, '0.0.0.0');
    const budget = one('PodDisruptionBudget');
    assert.equal(budget.spec.maxUnavailable, 1);
    for (const [key, value] of Object.entries(budget.spec.selector.matchLabels))
      assert.equal(statefulSet.spec.template.metadata.labels[key], value, `pod label ${key}`);
  });

  it('takes credentials from the Secret only, never inline', () => {
    for (const kind of ['StatefulSet', 'Job']) {
      const env: Manifest[] = one(kind).spec.template.spec.containers[0].env;
      for (const name of ['ZDM_ORIGIN_USERNAME', 'ZDM_ORIGIN_PASSWORD', 'ZDM_TARGET_PASSWORD']) {
        const entry = env.find((e) => e.name === name);
        assert.equal(entry?.valueFrom.secretKeyRef.name, 'zdm-credentials', `${kind} ${name}`);
        assert.equal(entry?.value, undefined);
      }
    }
    assert.doesNotMatch(JSON.stringify(byKind('ConfigMap')), /PASSWORD/);
  });

  it('runs migrate as a Job of one pod with its checkpoints on a claim', () => {
    const job = one('Job');
    assert.equal(job.spec.parallelism, 1);
    assert.equal(job.spec.completions, 1);
    assert.equal(job.spec.completionMode, undefined, 'not an Indexed Job: the run state is one SQLite file');
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual([...container.command, ...container.args], ['zdm', 'migrate', 'shop.orders']);
    const mount = container.volumeMounts.find((m: Manifest) => m.name === 'checkpoints');
    const dir = container.env.find((e: Manifest) => e.name === 'ZDM_CHECKPOINT_DIR');
    assert.equal(dir.value, mount.mountPath);
    const claim = one('PersistentVolumeClaim');
    const volume = job.spec.template.spec.volumes.find((v: Manifest) => v.name === 'checkpoints');
    assert.equal(volume.persistentVolumeClaim.claimName, claim.metadata.name);
    assert.equal(claim.metadata.annotations['helm.sh/resource-policy'], 'keep');
  });

  it('runs migrate as an Indexed Job of N pods sharing one run in Cassandra state', async () => {
    const shared = [
      ...VALUES,
      '--set',
      'job.stateStore=cassandra',
      '--set',
      'job.parallelism=4',
      '--set',
      'job.workersPerPod=2',
    ];
    const out = await succeed(helm, ['template', 'shop', CHART, ...shared]);
    assert.match(await succeed(helm, ['lint', '--strict', CHART, ...shared]), /0 chart\(s\) failed/);
    const valid = (await succeed(manifestCheck, [], out)).trim().split('\n');
    assert.ok(valid.includes('Job/shop-zdm-migrate'), valid.join(', '));
    assert.ok(
      !valid.some((v) => v.startsWith('PersistentVolumeClaim/')),
      'no claim: the state is in Cassandra',
    );
    const job = parseAllDocuments(out)
      .map((d) => d.toJS() as Manifest | null)
      .find((m) => m?.kind === 'Job') as Manifest;
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, 4);
    assert.equal(job.spec.parallelism, 4);
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual(
      [...container.command, ...container.args],
      ['zdm', 'migrate', 'shop.orders'],
      'every pod runs the same command: the first creates the run, the others join it',
    );
    const env = new Map<string, unknown>(container.env.map((e: Manifest) => [e.name, e.value]));
    assert.equal(env.get('ZDM_STATE_STORE'), 'cassandra');
    assert.equal(env.get('ZDM_STATE_KEYSPACE'), 'zdm_state');
    assert.equal(env.get('ZDM_WORKERS'), '2');
    const volume = job.spec.template.spec.volumes.find((v: Manifest) => v.name === 'checkpoints');
    assert.deepEqual(volume.emptyDir, {});
  });

  it('refuses values that cannot work, saying what to set', async () => {
    const cases: [string[], RegExp][] = [
      [[...VALUES, '--set', 'job.parallelism=3'], /job.parallelism above 1 needs job.stateStore=cassandra/],
      [[...VALUES, '--set', 'job.stateStore=etcd'], /job.stateStore is "etcd"; use sqlite or cassandra/],
      [KUBE_VERSION, /set origin.contactPoints and target.contactPoints/],
      [[...VALUES, '--set', 'job.command=repair'], /job.command is "repair"; use migrate or diff/],
      [[...VALUES, '--set', 'job.tables=null'], /job.tables is empty/],
      [[...VALUES, '--set', 'settings.origin_password=secret'], /origin_password.*Secret/],
    ];
    for (const [values, message] of cases) {
      const outcome = await exec(helm, ['template', 'shop', CHART, ...values]);
      assert.notEqual(outcome.code, 0, values.join(' '));
      assert.match(outcome.stderr, message);
    }
  });
});

describe('proxy topology script', () => {
  const environment = (extra: Record<string, string>) => ({
    ...process.env,
    ZDM_PROXY_TOPOLOGY_INDEX: '0',
    POD_IP: '192.0.2.10',
    PROXY_REPLICAS: '1',
    STATEFULSET_NAME: 'shop-zdm-proxy',
    HEADLESS_SERVICE: 'shop-zdm-proxy-peers',
    POD_NAMESPACE: 'default',
    // RFC 6761: names under .invalid never resolve.
    CLUSTER_DOMAIN: 'invalid',
    TOPOLOGY_WAIT_SECONDS: '0',
    ...extra,
  });
  const runScript = (extra: Record<string, string>) =>
    exec('sh', [TOPOLOGY_SCRIPT, 'sh', '-c', 'echo "$ZDM_PROXY_TOPOLOGY_ADDRESSES"'], {
      env: environment(extra),
    });

  it('hands the proxy its own pod IP as the only address of a one-replica topology', async () => {
    const outcome = await runScript({});
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout.trim(), '192.0.2.10');
  });

  it('fails with the peer it waited for when a peer name does not resolve', async () => {
    const outcome = await runScript({ PROXY_REPLICAS: '2' });
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /shop-zdm-proxy-1\.shop-zdm-proxy-peers\.default\.svc\.invalid did not resolve/,
    );
    assert.equal(outcome.stdout, '');
  });
});
