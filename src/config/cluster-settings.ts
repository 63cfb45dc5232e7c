import type { SettingsValues } from './setting.js';
import { boolean, integer, list, oneOf, optionalText } from './setting.js';

export const CONSISTENCY_LEVELS = [
  'ANY',
  'ONE',
  'TWO',
  'THREE',
  'QUORUM',
  'ALL',
  'LOCAL_QUORUM',
  'EACH_QUORUM',
  'LOCAL_ONE',
] as const;
export type ConsistencyName = (typeof CONSISTENCY_LEVELS)[number];

export type ClusterRole = 'origin' | 'target';

/** A cluster the tools connect to: Origin, Target, or the cluster that keeps the jobs' run state. */
export type ConnectionRole = ClusterRole | 'state';

/** How messages name each cluster. */
export const CLUSTER_TITLE: Readonly<Record<ConnectionRole, string>> = {
  origin: 'Origin',
  target: 'Target',
  state: 'State cluster',
};

/** Origin's or Target's configuration (the proxy has no other). */
export type DataClusterConfig = ClusterConfig & { readonly role: ClusterRole };

/** How to reach one cluster; the same shape serves the proxy, migrate and diff. */
export interface ClusterConfig {
  readonly role: ConnectionRole;
  readonly contactPoints: readonly string[];
  readonly port: number;
  /** Undefined: asked from the first node reached (system.local.data_center). */
  readonly localDataCenter: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls:
    | {
        readonly caPath: string | undefined;
        readonly certPath: string | undefined;
        readonly keyPath: string | undefined;
        readonly verifyHostname: boolean;
      }
    | undefined;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly readConsistency: ConsistencyName;
  readonly writeConsistency: ConsistencyName;
}

/**
 * How to reach one cluster, under the original proxy's names (`ZDM_ORIGIN_*`, `ZDM_TARGET_*`) plus
 * ours for hostname verification.
 */
function connectionSpec<const R extends ConnectionRole>(role: R) {
  const Name = CLUSTER_TITLE[role];
  return {
    [`${role}_contact_points`]: list({
      default: [],
      doc: `${Name} nodes to contact (comma-separated hosts)${role === 'state' ? ' when it is not Target: the cluster that keeps run state of state_store cassandra; unset: Target keeps it' : ''}.`,
    }),
    [`${role}_port`]: integer({ default: 9042, min: 1, max: 65535, doc: `${Name} CQL port.` }),
    [`${role}_local_datacenter`]: optionalText({
      default: undefined,
      doc: `${Name} datacenter to use; asked from the first node when unset.`,
    }),
    [`${role}_username`]: optionalText({ default: undefined, doc: `${Name} user (PasswordAuthenticator).` }),
    [`${role}_password`]: optionalText({ default: undefined, secret: true, doc: `${Name} password.` }),
    [`${role}_connection_timeout_ms`]: integer({
      default: 30000,
      min: 100,
      doc: `Time allowed to open a connection to ${Name}.`,
    }),
    [`${role}_request_timeout_ms`]: integer({
      default: 12000,
      min: 100,
      doc: `Client-side timeout of one request to ${Name}.`,
    }),
    [`${role}_tls_server_ca_path`]: optionalText({
      default: undefined,
      doc: `CA certificate (PEM) that signed ${Name}'s server certificates; enables TLS.`,
    }),
    [`${role}_tls_client_cert_path`]: optionalText({
      default: undefined,
      doc: `Client certificate (PEM) for mutual TLS with ${Name}.`,
    }),
    [`${role}_tls_client_key_path`]: optionalText({
      default: undefined,
      secret: true,
      doc: `Client private key (PEM) for mutual TLS with ${Name}.`,
    }),
    [`${role}_tls_verify_hostname`]: boolean({
      default: true,
      doc: `Check that ${Name}'s certificate names the host connected to.`,
    }),
  } as const;
}

/** One of Origin and Target: how to reach it, and the consistency levels of the jobs' reads and writes. */
function clusterSpec<const R extends ClusterRole>(role: R) {
  const Name = CLUSTER_TITLE[role];
  return {
    ...connectionSpec(role),
    [`${role}_read_consistency`]: oneOf(CONSISTENCY_LEVELS, {
      default: 'LOCAL_QUORUM',
      doc: `Consistency level of the jobs' reads from ${Name}.`,
    }),
    [`${role}_write_consistency`]: oneOf(CONSISTENCY_LEVELS, {
      default: 'LOCAL_QUORUM',
      doc: `Consistency level of the jobs' writes to ${Name}.`,
    }),
  } as const;
}

export const CLUSTER_SETTINGS = { ...clusterSpec('origin'), ...clusterSpec('target') };

/**
 * The cluster that keeps the run state of `state_store: cassandra`, when it is not Target (its
 * contact points unset: Target). Its reads and writes use QUORUM and SERIAL, so it has no
 * consistency settings.
 */
export const STATE_CLUSTER_SETTINGS = connectionSpec('state');
export type ClusterSettingsValues = SettingsValues<typeof CLUSTER_SETTINGS>;

/** Picks one cluster's typed, frozen configuration out of the flat resolved settings. */
export function clusterConfig<R extends ConnectionRole>(
  values: Readonly<Record<string, unknown>>,
  role: R,
): ClusterConfig & { readonly role: R } {
  const get = <T>(suffix: string): T => values[`${role}_${suffix}`] as T;
  const caPath = get<string | undefined>('tls_server_ca_path');
  const certPath = get<string | undefined>('tls_client_cert_path');
  const keyPath = get<string | undefined>('tls_client_key_path');
  const tlsWanted = caPath !== undefined || certPath !== undefined || keyPath !== undefined;
  return Object.freeze({
    role,
    contactPoints: get<readonly string[]>('contact_points'),
    port: get<number>('port'),
    localDataCenter: get<string | undefined>('local_datacenter'),
    username: get<string | undefined>('username'),
    password: get<string | undefined>('password'),
    tls: tlsWanted
      ? Object.freeze({ caPath, certPath, keyPath, verifyHostname: get<boolean>('tls_verify_hostname') })
      : undefined,
    connectionTimeoutMs: get<number>('connection_timeout_ms'),
    requestTimeoutMs: get<number>('request_timeout_ms'),
    // The state cluster has no consistency settings (its store picks its own levels).
    readConsistency: get<ConsistencyName | undefined>('read_consistency') ?? 'LOCAL_QUORUM',
    writeConsistency: get<ConsistencyName | undefined>('write_consistency') ?? 'LOCAL_QUORUM',
  });
}

/** Problems that make a cluster configuration unusable, each naming the setting to fix. */
export function clusterConfigProblems(config: ClusterConfig): string[] {
  const problems: string[] = [];
  const key = (suffix: string) =>
    `${config.role}_${suffix} (ZDM_${config.role.toUpperCase()}_${suffix.toUpperCase()})`;
  if (config.contactPoints.length === 0) problems.push(`${key('contact_points')} is required`);
  if ((config.username === undefined) !== (config.password === undefined)) {
    problems.push(`${key('username')} and ${key('password')} must be given together`);
  }
  if ((config.tls?.certPath === undefined) !== (config.tls?.keyPath === undefined)) {
    problems.push(`${key('tls_client_cert_path')} and ${key('tls_client_key_path')} must be given together`);
  }
  return problems;
}
