/** Local Apache Cassandra clusters (tests, benchmarks, the demo): the public surface of this folder. */
export { cassandraLibDir, DEFAULT_CASSANDRA_VERSION, ensureCassandraLib } from './cassandra-dist.js';
export {
  type ClusterOptions,
  DEFAULT_BASE_DIR,
  DEFAULT_FIRST_ADDRESS,
  DEFAULT_PAIR,
  LOCAL_DATA_CENTER,
  resolveClusterOptions,
} from './cluster-options.js';
export { DEFAULT_SUPERUSER } from './cql-probe.js';
export {
  type ClusterNode,
  type ClusterStatus,
  clusterStatusAt,
  listClusters,
  type NodeStatus,
  type RunningCluster,
  restartClusterAt,
  startCluster,
  stopClusterAt,
} from './local-cluster.js';
export { findNodeProcesses, type NodeProcess, sweepStrayNodes } from './stray-nodes.js';
