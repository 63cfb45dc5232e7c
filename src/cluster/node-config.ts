import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

/**
 * System property put on every node's command line, valued with its cluster directory, so stray JVMs
 * can be found (and only ours killed) by reading /proc/<pid>/cmdline.
 */
export const CLUSTER_MARKER_PROPERTY = 'zdm.cluster.dir';

/** The command-line argument that marks a JVM as a node of the cluster living in `clusterDir`. */
export function clusterMarkerArg(clusterDir: string): string {
  return `-D${CLUSTER_MARKER_PROPERTY}=${clusterDir}`;
}

export type ClusterAuthenticator = 'none' | 'password';

/** Everything that makes one node's configuration; all paths absolute. */
export interface NodeConfigInput {
  /** `cluster_name`; nodes refuse to gossip with a different one. */
  readonly clusterName: string;
  /** The cluster's directory: the value of the stray-sweep marker. */
  readonly clusterDir: string;
  /** This node's directory (config, data, logs, pidfile). */
  readonly nodeDir: string;
  /** Listen, broadcast and RPC address, e.g. 127.0.0.2. */
  readonly address: string;
  /** Seed addresses (the first node of the cluster). */
  readonly seeds: readonly string[];
  readonly nativePort: number;
  readonly storagePort: number;
  readonly numTokens: number;
  readonly authenticator: ClusterAuthenticator;
  /** Used for both -Xms and -Xmx: a fixed heap makes RSS predictable. */
  readonly heapMb: number;
  /** Directory of Cassandra's runtime jars. */
  readonly libDir: string;
  /** false: the node refuses protocol versions older than its newest (see ClusterOptions). */
  readonly allowOlderProtocols?: boolean;
}

/** Where a node keeps each of its files, derived from its directory alone. */
export interface NodeLayout {
  readonly dir: string;
  readonly yamlFile: string;
  readonly logbackFile: string;
  readonly systemLog: string;
  /** The JVM's own stdout/stderr: where errors land that happen before logback is up. */
  readonly stdoutLog: string;
  readonly pidFile: string;
  readonly tmpDir: string;
  readonly logDir: string;
  readonly dataDirs: readonly string[];
  readonly commitlogDir: string;
  readonly savedCachesDir: string;
  readonly hintsDir: string;
  readonly cdcRawDir: string;
}

export function nodeLayout(nodeDir: string): NodeLayout {
  return {
    dir: nodeDir,
    yamlFile: join(nodeDir, 'conf', 'cassandra.yaml'),
    logbackFile: join(nodeDir, 'conf', 'logback.xml'),
    logDir: join(nodeDir, 'logs'),
    systemLog: join(nodeDir, 'logs', 'system.log'),
    stdoutLog: join(nodeDir, 'logs', 'stdout.log'),
    pidFile: join(nodeDir, 'node.pid'),
    tmpDir: join(nodeDir, 'tmp'),
    dataDirs: [join(nodeDir, 'data')],
    commitlogDir: join(nodeDir, 'commitlog'),
    savedCachesDir: join(nodeDir, 'saved_caches'),
    hintsDir: join(nodeDir, 'hints'),
    cdcRawDir: join(nodeDir, 'cdc_raw'),
  };
}

/** Directory name of the node at `index` (0-based) inside its cluster directory. */
export function nodeDirName(index: number): string {
  return `node${index + 1}`;
}

/** `cassandra.yaml` for one node: the minimal set that Cassandra 5.0 needs, tuned for local tests. */
export function cassandraYaml(input: NodeConfigInput): string {
  const layout = nodeLayout(input.nodeDir);
  const config = {
    cluster_name: input.clusterName,
    num_tokens: input.numTokens,
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    endpoint_snitch: 'SimpleSnitch',
    seed_provider: [
      {
        class_name: 'org.apache.cassandra.locator.SimpleSeedProvider',
        parameters: [{ seeds: input.seeds.map((seed) => `${seed}:${input.storagePort}`).join(',') }],
      },
    ],
    listen_address: input.address,
    rpc_address: input.address,
    storage_port: input.storagePort,
    native_transport_port: input.nativePort,
    // Nodes are started one after another on empty data: streaming from peers would only slow the start.
    auto_bootstrap: false,
    commitlog_sync: 'periodic',
    commitlog_sync_period: '10000ms',
    data_file_directories: layout.dataDirs,
    commitlog_directory: layout.commitlogDir,
    saved_caches_directory: layout.savedCachesDir,
    hints_directory: layout.hintsDir,
    cdc_raw_directory: layout.cdcRawDir,
    // PasswordAuthenticator creates cassandra/cassandra at once (superuser_setup_delay_ms=0 on the JVM).
    authenticator: input.authenticator === 'password' ? 'PasswordAuthenticator' : 'AllowAllAuthenticator',
    authorizer: input.authenticator === 'password' ? 'CassandraAuthorizer' : 'AllowAllAuthorizer',
    // Every other limit (batch size 5 KiB warn / 50 KiB fail, tombstone thresholds, max value and
    // mutation sizes, native frame size) stays stock: tests must pass against what real Targets run.
    // Two cores host several JVMs: stock 2 s timeouts fire during compaction or GC, not on real faults.
    write_request_timeout: '10000ms',
    read_request_timeout: '10000ms',
    range_request_timeout: '20000ms',
    // A stock setting, stricter than the default: a cluster whose clients must speak its newest
    // protocol version (v5), to test clients of older versions against it.
    ...(input.allowOlderProtocols === false ? { native_transport_allow_older_protocols: false } : {}),
  };
  return stringify(config);
}

/** logback configuration: one file appender, no console (stdout of a detached node goes to a file). */
export function logbackXml(systemLog: string): string {
  return `<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${escapeXml(systemLog)}</file>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="FILE" />
  </root>
</configuration>
`;
}

/**
 * Module options from Cassandra 5.0's `conf/jvm17-server.options`: without them JDK 17 refuses the
 * reflective access Cassandra needs (off-heap memory, JMX, the UDF compiler).
 */
const JDK17_MODULE_ARGS: readonly string[] = [
  ...[
    'java.base/jdk.internal.misc',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'jdk.attach/sun.tools.attach',
    'jdk.compiler/com.sun.tools.javac.file',
  ].flatMap((pkg) => ['--add-exports', `${pkg}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang',
    'java.base/java.lang.module',
    'java.base/java.lang.reflect',
    'java.base/java.io',
    'java.base/java.nio',
    'java.base/java.nio.charset',
    'java.base/java.util',
    'java.base/sun.nio.ch',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'jdk.compiler/com.sun.tools.javac',
  ].flatMap((pkg) => ['--add-opens', `${pkg}=ALL-UNNAMED`]),
];

export const CASSANDRA_MAIN_CLASS = 'org.apache.cassandra.service.CassandraDaemon';

/** Arguments to `java` that start one node in the foreground (the process is the node). */
export function nodeJvmArgs(input: NodeConfigInput): string[] {
  const layout = nodeLayout(input.nodeDir);
  return [
    `-Xms${input.heapMb}m`,
    `-Xmx${input.heapMb}m`,
    '-Djava.net.preferIPv4Stack=true',
    // JNA unpacks its native library into java.io.tmpdir; a per-node directory avoids noexec /tmp mounts.
    `-Djava.io.tmpdir=${layout.tmpDir}`,
    clusterMarkerArg(input.clusterDir),
    '-Dcassandra-foreground=yes',
    `-Dcassandra.config=${fileUrl(layout.yamlFile)}`,
    `-Dcassandra.storagedir=${input.nodeDir}`,
    `-Dcassandra.logdir=${layout.logDir}`,
    `-Dlogback.configurationFile=${fileUrl(layout.logbackFile)}`,
    // Single-machine clusters: nothing to wait for.
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    // The stock 10 s before cassandra/cassandra exists would dominate a password cluster's start. Not 0:
    // the same delay paces retries while a peer is down, and 0 makes that a busy loop logging ~20k lines/s.
    '-Dcassandra.superuser_setup_delay_ms=500',
    // Skips fsync of system tables: much faster schema changes; durability does not matter for tests.
    '-Dcassandra.unsafesystem=true',
    '-Djdk.attach.allowAttachSelf=true',
    '-Dio.netty.tryReflectionSetAccessible=true',
    ...JDK17_MODULE_ARGS,
    '-cp',
    `${input.libDir}/*`,
    CASSANDRA_MAIN_CLASS,
  ];
}

function fileUrl(absolutePath: string): string {
  return pathToFileURL(absolutePath).href;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
