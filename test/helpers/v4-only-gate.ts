import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A cluster that speaks protocol v4 at most (Cassandra 3.x, DSE 5/6), made of a real Cassandra 5.0
 * node and this gate in front of it. Cassandra 5.0 has no setting that takes v5 away, so the one
 * thing the node cannot produce on demand, the refusal, comes from here: a connection whose first
 * frame is v5 gets the PROTOCOL_ERROR Cassandra 3.x sends (in a v4 frame, on the request's stream)
 * and is closed. Every other connection is relayed byte for byte to the node, which answers all
 * of its requests itself.
 */
export interface V4OnlyGate {
  readonly host: string;
  readonly port: number;
  /** Connections refused for opening in v5 (those opening in DSE versions are refused too, uncounted). */
  readonly refusedV5: () => number;
  /** Connections relayed to the node. */
  readonly relayed: () => number;
  close(): Promise<void>;
}

/** Cassandra 3.x's answers to a v5 frame without the beta flag, and to versions it does not know (DSE's). */
function refusalOf(version: number): string {
  return version === 5
    ? 'Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset'
    : `Invalid or unsupported protocol version (${version}); supported versions are (3/v3, 4/v4, 5/v5-beta)`;
}
const HEADER_LENGTH = 9;
const PROTOCOL_ERROR = 0x000a;

/** A v4 ERROR frame carrying a PROTOCOL_ERROR with `message` on `streamId` (spec v4 §2, §4.2.1). */
function protocolErrorFrame(streamId: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const body = Buffer.alloc(6 + text.length);
  body.writeInt32BE(PROTOCOL_ERROR, 0);
  body.writeUInt16BE(text.length, 4);
  text.copy(body, 6);
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(0x84, 0); // a v4 response
  header.writeInt16BE(streamId, 2);
  header.writeUInt8(0x00, 4); // ERROR
  header.writeInt32BE(body.length, 5);
  return Buffer.concat([header, body]);
}

export async function startV4OnlyGate(
  node: { host: string; port: number },
  listenHost = '127.0.0.1',
): Promise<V4OnlyGate> {
  let refused = 0;
  let relayed = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onFirst = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < HEADER_LENGTH) return;
      client.off('data', onFirst);
      const version = head.readUInt8(0) & 0x7f;
      if (version >= 5) {
        if (version === 5) refused++;
        client.end(protocolErrorFrame(head.readInt16BE(2), refusalOf(version)));
        return;
      }
      relayed++;
      client.pause();
      const upstream = connect(node.port, node.host);
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.once('connect', () => {
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    client.on('data', onFirst);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the gate has no TCP address');
  return {
    host: listenHost,
    port: address.port,
    refusedV5: () => refused,
    relayed: () => relayed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
