import type { CqlClient } from '../connect/cluster-client.js';
import type { DiffEntry, SideView } from './diff-entry.js';

/**
 * Reads one entry again by its key from one side: a row (with clustering) or a partition's statics.
 * Used by the recheck of a difference and by the check after a repair. Undefined when it is gone.
 */
export async function readEntry(
  view: SideView,
  client: CqlClient,
  consistency: number,
  key: DiffEntry,
): Promise<DiffEntry | undefined> {
  const withClustering = key.clustering !== undefined;
  const result = await client.execute(
    view.pointQuery(withClustering),
    [...key.partition, ...(key.clustering ?? [])],
    {
      prepare: true,
      consistency,
    },
  );
  for (const entry of view.entries(result.rows, {})) {
    if ((entry.clustering === undefined) === !withClustering) return entry;
  }
  return undefined;
}
