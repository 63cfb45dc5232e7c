import {
  type BatchRequest,
  type ColumnSpec,
  decodeBatch,
  decodeExecute,
  encodeBatch,
  encodeExecute,
  messageOffset,
  type PreparedMetadata,
  type ProtocolVersion,
  type QueryParameters,
  type Value,
} from './codec/index.js';
import { replaceNowCalls } from './replace-now-calls.js';

/**
 * ZDM_REPLACE_CQL_FUNCTIONS for prepared statements, as the original proxy does it: the PREPARE
 * sent to the clusters has a bind marker of the proxy's own in place of each `now()` call; the
 * client's PREPARED answer hides those markers; each EXECUTE (or BATCH child) then gets one fresh
 * timeuuid per marker, the same values sent to both clusters.
 */

/** Named markers are findable by name in the PREPARED answer whatever other markers the statement has. */
const MARKER_PREFIX = 'zdm__now_';

/** One of the proxy's markers in a prepared statement's bind variables. */
export interface NowMarker {
  /** Position among all the statement's bind variables (as the clusters see them). */
  readonly index: number;
  readonly name: string;
}

/**
 * A PREPARE text with each `now()` call replaced by `(timeuuid) :zdm__now_<n>`; null when nothing is
 * replaced. The type hint keeps calls such as `toTimestamp(now())` unambiguous (toTimestamp also
 * takes a date). Cassandra accepts named and positional markers in one statement.
 */
export function nowCallsToMarkers(text: string): string | null {
  let n = 0;
  return replaceNowCalls(text, () => `(timeuuid) :${MARKER_PREFIX}${n++}`);
}

/** The proxy's markers among a PREPARED answer's bind variables, in order. */
export function nowMarkersOf(columns: readonly ColumnSpec[]): NowMarker[] {
  const markers: NowMarker[] = [];
  columns.forEach((column, index) => {
    if (/^zdm__now_\d+$/.test(column.name)) markers.push({ index, name: column.name });
  });
  return markers;
}

/**
 * The bind variables the client sees: the proxy's markers removed, partition key indexes moved
 * down over them. When a partition key component is itself a replaced `now()`, the client cannot
 * compute the routing key: it gets no key indexes (the proxy is its one host anyway).
 */
export function withoutNowMarkers(
  metadata: PreparedMetadata,
  markers: readonly NowMarker[],
): PreparedMetadata {
  const removed = new Set(markers.map((m) => m.index));
  const columns = metadata.columns.filter((_, i) => !removed.has(i));
  const pkIndexes = metadata.pkIndexes.some((i) => removed.has(i))
    ? []
    : metadata.pkIndexes.map((i) => i - markers.filter((m) => m.index < i).length);
  return { pkIndexes, columns };
}

/**
 * The values the clusters get: the client's, with `uuids[i]` for `markers[i]`: inserted at the
 * marker's position when the client sent positional values, added under the marker's name when it
 * sent named ones (spec v4 §4.1.4 flag 0x40).
 */
export function withNowValues(
  values: readonly Value[] | null,
  names: readonly string[] | null,
  markers: readonly NowMarker[],
  uuids: readonly Buffer[],
): { values: Value[]; names: string[] | null } {
  if (names !== null) {
    return {
      values: [...(values ?? []), ...uuids],
      names: [...names, ...markers.map((m) => m.name)],
    };
  }
  const out = [...(values ?? [])];
  // Markers come in increasing index order, each its position among all the variables: inserting
  // them in that order puts every one where the cluster expects it.
  for (const [i, marker] of markers.entries()) out.splice(marker.index, 0, uuids[i]!);
  return { values: out, names: null };
}

/** An EXECUTE body (after any custom payload) with the timeuuids bound to the proxy's markers. */
export function executeWithNow(
  body: Buffer,
  frameFlags: number,
  version: ProtocolVersion,
  markers: readonly NowMarker[],
  uuids: readonly Buffer[],
): Buffer {
  const at = messageOffset(body, frameFlags, false, version);
  const execute = decodeExecute(body.subarray(at), version);
  const params: QueryParameters = {
    ...execute.params,
    ...withNowValues(execute.params.values, execute.params.names, markers, uuids),
  };
  return Buffer.concat([body.subarray(0, at), encodeExecute({ ...execute, params }, version)]);
}

/** A BATCH body with timeuuids bound to the markers of its prepared children (`markersOf` by child). */
export function batchWithNow(
  body: Buffer,
  frameFlags: number,
  version: ProtocolVersion,
  markersOf: (childIndex: number) => readonly NowMarker[],
  nextUuid: () => Buffer,
): Buffer {
  const at = messageOffset(body, frameFlags, false, version);
  const batch = decodeBatch(body.subarray(at), version);
  const children = batch.children.map((child, i): BatchRequest['children'][number] => {
    const markers = markersOf(i);
    if (markers.length === 0) return child;
    const uuids = markers.map(() => nextUuid());
    return { ...child, values: withNowValues(child.values, null, markers, uuids).values };
  });
  return Buffer.concat([body.subarray(0, at), encodeBatch({ ...batch, children }, version)]);
}
