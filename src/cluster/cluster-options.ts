import { join, resolve } from 'node:path';
import { OperatorError } from '../errors.js';
import type { ClusterAuthenticator } from './node-config.js';

/** What `startCluster` is asked for; every field but `name` has a default fit for a laptop. */
export interface ClusterOptions {
  /** Directory name and `cluster_name`: letters, digits, `-` and `_`. */
  readonly name: string;
  /** Number of nodes, on consecutive addresses from `firstAddress`. Default 1. */
  readonly nodes?: number;
  /** Address of the first node (the seed); loopback 127.x.y.z binds without setup. Default 127.0.0.2. */
  readonly firstAddress?: string;
  /** CQL port of every node (each node has its own address). Default 9042. */
  readonly nativePort?: number;
  /** Gossip/internode port of every node. Default 7000. */
  readonly storagePort?: number;
  /** JVM heap per node in MiB (-Xms = -Xmx). Default 1024; below 512 Cassandra 5.0 struggles. */
  readonly heapMb?: number;
  /** `password` enables PasswordAuthenticator with the stock cassandra/cassandra superuser. Default none. */
  readonly authenticator?: ClusterAuthenticator;
  /** Tokens per node (vnodes). Default 16. */
  readonly numTokens?: number;
  /** Parent of the cluster's directory. Default `.zdm/clusters` in the working directory. */
  readonly baseDir?: string;
  /**
   * Let the nodes outlive this process (the CLI). Otherwise they are killed when it exits, so a crashed
   * test cannot leave JVMs behind.
   */
  readonly detached?: boolean;
  /** Delete the cluster's directory (all data) before starting. Default false: data is reused. */
  readonly reset?: boolean;
  /** Directory of Cassandra's jars; default: `ensureCassandraLib()` of `cassandraVersion`. */
  readonly libDir?: string;
  /** Default 5.0.9. */
  readonly cassandraVersion?: string;
  /** Per node: from spawn to CQL answering. Default 180 s (several JVMs starting on 2 cores are slow). */
  readonly startTimeoutMs?: number;
  /** SIGTERM to SIGKILL when stopping a node. Default 15 s. */
  readonly stopGraceMs?: number;
  /**
   * false: nodes refuse protocol versions older than their newest (Cassandra's
   * `native_transport_allow_older_protocols`), i.e. Cassandra 5.0 speaks v5 only. Default true.
   */
  readonly allowOlderProtocols?: boolean;
}

export interface ResolvedClusterOptions {
  readonly name: string;
  /** Absolute path of the cluster's directory (`<baseDir>/<name>`). */
  readonly dir: string;
  readonly addresses: readonly string[];
  readonly nativePort: number;
  readonly storagePort: number;
  readonly heapMb: number;
  readonly authenticator: ClusterAuthenticator;
  readonly numTokens: number;
  readonly detached: boolean;
  readonly reset: boolean;
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly allowOlderProtocols: boolean;
}

export const DEFAULT_BASE_DIR = join('.zdm', 'clusters');
export const DEFAULT_FIRST_ADDRESS = '127.0.0.2';
/**
 * The default pair of single-node clusters a migration is tried on: same ports, different addresses.
 * The CLI, the integration runner and the test helpers all use these.
 */
export const DEFAULT_PAIR = [
  { name: 'origin', address: '127.0.0.2' },
  { name: 'target', address: '127.0.0.3' },
] as const;

/** SimpleSnitch puts every node in this data centre; drivers need it as their local DC. */
export const LOCAL_DATA_CENTER = 'datacenter1';

/** Applies defaults and checks the options; throws an OperatorError saying what to change. */
export function resolveClusterOptions(
  options: ClusterOptions,
  cwd: string = process.cwd(),
): ResolvedClusterOptions {
  if (!/^[A-Za-z0-9_-]{1,48}$/.test(options.name)) {
    throw invalid(`cluster name "${options.name}" must be 1-48 letters, digits, '-' or '_'`);
  }
  const nodes = options.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw invalid(`nodes must be 1..9, got ${nodes}`);
  const nativePort = checkPort('native port', options.nativePort ?? 9042);
  const storagePort = checkPort('storage port', options.storagePort ?? 7000);
  if (nativePort === storagePort) throw invalid('native and storage ports must differ');
  const heapMb = options.heapMb ?? 1024;
  if (!Number.isInteger(heapMb) || heapMb < 256)
    throw invalid(`heap must be at least 256 MiB, got ${heapMb}`);
  const numTokens = options.numTokens ?? 16;
  if (!Number.isInteger(numTokens) || numTokens < 1 || numTokens > 256) {
    throw invalid(`num_tokens must be 1..256, got ${numTokens}`);
  }
  const authenticator = options.authenticator ?? 'none';
  if (authenticator !== 'none' && authenticator !== 'password') {
    throw invalid(`authenticator must be none or password, got ${String(authenticator)}`);
  }
  return {
    name: options.name,
    dir: resolve(cwd, options.baseDir ?? DEFAULT_BASE_DIR, options.name),
    addresses: consecutiveAddresses(options.firstAddress ?? DEFAULT_FIRST_ADDRESS, nodes),
    nativePort,
    storagePort,
    heapMb,
    authenticator,
    numTokens,
    detached: options.detached ?? false,
    reset: options.reset ?? false,
    startTimeoutMs: options.startTimeoutMs ?? 180_000,
    stopGraceMs: options.stopGraceMs ?? 15_000,
    allowOlderProtocols: options.allowOlderProtocols ?? true,
  };
}

/** `count` IPv4 addresses from `first`, incrementing the last octet (127.0.0.2, 127.0.0.3, ...). */
export function consecutiveAddresses(first: string, count: number): string[] {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(first);
  const octets = match?.slice(1).map(Number);
  if (octets === undefined || octets.some((o) => o > 255)) throw invalid(`"${first}" is not an IPv4 address`);
  const [a, b, c, d] = octets as [number, number, number, number];
  if (a !== 127) {
    // Only loopback addresses are known to bind without setup and to stay off the network.
    throw invalid(`address ${first} is not a loopback address (127.x.y.z)`);
  }
  if (d + count - 1 > 254) throw invalid(`${count} nodes from ${first} run past ${a}.${b}.${c}.254`);
  return Array.from({ length: count }, (_, i) => `${a}.${b}.${c}.${d + i}`);
}

function checkPort(what: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`${what} ${port} is not a TCP port`);
  return port;
}

function invalid(message: string): OperatorError {
  return new OperatorError('CLUSTER_OPTIONS_INVALID', message);
}
