/**
 * A minimal CQL native-protocol v4 client for the proxy benchmark's compression rows: the Node
 * driver never compresses, so this one speaks the protocol itself with the project's codec and
 * compresses every frame body after STARTUP with LZ4 or Snappy (spec v4 §5), using the same
 * libraries the proxy loads (lz4-napi, snappy: `loadCompression`).
 *
 * Why it is a fair client: the benchmark runs it against the proxy AND against the clusters
 * directly (reads from Origin, the client writing to both clusters), with the same compression,
 * so its own cost is in both sides of every ratio; and it does what a compressing driver does per
 * request (encode, compress; decompress the answer), with native libraries as those drivers use
 * (the Java driver's lz4-java and snappy-java, the Python driver's lz4 and python-snappy).
 * It pipelines requests on a few connections with a stream id each, as drivers do.
 */
import net from 'node:net';
import {
  type BodyCompression,
  type CompressionAlgorithm,
  Consistency,
  encodeExecute,
  encodeFrame,
  encodePrepare,
  encodeStartup,
  FrameFlag,
  Framer,
  isCompressed,
  loadCompression,
  Opcode,
  queryParameters,
  type RawFrame,
} from '../src/proxy/codec/index.js';
import { decodeErrorFrame, preparedIdOf } from '../src/proxy/frame-reading.js';

const VERSION = 4;
/** Larger than any answer of the benchmark: a decompressed body beyond it is a bug. */
const MAX_BODY = 16 * 1024 * 1024;

type Waiter = { resolve(frame: RawFrame): void; reject(error: Error): void };

/** One connection: requests pipelined under stream ids, answers matched back by id. */
class WireConnection {
  readonly #socket: net.Socket;
  readonly #framer = new Framer({ supportedVersions: [VERSION] });
  readonly #waiters = new Map<number, Waiter>();
  readonly #free: number[] = Array.from({ length: 1024 }, (_, i) => 1023 - i);
  /** Asked for in STARTUP: answers flagged compressed use it (Cassandra compresses even READY)... */
  readonly #compression: BodyCompression | null;
  /** ...and requests use it once STARTUP is answered (spec v4 §5: STARTUP is never compressed). */
  #compressRequests = false;

  private constructor(socket: net.Socket, compression: BodyCompression | null) {
    this.#socket = socket;
    this.#compression = compression;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const { frames, error } = this.#framer.push(chunk);
      for (const frame of frames) this.#answered(frame);
      if (error !== null) this.#fail(new Error(`bad frame: ${error.message}`));
    });
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  static async open(
    host: string,
    port: number,
    compression: BodyCompression | null,
  ): Promise<WireConnection> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new WireConnection(socket, compression);
    const options = new Map([['CQL_VERSION', '3.0.0']]);
    if (compression !== null) options.set('COMPRESSION', compression.algorithm);
    const ready = await connection.request(Opcode.STARTUP, encodeStartup({ options }));
    if (ready.header.opcode !== Opcode.READY)
      throw new Error(`STARTUP answered with opcode ${ready.header.opcode}`);
    connection.#compressRequests = compression !== null;
    return connection;
  }

  request(opcode: number, body: Buffer): Promise<RawFrame> {
    const streamId = this.#free.pop();
    if (streamId === undefined) return Promise.reject(new Error('every stream id is in use'));
    const compression = this.#compressRequests ? this.#compression : null;
    const flags = compression === null ? 0 : FrameFlag.COMPRESSION;
    const sent = compression === null ? body : compression.compress(body);
    return new Promise((resolve, reject) => {
      this.#waiters.set(streamId, { resolve, reject });
      this.#socket.write(encodeFrame({ version: VERSION, isResponse: false, flags, streamId, opcode }, sent));
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #answered(frame: RawFrame): void {
    const id = frame.header.streamId;
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return; // an event (stream -1)
    this.#waiters.delete(id);
    this.#free.push(id);
    if (!isCompressed(frame.header)) {
      waiter.resolve(frame);
      return;
    }
    if (this.#compression === null) {
      waiter.reject(new Error('a compressed answer on a connection that asked for no compression'));
      return;
    }
    const body = this.#compression.decompress(frame.body, MAX_BODY);
    const header = {
      ...frame.header,
      flags: frame.header.flags & ~FrameFlag.COMPRESSION,
      length: body.length,
    };
    waiter.resolve({ header, body, raw: body });
  }

  #fail(error: Error): void {
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}

/** Connections to one host, used in turn; EXECUTE of prepared statements with serialized values. */
export class WireClient {
  #next = 0;

  private constructor(readonly connections: readonly WireConnection[]) {}

  /** `compression`: null for none. Throws when the library of `compression` cannot be loaded. */
  static async connect(
    host: string,
    port: number,
    compression: CompressionAlgorithm | null,
    connections: number,
  ): Promise<WireClient> {
    const body = compression === null ? null : compressionOf(compression);
    const opened = await Promise.all(
      Array.from({ length: connections }, () => WireConnection.open(host, port, body)),
    );
    return new WireClient(opened);
  }

  /** Prepares `query` on every connection (ids depend on the text only); its id. */
  async prepare(query: string): Promise<Buffer> {
    const answers = await Promise.all(
      this.connections.map((c) =>
        c.request(Opcode.PREPARE, encodePrepare({ query, keyspace: null }, VERSION)),
      ),
    );
    const id = preparedIdOf(answers[0]!, VERSION);
    if (id === null) throw new Error(`PREPARE ${query}: ${describe(answers[0]!)}`);
    return id;
  }

  /** Executes a prepared statement at consistency ONE; rejects with the cluster's error message. */
  async execute(id: Buffer, values: readonly Buffer[]): Promise<void> {
    const connection = this.connections[this.#next++ % this.connections.length]!;
    const params = queryParameters(Consistency.ONE, { values: [...values] });
    const answer = await connection.request(
      Opcode.EXECUTE,
      encodeExecute({ id, resultMetadataId: null, params }, VERSION),
    );
    if (answer.header.opcode === Opcode.ERROR) throw new Error(describe(answer));
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}

function compressionOf(algorithm: CompressionAlgorithm): BodyCompression {
  const loaded = loadCompression();
  const found = loaded.bodies.find((b) => b.algorithm === algorithm);
  if (found === undefined)
    throw new Error(
      `${algorithm} compression library could not be loaded: ${String(loaded.failures.find((f) => f.algorithm === algorithm)?.error)}`,
    );
  return found;
}

function describe(frame: RawFrame): string {
  return frame.header.opcode === Opcode.ERROR
    ? decodeErrorFrame(frame, VERSION).message
    : `opcode 0x${frame.header.opcode.toString(16)}`;
}

/** CQL serialized values (spec v4 §6): bigint, text, int. */
export const serialize = {
  bigint(n: bigint): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    return b;
  },
  text: (s: string): Buffer => Buffer.from(s, 'utf8'),
  int(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  },
};
