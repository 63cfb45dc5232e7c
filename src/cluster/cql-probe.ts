import net from 'node:net';
import cassandra from 'cassandra-driver';
import { LOCAL_DATA_CENTER } from './cluster-options.js';

/** The superuser PasswordAuthenticator creates on a fresh cluster. */
export const DEFAULT_SUPERUSER = { username: 'cassandra', password: 'cassandra' } as const;

export interface ProbeCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Runs `query` on exactly the node at address:port (an allow-list policy keeps the driver from using a
 * peer as coordinator, which matters for node-local tables such as system.local and system.peers).
 */
export async function queryNode(
  address: string,
  port: number,
  query: string,
  credentials?: ProbeCredentials,
): Promise<cassandra.types.Row[]> {
  const { policies, auth } = cassandra;
  const client = new cassandra.Client({
    contactPoints: [address],
    protocolOptions: { port },
    localDataCenter: LOCAL_DATA_CENTER,
    policies: {
      loadBalancing: new policies.loadBalancing.AllowListPolicy(
        new policies.loadBalancing.DCAwareRoundRobinPolicy(LOCAL_DATA_CENTER),
        [`${address}:${port}`],
      ),
    },
    ...(credentials === undefined
      ? {}
      : { authProvider: new auth.PlainTextAuthProvider(credentials.username, credentials.password) }),
    socketOptions: { connectTimeout: 5_000, readTimeout: 10_000 },
  });
  try {
    await client.connect();
    const result = await client.execute(query);
    return result.rows;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** Cassandra's version as reported by the node; resolves only once the node serves CQL. */
export async function releaseVersion(
  address: string,
  port: number,
  credentials?: ProbeCredentials,
): Promise<string> {
  const rows = await queryNode(address, port, 'SELECT release_version FROM system.local', credentials);
  return String(rows[0]?.get('release_version'));
}

/** A v4 OPTIONS frame: version 4, no flags, stream 0, opcode OPTIONS (0x05), empty body. */
const V4_OPTIONS = Buffer.from('040000000500000000', 'hex');

/**
 * True once the node at address:port serves CQL and refuses protocol v4 as older than its newest
 * (`native_transport_allow_older_protocols: false`): the driver cannot speak to such a node, so
 * readiness is its own refusal, read from a bare socket. False on anything else or after `timeoutMs`.
 */
export function refusesOlderProtocols(address: string, port: number, timeoutMs = 5_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, address);
    let answer = '';
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write(V4_OPTIONS));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('Rejecting Protocol Version')) done(true);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(answer.includes('Rejecting Protocol Version')));
  });
}

/** Addresses of the peers this node knows (its system.peers). */
export async function peerAddresses(
  address: string,
  port: number,
  credentials?: ProbeCredentials,
): Promise<string[]> {
  const rows = await queryNode(address, port, 'SELECT peer FROM system.peers', credentials);
  return rows.map((row) => String(row.get('peer'))).sort();
}
