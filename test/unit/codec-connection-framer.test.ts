import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectionFramer,
  type ConnectionFramerResult,
  encodeFrame,
  encodeSegments,
  Framer,
  loadCompression,
  MAX_SEGMENT_PAYLOAD,
  Opcode,
  type RawFrame,
} from '../../src/proxy/codec/index.js';

const lz4 = loadCompression().lz4Block;
assert.ok(lz4, 'the lz4-napi library must load on this machine');

const frame = (version: number, stream: number, opcode: number, body = Buffer.alloc(0)): Buffer =>
  encodeFrame({ version, isResponse: false, flags: 0, streamId: stream, opcode }, body);

// A v5 connection as the server reads it: OPTIONS and STARTUP as plain frames (spec v5 §2.3),
// then, once STARTUP is answered with READY, QUERYs inside segments.
const OPTIONS = frame(5, 0, Opcode.OPTIONS);
const STARTUP = frame(
  5,
  1,
  Opcode.STARTUP,
  Buffer.from('0001000b43514c5f56455253494f4e0005332e302e30', 'hex'),
);
const QUERY_A = frame(5, 2, Opcode.QUERY, Buffer.from('query a'));
const QUERY_B = frame(5, 3, Opcode.QUERY, Buffer.from('query b'));
const LARGE = frame(5, 4, Opcode.QUERY, Buffer.alloc(MAX_SEGMENT_PAYLOAD + 1000, 7));

const serverSide = () =>
  new ConnectionFramer({
    supportedVersions: [3, 4, 5],
    switchAfter: (h) => h.version >= 5 && h.opcode === Opcode.STARTUP,
  });

/** Feeds `chunks`; switches to segments (or keeps frames) as soon as the framer waits. */
function run(
  framer: ConnectionFramer,
  chunks: readonly Buffer[],
  segments: 'segments' | 'frames',
  compressor = lz4,
): RawFrame[] {
  const frames: RawFrame[] = [];
  const take = (result: ConnectionFramerResult) => {
    assert.equal(result.error, null);
    frames.push(...result.frames);
    if (framer.waiting)
      take(segments === 'segments' ? framer.startSegments(compressor) : framer.continueFrames());
  };
  for (const chunk of chunks) take(framer.push(chunk));
  return frames;
}

const raws = (frames: readonly RawFrame[]) => frames.map((f) => Buffer.from(f.raw).toString('hex'));

describe('ConnectionFramer', () => {
  const segmented = Buffer.concat(encodeSegments([QUERY_A, QUERY_B, LARGE], lz4));
  const stream = Buffer.concat([OPTIONS, STARTUP, segmented]);
  const expected = raws([OPTIONS, STARTUP, QUERY_A, QUERY_B, LARGE].map((raw) => ({ raw }) as RawFrame));

  test('plain frames up to STARTUP, then LZ4 segments, in one chunk', () => {
    assert.deepEqual(raws(run(serverSide(), [stream], 'segments')), expected);
  });

  test('input cut at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut += cut < 200 || cut > stream.length - 200 ? 1 : 997) {
      const got = run(serverSide(), [stream.subarray(0, cut), stream.subarray(cut)], 'segments');
      assert.deepEqual(raws(got), expected, `cut at ${cut}`);
    }
  });

  test('bytes after STARTUP wait until the answer decides; a refused STARTUP keeps plain frames', () => {
    const framer = serverSide();
    const retry = frame(5, 2, Opcode.STARTUP);
    const first = framer.push(Buffer.concat([STARTUP, retry]));
    assert.equal(first.frames.length, 1);
    assert.equal(framer.waiting, true);
    assert.equal(framer.push(Buffer.from([0x05])).frames.length, 0, 'held while waiting');
    const rest = framer.continueFrames();
    assert.deepEqual(raws(rest.frames), raws([{ raw: retry } as RawFrame]));
    assert.equal(framer.segmented, false);
  });

  test('v3/v4 connections never switch', () => {
    const v4 = [frame(4, 1, Opcode.STARTUP), frame(4, 2, Opcode.QUERY, Buffer.from('q'))];
    const framer = serverSide();
    assert.equal(run(framer, [Buffer.concat(v4)], 'segments').length, 2);
    assert.equal(framer.segmented, false);
  });

  test('the body limit applies inside segments too', () => {
    const framer = serverSide();
    framer.setMaxBodyLength(1024);
    framer.push(STARTUP);
    const result = framer.startSegments(null);
    assert.equal(result.error, null);
    const { error } = framer.push(Buffer.concat(encodeSegments([LARGE])));
    assert.match(String(error?.message), /exceeds the maximum of 1024/);
  });
});

describe('Framer pauseAfter', () => {
  test('stops after the matching frame and hands over the rest', () => {
    const framer = new Framer({ supportedVersions: [5], pauseAfter: (h) => h.opcode === Opcode.STARTUP });
    const { frames } = framer.push(Buffer.concat([OPTIONS, STARTUP, Buffer.from('not a frame')]));
    assert.equal(frames.length, 2);
    assert.equal(framer.paused, true);
    assert.equal(framer.takeBuffered().toString(), 'not a frame');
    assert.equal(framer.bufferedLength, 0);
  });
});
