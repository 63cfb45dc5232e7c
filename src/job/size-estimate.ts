import type { CqlClient } from '../connect/cluster-client.js';

/**
 * Partitions in a table by Cassandra's own estimate (system.size_estimates, refreshed every few
 * minutes, per node for its primary ranges). Rough, but enough to size the split count; 0 when unknown.
 */
export async function estimatePartitions(
  client: CqlClient,
  keyspace: string,
  table: string,
): Promise<number> {
  try {
    const result = await client.execute(
      'SELECT partitions_count FROM system.size_estimates WHERE keyspace_name = ? AND table_name = ?',
      [keyspace, table],
    );
    const local = result.rows.reduce((sum, r) => sum + Number(r.get('partitions_count') ?? 0), 0);
    return local * Math.max(1, client.hosts.length);
  } catch {
    return 0;
  }
}
