import { type ErrorBody, ErrorCode, type ProtocolVersion, type V5OnlyFields } from './codec/index.js';
import { writtenPartitionOf } from './partition-key-of.js';
import { clusterLabel } from './proxy-errors.js';
import type { ClusterName } from './route-request.js';
import { classifyStatement } from './statement.js';

/**
 * Bridging protocol versions: when one cluster refuses the client's version at STARTUP but
 * speaks a neighbour, the proxy speaks that version to it and translates (bridge-links.ts):
 * - a v4 client, a cluster that speaks only v5 (Cassandra 5.0 with
 *   `native_transport_allow_older_protocols: false`);
 * - a v5 client, a cluster that speaks v4 at most (Cassandra 3.x), while the other cluster speaks
 *   v5. When neither speaks v5, the refusal reaches the client, whose driver steps down to v4 and
 *   then needs no translation at all.
 * Pure decisions; the handshake and the forwarder apply them.
 */

/** A PROTOCOL_ERROR refusing a version: "Invalid or unsupported protocol version (5)...",
 * "Rejecting Protocol Version v4 < v5.", or Cassandra 3.x's "Beta version of the protocol used (5/v5-beta)...". */
const VERSION_REFUSAL = /protocol version|version of the protocol/i;

/**
 * The version to open a cluster connection with after the cluster refused the client's version
 * at STARTUP, or null: the refusal goes to the client. `otherAccepted`: the other cluster took
 * the client's version.
 */
export function bridgeVersionAfterRefusal(
  clientVersion: ProtocolVersion,
  error: ErrorBody,
  otherAccepted: boolean,
): ProtocolVersion | null {
  if (error.code !== ErrorCode.PROTOCOL_ERROR || !VERSION_REFUSAL.test(error.message)) return null;
  if (clientVersion === 4) return 5;
  if (clientVersion === 5 && otherAccepted) return 4;
  return null;
}

/**
 * Whether a statement text names the keyspace of its table (`ks.t`), so a per-request keyspace
 * adds nothing to it. Only SELECT, INSERT, UPDATE and DELETE are read; anything else is taken as
 * depending on the keyspace.
 */
export function namesItsKeyspace(text: string): boolean {
  const statement = classifyStatement(text);
  if (statement.kind === 'select') return statement.keyspace !== null;
  return statement.kind === 'write' && writtenPartitionOf(text)?.keyspace != null;
}

/**
 * Why a v5 request cannot go to a cluster that speaks v4 (`cluster`), or null when it can. v4 has
 * no field for a per-request keyspace or for now_in_seconds (spec v5 §4.1.4). A keyspace that
 * changes nothing is dropped: the session's own (after USE), or one every statement text already
 * names, or an EXECUTE's (its statement was bound to its keyspace when prepared). Any other would
 * change which table a statement means, and now_in_seconds changes what TTLs and deletions see:
 * refused before any cluster gets the request, so nothing is written on one side only.
 */
export function v4Refusal(
  opcode: 'execute' | 'other',
  fields: V5OnlyFields,
  sessionKeyspace: string | null,
  cluster: ClusterName,
): ErrorBody | null {
  const { keyspace } = fields;
  const label = clusterLabel(cluster);
  if (fields.nowInSeconds) {
    return invalid(
      `zdm-proxy: ${label} speaks protocol v4, which cannot carry now_in_seconds; send the request without it, or connect with protocol v4`,
    );
  }
  if (keyspace === null || opcode === 'execute' || keyspace === sessionKeyspace) return null;
  if (fields.texts.every(namesItsKeyspace)) return null;
  return invalid(
    `zdm-proxy: ${label} speaks protocol v4, which cannot carry the request's keyspace "${keyspace}"; qualify the table names (${keyspace}.table), USE "${keyspace}" first, or connect with protocol v4`,
  );
}

function invalid(message: string): ErrorBody {
  return { kind: 'simple', code: ErrorCode.INVALID, message };
}
