import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  decodeError,
  ErrorCode,
  encodeFrame,
  encodeStartup,
  Framer,
  Opcode,
  type RawFrame,
} from '../../src/proxy/codec/index.js';
import { refuseConnection, tooManyConnectionsError } from '../../src/proxy/refuse-connection.js';

/** A real TCP server that refuses every connection, as the proxy does over its connection limit. */
let server: net.Server;
let port: number;
const finished: Promise<void>[] = [];

before(async () => {
  server = net.createServer((socket) => {
    finished.push(
      refuseConnection(socket, tooManyConnectionsError(7, 'ZDM_PROXY_MAX_CLIENT_CONNECTIONS'), {
        timeoutMs: 1000,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await Promise.all(finished);
  await new Promise((resolve) => server.close(resolve));
});

/** Connects, sends `bytes`, and collects what comes back until the server closes the connection. */
async function exchange(bytes: Buffer): Promise<{ frames: RawFrame[]; closedMs: number }> {
  const socket = net.connect(port, '127.0.0.1');
  const framer = new Framer({ supportedVersions: [3, 4, 5] });
  const frames: RawFrame[] = [];
  const started = Date.now();
  socket.on('data', (chunk: Buffer) => frames.push(...framer.push(chunk).frames));
  socket.on('connect', () => socket.write(bytes));
  await new Promise((resolve) => socket.once('close', resolve));
  return { frames, closedMs: Date.now() - started };
}

const startup = (version: 3 | 4 | 5, streamId: number) =>
  encodeFrame(
    { version, isResponse: false, flags: 0, streamId, opcode: Opcode.STARTUP },
    encodeStartup({ options: new Map([['CQL_VERSION', '3.0.0']]) }),
  );

describe('refusing a connection over the limit', () => {
  test('the first request gets OVERLOADED on its stream, naming the limit and the setting; then close', async () => {
    for (const version of [3, 4, 5] as const) {
      const { frames } = await exchange(startup(version, 17));
      assert.equal(frames.length, 1, `v${version}`);
      const [answer] = frames as [RawFrame];
      assert.equal(answer.header.version, version);
      assert.equal(answer.header.isResponse, true);
      assert.equal(answer.header.streamId, 17);
      assert.equal(answer.header.opcode, Opcode.ERROR);
      const error = decodeError(answer.body, version);
      assert.equal(error.code, ErrorCode.OVERLOADED);
      assert.match(
        error.message,
        /too many client connections \(the limit is 7, set by ZDM_PROXY_MAX_CLIENT_CONNECTIONS\)/,
      );
    }
  });

  test('a header split over several packets, followed by 32 MB the client keeps sending, still gets its answer', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const framer = new Framer({ supportedVersions: [4] });
    const frames: RawFrame[] = [];
    socket.on('data', (chunk: Buffer) => frames.push(...framer.push(chunk).frames));
    await new Promise((resolve) => socket.once('connect', resolve));
    const request = startup(4, 3);
    for (const byte of request.subarray(0, 5)) socket.write(Buffer.from([byte]));
    socket.write(request.subarray(5));
    // The client goes on sending (32 MB) while the answer is on its way: it must still arrive.
    for (let i = 0; i < 32; i++) socket.write(Buffer.alloc(1 << 20));
    await new Promise((resolve) => socket.once('close', resolve));
    assert.deepEqual(
      frames.map((f) => [f.header.streamId, decodeError(f.body, 4).code]),
      [[3, ErrorCode.OVERLOADED]],
    );
  });

  test('an unknown protocol version is answered in v4', async () => {
    const { frames } = await exchange(Buffer.from('4100000105000000000000', 'hex'));
    assert.equal(frames[0]?.header.version, 4);
    assert.equal(frames[0]?.header.streamId, 1);
  });

  test('a client that sends nothing is closed after the timeout', async () => {
    const { frames, closedMs } = await exchange(Buffer.alloc(0));
    assert.equal(frames.length, 0);
    assert.ok(closedMs >= 900, `closed after ${closedMs} ms`);
  });
});
