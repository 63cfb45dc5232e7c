import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  CONSISTENCY_LEVELS,
  clusterConfig,
  clusterConfigProblems,
  type DataClusterConfig,
} from '../config/cluster-settings.js';
import type { SettingsValues } from '../config/setting.js';
import { boolean, integer, list, oneOf, optionalOneOf, optionalText, text } from '../config/setting.js';
import { OperatorError } from '../errors.js';
import { Consistency, type ConsistencyLevel } from './codec/index.js';
import { BLOCKABLE_VERSION_NAMES, parseBlockedVersions } from './protocol-support.js';
import { resolveWorkerCount, workerCountSetting } from './workers/worker-count.js';

export const PRIMARY_CLUSTERS = ['ORIGIN', 'TARGET'] as const;
export const READ_MODES = ['PRIMARY_ONLY', 'DUAL_ASYNC_ON_SECONDARY'] as const;

/**
 * The proxy's own settings, under the original zdm-proxy's names (`ZDM_PRIMARY_CLUSTER`,
 * `ZDM_PROXY_LISTEN_PORT`, ...) and defaults; the cluster settings come from CLUSTER_SETTINGS.
 */
export const PROXY_SETTINGS = {
  primary_cluster: oneOf(PRIMARY_CLUSTERS, {
    default: 'ORIGIN',
    doc: 'Cluster whose responses win and where synchronous reads go.',
  }),
  read_mode: oneOf(READ_MODES, {
    default: 'PRIMARY_ONLY',
    doc: 'PRIMARY_ONLY, or DUAL_ASYNC_ON_SECONDARY to also send reads (fire-and-forget) to the other cluster.',
  }),
  proxy_listen_address: text({ default: 'localhost', doc: 'Address the proxy listens on for clients.' }),
  proxy_listen_port: integer({ default: 14002, min: 0, max: 65535, doc: 'CQL port the proxy listens on.' }),
  proxy_workers: workerCountSetting(
    'Worker processes sharing the listening port, each with its own cluster connections (and divergence journal file, <name>.workerN.jsonl): auto (the default: one per CPU the process may use) or a number; 1 runs the proxy in a single process.',
  ),
  proxy_request_timeout_ms: integer({
    default: 10000,
    min: 1,
    doc: 'Time a cluster has to answer a request before the client gets a timeout error.',
  }),
  proxy_max_client_connections: integer({
    default: 1000,
    min: 1,
    doc: 'Client connections accepted at once; more are refused.',
  }),
  proxy_max_stream_ids: integer({
    default: 2048,
    min: 2,
    max: 32768,
    doc: 'In-flight requests per cluster connection (stream ids).',
  }),
  proxy_topology_index: integer({
    default: 0,
    min: 0,
    doc: "This instance's position in proxy_topology_addresses.",
  }),
  proxy_topology_addresses: list({
    default: [],
    doc: 'IP addresses of all proxy instances, advertised to drivers in system.local/peers; empty: this one only.',
  }),
  proxy_topology_num_tokens: integer({
    default: 8,
    min: 1,
    max: 256,
    doc: 'Tokens each virtual proxy host owns.',
  }),
  proxy_tls_ca_path: optionalText({
    default: undefined,
    doc: 'CA (PEM) to verify client certificates with; with cert and key enables client-facing TLS.',
  }),
  proxy_tls_cert_path: optionalText({
    default: undefined,
    doc: 'Server certificate (PEM) shown to clients.',
  }),
  proxy_tls_key_path: optionalText({
    default: undefined,
    secret: true,
    doc: 'Private key (PEM) of the server certificate.',
  }),
  proxy_tls_require_client_auth: boolean({ default: false, doc: 'Require client certificates.' }),
  forward_client_credentials_to_origin: boolean({
    default: false,
    doc: "When both clusters need auth: the client's credentials go to Origin (configured ones to Target).",
  }),
  replace_default_timestamp: boolean({
    default: true,
    doc: 'Give writes without a timestamp one default timestamp, sent to both clusters (same writetime).',
  }),
  replace_cql_functions: boolean({
    default: false,
    doc: 'Replace each `now()` call of INSERT, UPDATE, DELETE and BATCH statements by a timeuuid the proxy makes, the same value sent to both clusters: a literal in QUERY texts and BATCH query children; in prepared statements a bind marker of the proxy (hidden from the client) bound to a fresh value at each EXECUTE or BATCH.',
  }),
  target_consistency_level: optionalOneOf(CONSISTENCY_LEVELS, {
    default: undefined,
    doc: "Consistency level of the copy of each write (QUERY, EXECUTE, BATCH) sent to Target, in place of the client's; serial consistency is kept. Unset: the client's.",
  }),
  prepared_cache_size: integer({
    default: 5000,
    min: 1,
    doc: 'Prepared statements remembered (least recently used are dropped; drivers re-prepare).',
  }),
  heartbeat_interval_ms: integer({
    default: 30000,
    min: 100,
    doc: 'An idle cluster connection sends OPTIONS this often and expects SUPPORTED within proxy_request_timeout_ms.',
  }),
  heartbeat_misses_before_close: integer({
    default: 2,
    min: 1,
    doc: 'Unanswered heartbeats in a row after which a cluster connection is closed and reopened (a half-open node).',
  }),
  proxy_max_frame_size_bytes: integer({
    default: 16 * 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
    doc: "Largest frame body a client may send, checked from the header before buffering (Cassandra's native_transport_max_frame_size, 16 MiB).",
  }),
  proxy_preauth_max_frame_size_bytes: integer({
    default: 256 * 1024,
    min: 1024,
    doc: 'Largest frame body before the handshake completes (STARTUP and SASL messages are small).',
  }),
  proxy_handshake_timeout_ms: integer({
    default: 10000,
    min: 0,
    doc: 'A client connection that has not completed STARTUP and authentication by then is closed; 0 disables.',
  }),
  proxy_idle_timeout_ms: integer({
    default: 120000,
    min: 0,
    doc: "A client connection that sends nothing and waits for nothing this long is closed (above the drivers' 30 s heartbeat); 0 disables.",
  }),
  proxy_max_in_flight_per_connection: integer({
    default: 1024,
    min: 1,
    doc: 'Requests of one client connection in flight at once; beyond it the proxy stops reading that client until answers go out.',
  }),
  proxy_secondary_read_stream_ids: integer({
    default: 256,
    min: 0,
    max: 16384,
    doc: 'DUAL_ASYNC_ON_SECONDARY copies in flight per cluster connection (their own stream ids); more are dropped and counted.',
  }),
  proxy_secondary_read_timeout_ms: integer({
    default: 5000,
    min: 1,
    doc: 'Deadline of a DUAL_ASYNC_ON_SECONDARY copy; its stream id is returned then.',
  }),
  proxy_readiness_probe_interval_ms: integer({
    default: 2000,
    min: 100,
    doc: 'How often the proxy checks each cluster answers (OPTIONS on a connection of its own) for /health/readiness.',
  }),
  proxy_shutdown_timeout_ms: integer({
    default: 20000,
    min: 0,
    doc: 'On SIGTERM/SIGINT: time requests in flight get to finish before connections are closed and the proxy exits.',
  }),
  proxy_state_dir: text({
    default: 'zdm-proxy-state',
    doc: 'Directory of what the proxy keeps on disk (the divergence journal); created when missing.',
  }),
  divergence_journal_enabled: boolean({
    default: true,
    doc: 'Record every write that succeeded on one cluster and failed on the other (zdm diff --from-journal repairs them).',
  }),
  divergence_journal_path: optionalText({
    default: undefined,
    doc: 'Divergence journal file (JSON Lines); default: divergence-journal.jsonl in proxy_state_dir.',
  }),
  divergence_journal_max_bytes: integer({
    default: 64 * 1024 * 1024,
    min: 4096,
    doc: 'Size at which the journal file is rotated (renamed to <path>.1, <path>.2, ...).',
  }),
  divergence_journal_files: integer({
    default: 4,
    min: 1,
    max: 100,
    doc: 'Journal files kept, the live one included; beyond them the oldest is dropped (with a warning: run a full diff).',
  }),
  divergence_journal_sync_interval_ms: integer({
    default: 1000,
    min: 10,
    doc: 'How often journal lines are flushed to disk (each line is written at once; an OS crash loses at most this interval).',
  }),
  blocked_protocol_versions: list({
    default: [],
    doc: 'Protocol versions clients may not use, comma-separated (e.g. "v2,v3"): 2, 3, 4, 5, v2-v5, DseV1, DseV2, Dse_V1, Dse_V2, case-insensitive. A client asking for one gets a PROTOCOL_ERROR and steps down. DSE versions are always refused.',
  }),
  metrics_enabled: boolean({ default: true, doc: 'Serve /metrics and /health/* over HTTP.' }),
  metrics_address: text({ default: 'localhost', doc: 'Address of the metrics HTTP server.' }),
  metrics_port: integer({ default: 14001, min: 0, max: 65535, doc: 'Port of the metrics HTTP server.' }),
  metrics_prefix: text({ default: 'zdm', doc: 'Prefix of every metric name.' }),
} as const;

export type ProxySettingsValues = SettingsValues<typeof PROXY_SETTINGS>;
export type PrimaryCluster = (typeof PRIMARY_CLUSTERS)[number];
export type ReadMode = (typeof READ_MODES)[number];

/** Everything `startProxy` needs, validated and frozen. */
export interface ProxyConfig {
  readonly origin: DataClusterConfig;
  readonly target: DataClusterConfig;
  readonly primary: 'origin' | 'target';
  readonly readMode: ReadMode;
  readonly listenAddress: string;
  readonly listenPort: number;
  /** Worker processes (resolved from `auto`); 1 runs the proxy in this process. */
  readonly workers: number;
  readonly requestTimeoutMs: number;
  readonly maxClientConnections: number;
  readonly maxStreamIds: number;
  readonly topology: {
    readonly index: number;
    readonly addresses: readonly string[];
    readonly numTokens: number;
  };
  readonly tls:
    | {
        readonly caPath: string | undefined;
        readonly certPath: string;
        readonly keyPath: string;
        readonly requireClientAuth: boolean;
      }
    | undefined;
  readonly forwardClientCredentialsToOrigin: boolean;
  readonly replaceDefaultTimestamp: boolean;
  /** `now()` in write statement texts becomes one proxy-made timeuuid sent to both clusters. */
  readonly replaceCqlFunctions: boolean;
  /** Consistency of the writes sent to Target; null: the client's. */
  readonly targetConsistency: ConsistencyLevel | null;
  readonly preparedCacheSize: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatMisses: number;
  readonly maxFrameBytes: number;
  readonly preAuthFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxInFlightPerConnection: number;
  readonly secondaryReadStreamIds: number;
  readonly secondaryReadTimeoutMs: number;
  readonly readinessProbeIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  /** The divergence journal; undefined when disabled. */
  readonly journal:
    | {
        readonly path: string;
        readonly maxBytes: number;
        readonly files: number;
        readonly syncIntervalMs: number;
      }
    | undefined;
  /** Protocol version numbers clients may not use (DSE ones as 0x41/0x42). */
  readonly blockedProtocolVersions: readonly number[];
  readonly metrics: {
    readonly enabled: boolean;
    readonly address: string;
    readonly port: number;
    readonly prefix: string;
  };
}

/** Builds the proxy configuration; every problem is reported at once, naming the variable to fix. */
export function proxyConfig(values: Readonly<Record<string, unknown>>): ProxyConfig {
  const v = values as ProxySettingsValues;
  const origin = clusterConfig(values, 'origin');
  const target = clusterConfig(values, 'target');
  const problems = [...clusterConfigProblems(origin), ...clusterConfigProblems(target)];
  const addresses = v.proxy_topology_addresses;
  if (addresses.length > 0 && v.proxy_topology_index >= addresses.length) {
    problems.push(
      `proxy_topology_index (ZDM_PROXY_TOPOLOGY_INDEX) is ${v.proxy_topology_index} but proxy_topology_addresses lists ${addresses.length} address(es)`,
    );
  }
  // They are advertised in the inet columns of system.local/system.peers, which hold IP addresses only.
  const notIps = addresses.filter((a) => isIP(a) === 0);
  if (notIps.length > 0) {
    problems.push(
      `proxy_topology_addresses (ZDM_PROXY_TOPOLOGY_ADDRESSES) must be IP addresses; resolve ${notIps.join(', ')} first`,
    );
  }
  if ((v.proxy_tls_cert_path === undefined) !== (v.proxy_tls_key_path === undefined)) {
    problems.push(
      'proxy_tls_cert_path and proxy_tls_key_path (ZDM_PROXY_TLS_CERT_PATH / _KEY_PATH) must be given together',
    );
  }
  if (v.proxy_max_stream_ids + v.proxy_secondary_read_stream_ids > 32768) {
    problems.push(
      `proxy_max_stream_ids + proxy_secondary_read_stream_ids is ${v.proxy_max_stream_ids + v.proxy_secondary_read_stream_ids}; one connection has 32768 stream ids (lower ZDM_PROXY_MAX_STREAM_IDS or ZDM_PROXY_SECONDARY_READ_STREAM_IDS)`,
    );
  }
  if (v.proxy_preauth_max_frame_size_bytes > v.proxy_max_frame_size_bytes) {
    problems.push(
      'proxy_preauth_max_frame_size_bytes (ZDM_PROXY_PREAUTH_MAX_FRAME_SIZE_BYTES) must not exceed proxy_max_frame_size_bytes (ZDM_PROXY_MAX_FRAME_SIZE_BYTES)',
    );
  }
  const blocked = parseBlockedVersions(v.blocked_protocol_versions);
  if ('invalid' in blocked) {
    problems.push(
      `invalid value for blocked_protocol_versions (ZDM_BLOCKED_PROTOCOL_VERSIONS): ${blocked.invalid}; possible values are ${BLOCKABLE_VERSION_NAMES.join(', ')} (case-insensitive)`,
    );
  } else if (![3, 4, 5].some((version) => !blocked.versions.includes(version))) {
    problems.push(
      'blocked_protocol_versions (ZDM_BLOCKED_PROTOCOL_VERSIONS) blocks v3, v4 and v5: no client could connect',
    );
  }
  if (problems.length > 0) {
    throw new OperatorError(
      'CONFIG_INVALID',
      `Invalid proxy configuration:\n  - ${problems.join('\n  - ')}`,
      'Set the ZDM_* environment variables, a --config YAML file or the flags (see zdm-proxy start --help).',
    );
  }
  const tls =
    v.proxy_tls_cert_path !== undefined && v.proxy_tls_key_path !== undefined
      ? {
          caPath: v.proxy_tls_ca_path,
          certPath: v.proxy_tls_cert_path,
          keyPath: v.proxy_tls_key_path,
          requireClientAuth: v.proxy_tls_require_client_auth,
        }
      : undefined;
  return Object.freeze({
    origin,
    target,
    primary: v.primary_cluster === 'TARGET' ? 'target' : 'origin',
    readMode: v.read_mode,
    listenAddress: v.proxy_listen_address,
    listenPort: v.proxy_listen_port,
    workers: resolveWorkerCount(v.proxy_workers, availableParallelism()),
    requestTimeoutMs: v.proxy_request_timeout_ms,
    maxClientConnections: v.proxy_max_client_connections,
    maxStreamIds: v.proxy_max_stream_ids,
    topology: { index: v.proxy_topology_index, addresses, numTokens: v.proxy_topology_num_tokens },
    tls,
    forwardClientCredentialsToOrigin: v.forward_client_credentials_to_origin,
    replaceDefaultTimestamp: v.replace_default_timestamp,
    replaceCqlFunctions: v.replace_cql_functions,
    targetConsistency:
      v.target_consistency_level === undefined ? null : Consistency[v.target_consistency_level],
    preparedCacheSize: v.prepared_cache_size,
    heartbeatIntervalMs: v.heartbeat_interval_ms,
    heartbeatMisses: v.heartbeat_misses_before_close,
    maxFrameBytes: v.proxy_max_frame_size_bytes,
    preAuthFrameBytes: v.proxy_preauth_max_frame_size_bytes,
    handshakeTimeoutMs: v.proxy_handshake_timeout_ms,
    idleTimeoutMs: v.proxy_idle_timeout_ms,
    maxInFlightPerConnection: v.proxy_max_in_flight_per_connection,
    secondaryReadStreamIds: v.proxy_secondary_read_stream_ids,
    secondaryReadTimeoutMs: v.proxy_secondary_read_timeout_ms,
    readinessProbeIntervalMs: v.proxy_readiness_probe_interval_ms,
    shutdownTimeoutMs: v.proxy_shutdown_timeout_ms,
    journal: v.divergence_journal_enabled
      ? {
          path: v.divergence_journal_path ?? join(v.proxy_state_dir, 'divergence-journal.jsonl'),
          maxBytes: v.divergence_journal_max_bytes,
          files: v.divergence_journal_files,
          syncIntervalMs: v.divergence_journal_sync_interval_ms,
        }
      : undefined,
    blockedProtocolVersions: 'versions' in blocked ? blocked.versions : [],
    metrics: {
      enabled: v.metrics_enabled,
      address: v.metrics_address,
      port: v.metrics_port,
      prefix: v.metrics_prefix,
    },
  } as const);
}
