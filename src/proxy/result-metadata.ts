import type { ClusterName } from './route-request.js';

/**
 * Result metadata across two clusters. A prepared SELECT's result columns can differ between
 * Origin and Target (a column added on one side only, another type), and so can its v5 result
 * metadata id, which Cassandra derives from those columns (spec v5 §4.2.5.4). A client decodes
 * rows by the result metadata of the PREPARED answer it got, unless a ROWS answer carries its
 * own. Pure decisions; the forwarder applies them.
 */

/** A prepared statement's v5 result metadata id on each cluster; null before v5 or where it was not prepared. */
export type ResultMetadataIds = Readonly<Record<ClusterName, Buffer | null>>;

export const NO_RESULT_METADATA_IDS: ResultMetadataIds = { origin: null, target: null };

/**
 * Whose result metadata (and v5 result metadata id) the client's PREPARED answer carries: the
 * primary cluster's, since synchronous reads run there and the client decodes their rows by it.
 * Target's only when it prepared the statement; otherwise Origin's, which then serves the reads.
 * Before v5 this is what keeps rows decodable: a v4 cluster leaves the metadata out of ROWS
 * whenever the client asks (Skip_metadata) and its own columns did not change, so a client holding
 * the other cluster's columns would decode the rows by the wrong columns.
 */
export function resultMetadataSource(primary: ClusterName, targetPrepared: boolean): ClusterName {
  return primary === 'target' && targetPrepared ? 'target' : 'origin';
}

/**
 * The <result_metadata_id> a v5 EXECUTE carries to a cluster (spec v5 §4.1.6), given the id the
 * client sent and the one the cluster gave in its own PREPARED answer (`own`; null: unknown).
 *
 * - Its answer reaches the client: the client's id, unchanged. The cluster compares it with its
 *   own columns and, when they differ, answers Metadata_changed with its new id and full metadata
 *   (spec v5 §4.2.5.2), which is exactly what the client needs to decode these rows. Giving the
 *   cluster its own id instead would make it leave the metadata out, and the client would decode
 *   the rows by another cluster's columns.
 * - Its answer is dropped (the asynchronous copy of a read): the cluster's own id, so it does
 *   not send full metadata with every answer nobody reads.
 */
export function executeResultMetadataIdFor(
  clientId: Buffer,
  own: Buffer | null,
  answerReachesClient: boolean,
): Buffer {
  return answerReachesClient || own === null ? clientId : own;
}

/**
 * The ids after a cluster answered an EXECUTE with Metadata_changed (its columns changed since it
 * prepared the statement, e.g. ALTER TABLE ADD): the cluster's entry becomes the new id.
 */
export function withNewResultMetadataId(
  ids: ResultMetadataIds,
  cluster: ClusterName,
  newId: Buffer,
): ResultMetadataIds {
  return ids[cluster]?.equals(newId) === true ? ids : { ...ids, [cluster]: newId };
}
