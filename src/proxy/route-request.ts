import { Opcode } from './codec/index.js';
import type { Statement } from './statement.js';

export type ClusterName = 'origin' | 'target';

/** Where one client request goes. */
export type Route =
  /** Sent to one cluster or both; `asyncTo` also gets a copy whose answer is ignored (DUAL_ASYNC reads). */
  | {
      readonly kind: 'forward';
      readonly to: ClusterName | 'both';
      readonly asyncTo: ClusterName | null;
      /** True for reads: failures count as failed reads, a timeout answers READ_TIMEOUT. */
      readonly read: boolean;
    }
  /** system.local, system.peers and system.peers_v2: answered by the proxy itself. */
  | { readonly kind: 'virtual'; readonly table: 'local' | 'peers' | 'peers_v2' }
  /** Answered by the proxy without asking a cluster (OPTIONS). */
  | { readonly kind: 'local' };

export interface RouteContext {
  readonly primary: ClusterName;
  readonly dualReads: boolean;
  /** The session's keyspace (after USE), for unqualified table names. */
  readonly keyspace: string | null;
}

const VIRTUAL_TABLES = new Set(['local', 'peers', 'peers_v2']);
const BOTH: Route = { kind: 'forward', to: 'both', asyncTo: null, read: false };
const ORIGIN_READ: Route = { kind: 'forward', to: 'origin', asyncTo: null, read: true };

/**
 * Routing of the original proxy (REFERENCE §1): reads of user tables go to the primary (and, with
 * DUAL_ASYNC_ON_SECONDARY, also to the other cluster); reads of system keyspaces go to Origin;
 * system.local/peers/peers_v2 are virtual; DESCRIBE and LIST go to the primary alone; everything
 * else (writes, BATCH, DDL, USE, PREPARE, anything not recognised) goes to both. `statement` is the QUERY's text or the prepared
 * statement an EXECUTE refers to; null for requests without one.
 */
export function routeRequest(opcode: number, statement: Statement | null, context: RouteContext): Route {
  switch (opcode) {
    case Opcode.OPTIONS:
      return { kind: 'local' };
    case Opcode.REGISTER:
      // Events come from Origin only (schema changes); the proxy hides the clusters' topology.
      return { kind: 'forward', to: 'origin', asyncTo: null, read: false };
    case Opcode.QUERY:
    case Opcode.EXECUTE:
      return statement === null ? BOTH : routeStatement(statement, context, opcode === Opcode.QUERY);
    default:
      return BOTH;
  }
}

function routeStatement(statement: Statement, context: RouteContext, isQuery: boolean): Route {
  // DESCRIBE pages carry the primary's paging state, which the other cluster would refuse.
  if (statement.kind === 'read-only')
    return { kind: 'forward', to: context.primary, asyncTo: null, read: true };
  if (statement.kind !== 'select') return BOTH;
  const keyspace = statement.keyspace ?? context.keyspace;
  if (keyspace === 'system' && VIRTUAL_TABLES.has(statement.table)) {
    // A prepared system.local is rare; its EXECUTE is simply read from Origin.
    return isQuery
      ? { kind: 'virtual', table: statement.table as 'local' | 'peers' | 'peers_v2' }
      : ORIGIN_READ;
  }
  if (keyspace !== null && (keyspace.startsWith('system') || keyspace.startsWith('dse_'))) return ORIGIN_READ;
  const secondary: ClusterName = context.primary === 'origin' ? 'target' : 'origin';
  return { kind: 'forward', to: context.primary, asyncTo: context.dualReads ? secondary : null, read: true };
}
