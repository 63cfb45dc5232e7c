import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { runCommand } from '../cli/run-command.js';
import { OperatorError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { ensureCassandraLib } from './cassandra-dist.js';
import { type ClusterOptions, DEFAULT_BASE_DIR, DEFAULT_PAIR, LOCAL_DATA_CENTER } from './cluster-options.js';
import {
  type ClusterStatus,
  clusterStatusAt,
  listClusters,
  startCluster,
  stopClusterAt,
} from './local-cluster.js';
import type { ClusterAuthenticator } from './node-config.js';
import { sweepStrayNodes } from './stray-nodes.js';

interface CommonArgs {
  'base-dir': string;
  'log-level'?: string;
  json: boolean;
}

interface StartArgs extends CommonArgs {
  name?: string;
  nodes?: number;
  address?: string;
  port: number;
  'storage-port': number;
  'heap-mb': number;
  auth: ClusterAuthenticator;
  'num-tokens': number;
  reset: boolean;
}

interface StopArgs extends CommonArgs {
  name?: string;
}

function withCommon<T>(yargs: Argv<T>): Argv<T & CommonArgs> {
  return yargs
    .option('base-dir', {
      type: 'string',
      default: DEFAULT_BASE_DIR,
      describe: `Directory holding one sub-directory (config, data, logs, pidfiles) per cluster [default ${DEFAULT_BASE_DIR}]`,
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print machine-readable JSON on stdout' })
    .option('log-level', {
      type: 'string',
      describe: 'trace, debug, info, warn, error or silent (logs go to stderr)',
    });
}

const startCommand: CommandModule<object, StartArgs> = {
  command: 'start',
  describe: 'Start local Cassandra 5.0 clusters (default: origin on 127.0.0.2 and target on 127.0.0.3)',
  builder: (yargs) =>
    withCommon(yargs)
      .option('name', {
        type: 'string',
        describe: 'Start only this cluster (default: the origin/target pair)',
      })
      .option('nodes', {
        type: 'number',
        describe: 'Nodes in the cluster, on consecutive addresses (needs --name) [integer, default 1]',
      })
      .option('address', {
        type: 'string',
        describe: 'Loopback address of the first node (needs --name; default 127.0.0.2)',
      })
      .option('port', {
        type: 'number',
        default: 9042,
        describe: 'CQL port of every node [integer, default 9042]',
      })
      .option('storage-port', {
        type: 'number',
        default: 7000,
        describe: 'Internode (gossip) port of every node [integer, default 7000]',
      })
      .option('heap-mb', {
        type: 'number',
        default: 1024,
        describe: 'JVM heap per node in MiB (RSS is ~400 MiB more) [integer, default 1024]',
      })
      .option('auth', {
        choices: ['none', 'password'] as const,
        default: 'none' as const,
        describe:
          'none, or password: PasswordAuthenticator with the superuser cassandra/cassandra [default none]',
      })
      .option('num-tokens', {
        type: 'number',
        default: 16,
        describe: 'Virtual nodes per node [integer, default 16]',
      })
      .option('reset', {
        type: 'boolean',
        default: false,
        describe: "Delete the cluster's data before starting",
      })
      .epilogue(
        [
          'Nodes run in the background and outlive this command; stop them with `zdm cluster stop`. ' +
            'Data is kept between runs unless --reset is given. Each node needs ~1.5 GB of memory and ' +
            'takes ~10 s to start; clusters live under --base-dir (config, data, logs/system.log).',
          'The first run downloads the Cassandra 5.0 jars (~67 MB; needs `mvn` and Java 17) into ' +
            '~/.cache/zdm; set ZDM_CASSANDRA_LIB to use another directory of jars.',
        ].join('\n\n'),
      )
      .example('$0 cluster start', 'origin on 127.0.0.2:9042 and target on 127.0.0.3:9042')
      .example(
        '$0 cluster start --name big --nodes 3 --address 127.0.0.10',
        'a 3-node cluster on 127.0.0.10-12',
      )
      .example(
        '$0 cluster start --name secure --address 127.0.0.20 --auth password',
        '',
      ) as unknown as Argv<StartArgs>,
  handler: (argv) => runCommand(() => startHandler(argv)),
};

async function startHandler(argv: StartArgs): Promise<number> {
  const logger = createLogger({ level: argv['log-level'] ?? 'info' });
  const baseDir = resolve(argv['base-dir']);
  if (argv.name === undefined && (argv.nodes !== undefined || argv.address !== undefined)) {
    throw new OperatorError(
      'CLUSTER_OPTIONS_INVALID',
      '--nodes and --address apply to one cluster: give its --name too',
      'without --name, `start` starts the single-node origin/target pair',
    );
  }
  const shared = {
    baseDir,
    nativePort: argv.port,
    storagePort: argv['storage-port'],
    heapMb: argv['heap-mb'],
    authenticator: argv.auth,
    numTokens: argv['num-tokens'],
    reset: argv.reset,
    detached: true,
  } satisfies Partial<ClusterOptions>;
  const wanted: ClusterOptions[] =
    argv.name === undefined
      ? DEFAULT_PAIR.map(({ name, address }) => ({ ...shared, name, firstAddress: address }))
      : [
          {
            ...shared,
            name: argv.name,
            nodes: argv.nodes ?? 1,
            firstAddress: argv.address ?? DEFAULT_PAIR[0].address,
          },
        ];

  // Detached nodes are not killed with this process: a Ctrl-C mid-start must stop what was started.
  let inProgress: string | undefined;
  const interrupt = (): void => {
    const dir = inProgress;
    void (async () => {
      if (dir !== undefined) await stopClusterAt(dir, logger, 5_000).catch(() => undefined);
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  await ensureCassandraLib(undefined, logger);
  const results: ClusterStatus[] = [];
  for (const options of wanted) {
    const dir = join(baseDir, options.name);
    const existing = await clusterStatusAt(dir).catch(() => undefined);
    if (
      existing !== undefined &&
      existing.nodes.length > 0 &&
      existing.nodes.every((n) => n.up && n.cqlListening)
    ) {
      logger.info({ cluster: options.name }, 'already running');
      results.push(existing);
      continue;
    }
    inProgress = dir;
    await startCluster(options, logger);
    inProgress = undefined;
    results.push(await clusterStatusAt(dir));
  }
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);

  if (argv.json) {
    process.stdout.write(`${JSON.stringify(results.map(endpointJson), null, 2)}\n`);
  } else {
    for (const cluster of results) {
      const auth = cluster.authenticator === 'password' ? ', user cassandra/cassandra' : '';
      process.stdout.write(
        `${cluster.name}: contact points ${cluster.nodes.map((n) => n.address).join(',')} port ${cluster.port}` +
          ` (local DC ${LOCAL_DATA_CENTER}${auth})\n`,
      );
    }
  }
  return 0;
}

function endpointJson(cluster: ClusterStatus) {
  return {
    name: cluster.name,
    contactPoints: cluster.nodes.map((n) => n.address),
    port: cluster.port,
    localDataCenter: LOCAL_DATA_CENTER,
    authenticator: cluster.authenticator,
  };
}

const stopCommand: CommandModule<object, StopArgs> = {
  command: 'stop',
  describe: 'Stop local clusters (all under --base-dir, or the one given with --name); data is kept',
  builder: (yargs) =>
    withCommon(yargs)
      .option('name', { type: 'string', describe: 'Stop only this cluster' })
      .epilogue(
        'Each node gets SIGTERM (clean shutdown) and SIGKILL after 15 s. Without --name, stray node JVMs ' +
          'of clusters under --base-dir whose pidfiles were lost are stopped too.',
      ) as unknown as Argv<StopArgs>,
  handler: (argv) => runCommand(() => stopHandler(argv)),
};

async function stopHandler(argv: StopArgs): Promise<number> {
  const logger = createLogger({ level: argv['log-level'] ?? 'info' });
  const baseDir = resolve(argv['base-dir']);
  const names = argv.name === undefined ? (await listClusters(baseDir)).map((c) => c.name) : [argv.name];
  const stopped: Record<string, number[]> = {};
  // In parallel: each node takes seconds to flush and shut down, and clusters do not depend on each other.
  const pids = await Promise.all(names.map((name) => stopClusterAt(join(baseDir, name), logger)));
  names.forEach((name, i) => {
    stopped[name] = pids[i]!;
  });
  if (argv.name === undefined) {
    const strays = await sweepStrayNodes(baseDir, logger);
    if (strays.length > 0) stopped['(strays)'] = strays;
  }
  if (argv.json) {
    process.stdout.write(`${JSON.stringify(stopped, null, 2)}\n`);
  } else if (Object.keys(stopped).length === 0) {
    process.stdout.write(`no clusters under ${baseDir}\n`);
  } else {
    for (const [name, pids] of Object.entries(stopped)) {
      process.stdout.write(
        `${name}: ${pids.length === 0 ? 'was not running' : `stopped ${pids.length} node(s)`}\n`,
      );
    }
  }
  return 0;
}

const statusCommand: CommandModule<object, CommonArgs> = {
  command: 'status',
  describe: 'List local clusters with their nodes: address, pid, up/down, CQL port open, resident memory',
  builder: (yargs) => withCommon(yargs) as unknown as Argv<CommonArgs>,
  handler: (argv) => runCommand(() => statusHandler(argv)),
};

async function statusHandler(argv: CommonArgs): Promise<number> {
  const baseDir = resolve(argv['base-dir']);
  const clusters = await listClusters(baseDir);
  if (argv.json) {
    process.stdout.write(`${JSON.stringify(clusters, null, 2)}\n`);
    return 0;
  }
  if (clusters.length === 0) {
    process.stdout.write(`no clusters under ${baseDir} (start some with \`zdm cluster start\`)\n`);
    return 0;
  }
  const rows = [['CLUSTER', 'NODE', 'PID', 'STATE', 'CQL', 'RSS']];
  for (const cluster of clusters) {
    for (const node of cluster.nodes) {
      rows.push([
        cluster.name,
        `${node.address}:${cluster.port}`,
        node.pid === undefined ? '-' : String(node.pid),
        node.up ? 'up' : 'down',
        // A CQL port open while our node is down belongs to another process (another cluster on that address).
        node.cqlListening ? (node.up ? 'open' : 'taken by another process') : 'closed',
        node.rssMb === undefined ? '-' : `${node.rssMb} MiB`,
      ]);
    }
  }
  process.stdout.write(formatTable(rows));
  return 0;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, col) => cell.padEnd(widths[col]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `zdm cluster <start|stop|status>`: local Apache Cassandra clusters for trying zdm out and for tests. */
export const clusterCommand: CommandModule<object, object> = {
  command: 'cluster <command>',
  describe: 'Run local Apache Cassandra clusters (origin/target on loopback addresses) to try zdm on',
  builder: (yargs) =>
    yargs
      .command(startCommand)
      .command(stopCommand)
      .command(statusCommand)
      .demandCommand(1, 'Name a cluster command: start, stop or status.'),
  handler: () => undefined,
};
