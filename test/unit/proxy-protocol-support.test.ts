import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLUSTER_SETTINGS } from '../../src/config/cluster-settings.js';
import { resolveSettings } from '../../src/config/resolve.js';
import { ClientWire } from '../../src/proxy/client-wire.js';
import {
  CodecError,
  DecompressedTooLargeError,
  decodeHeader,
  decodeStartup,
  encodeFrame,
  encodeStartup,
  FrameFlag,
  Framer,
  HEADER_LENGTH,
  loadCompression,
  Opcode,
  type ProtocolVersion,
  SegmentFramer,
} from '../../src/proxy/codec/index.js';
import {
  acceptedVersions,
  chooseCompression,
  clusterStartupOptions,
  parseBlockedVersions,
  refusalVersion,
  supportedOptions,
} from '../../src/proxy/protocol-support.js';
import { PROXY_SETTINGS, proxyConfig } from '../../src/proxy/proxy-settings.js';
import { Slab, WriteBatch } from '../../src/proxy/write-batch.js';

describe('parseBlockedVersions (ZDM_BLOCKED_PROTOCOL_VERSIONS, as in the original)', () => {
  const cases: [string, string[], ReturnType<typeof parseBlockedVersions>][] = [
    ['nothing', [], { versions: [] }],
    ['blanks only', ['', ' ', '  '], { versions: [] }],
    ['v5', ['v5'], { versions: [5] }],
    ['numbers and names, any case', ['2', 'V3', 'v5'], { versions: [2, 3, 5] }],
    ['DSE names', ['DSEv1', 'dse_v1', 'DseV2', 'DSE_V2'], { versions: [0x41, 0x42] }],
    ['an unknown name', ['v2', ' sdasd '], { invalid: 'sdasd' }],
    ['v1 is not a name', ['v1'], { invalid: 'v1' }],
  ];
  for (const [title, entries, expected] of cases) {
    test(title, () => assert.deepEqual(parseBlockedVersions(entries), expected));
  }

  test('the settings read it from the environment, report a bad value, and refuse blocking every version', () => {
    const config = (blocked: string) =>
      proxyConfig(
        resolveSettings(
          { ...PROXY_SETTINGS, ...CLUSTER_SETTINGS },
          {
            env: {
              ZDM_ORIGIN_CONTACT_POINTS: '10.0.0.1',
              ZDM_TARGET_CONTACT_POINTS: '10.0.0.2',
              ZDM_BLOCKED_PROTOCOL_VERSIONS: blocked,
            },
          },
        ),
      );
    assert.deepEqual(config('v2, V3').blockedProtocolVersions, [2, 3]);
    assert.deepEqual(config('').blockedProtocolVersions, []);
    assert.throws(() => config('v9'), /ZDM_BLOCKED_PROTOCOL_VERSIONS\): v9; possible values are 2, 3/);
    assert.throws(() => config('3,4,5'), /no client could connect/);
  });
});

describe('acceptedVersions and refusalVersion', () => {
  const cases: [number[], ProtocolVersion[], ProtocolVersion][] = [
    [[], [3, 4, 5], 4],
    [[2, 3], [4, 5], 4],
    [[5], [3, 4], 4],
    [[4], [3, 5], 5],
    [[4, 5], [3], 3],
    [[0x41, 0x42], [3, 4, 5], 4],
  ];
  for (const [blocked, accepted, refusal] of cases) {
    test(`blocked [${blocked}] → accepts [${accepted}], refuses in v${refusal}`, () => {
      assert.deepEqual(acceptedVersions(blocked), accepted);
      assert.equal(refusalVersion(acceptedVersions(blocked)), refusal);
    });
  }
});

describe('supportedOptions', () => {
  test('advertises the accepted versions and the working compressions only', () => {
    const options = supportedOptions([4, 5], ['snappy'], ['3.4.7']);
    assert.deepEqual(options.get('PROTOCOL_VERSIONS'), ['4/v4', '5/v5']);
    assert.deepEqual(options.get('COMPRESSION'), ['snappy']);
    assert.deepEqual(options.get('CQL_VERSION'), ['3.4.7']);
  });
});

describe('chooseCompression', () => {
  const both = ['lz4', 'snappy'] as const;
  const cases: [string, string | undefined, ProtocolVersion, readonly ('lz4' | 'snappy')[], string][] = [
    ['absent', undefined, 4, both, 'none'],
    ['"none"', 'NONE', 5, both, 'none'],
    ['lz4 on v4', 'lz4', 4, both, 'use lz4'],
    ['Snappy on v3, any case', 'Snappy', 3, both, 'use snappy'],
    ['lz4 on v5 (segments)', 'lz4', 5, both, 'use lz4'],
    ['snappy on v5', 'snappy', 5, both, 'refuse'],
    ['an algorithm whose library does not work here', 'lz4', 4, ['snappy'], 'refuse'],
    ['an unknown algorithm', 'deflate', 4, both, 'refuse'],
  ];
  for (const [title, asked, version, working, expected] of cases) {
    test(title, () => {
      const choice = chooseCompression(asked, version, working);
      const got = choice.kind === 'use' ? `use ${choice.algorithm}` : choice.kind;
      assert.equal(got, expected);
      if (choice.kind === 'refuse') assert.match(choice.error.message, /zdm-proxy: .*compress/);
    });
  }
});

test('clusterStartupOptions drops COMPRESSION only', () => {
  const startup = encodeStartup({
    options: new Map([
      ['CQL_VERSION', '3.0.0'],
      ['COMPRESSION', 'lz4'],
      ['DRIVER_NAME', 'x'],
    ]),
  });
  const options = clusterStartupOptions(decodeStartup(startup).options);
  assert.deepEqual(
    [...options],
    [
      ['CQL_VERSION', '3.0.0'],
      ['DRIVER_NAME', 'x'],
    ],
  );
});

describe('ClientWire', () => {
  const loaded = loadCompression();
  const lz4 = loaded.bodies.find((b) => b.algorithm === 'lz4')!;
  const snappy = loaded.bodies.find((b) => b.algorithm === 'snappy')!;
  const body = Buffer.from('SELECT * FROM ks.t WHERE k = ?'.repeat(20));
  const request = (flags: number, b: Buffer) =>
    encodeFrame({ version: 4, isResponse: false, flags, streamId: 7, opcode: Opcode.QUERY }, b);
  const frameOf = (raw: Buffer) => new Framer({ supportedVersions: [4, 5] }).push(raw).frames[0]!;
  /** What the client is sent for these frames, written in one tick. */
  const encoded = (wire: ClientWire, ...frames: Buffer[]): Buffer => {
    const batch = new WriteBatch(new Slab(256));
    for (const frame of frames) wire.encodeInto(frame, batch);
    return Buffer.concat(batch.take());
  };

  for (const compression of [lz4, snappy]) {
    test(`${compression.algorithm}: a compressed request is decompressed to its announced size`, () => {
      const wire = new ClientWire();
      wire.useBodyCompression(compression);
      const frame = wire.decodeRequest(
        frameOf(request(FrameFlag.COMPRESSION, compression.compress(body))),
        1 << 20,
      );
      assert.deepEqual(frame.body, body);
      assert.equal(frame.header.flags & FrameFlag.COMPRESSION, 0);
      assert.equal(frame.header.length, body.length);
      assert.deepEqual(frame.raw.subarray(HEADER_LENGTH), body);
    });

    test(`${compression.algorithm}: the frame limit applies to the decompressed size`, () => {
      const wire = new ClientWire();
      wire.useBodyCompression(compression);
      const small = frameOf(request(FrameFlag.COMPRESSION, compression.compress(body)));
      assert.ok(small.body.length < 100);
      assert.throws(() => wire.decodeRequest(small, 100), DecompressedTooLargeError);
    });

    test(`${compression.algorithm}: responses are compressed once the handshake is done`, () => {
      const wire = new ClientWire();
      wire.useBodyCompression(compression);
      const response = encodeFrame(
        { version: 4, isResponse: true, flags: 0, streamId: 7, opcode: Opcode.RESULT },
        body,
      );
      assert.deepEqual(encoded(wire, response), response, 'not before READY');
      wire.compressResponses();
      const out = encoded(wire, response);
      const header = decodeHeader(out);
      assert.equal(header.flags & FrameFlag.COMPRESSION, FrameFlag.COMPRESSION);
      assert.equal(header.streamId, 7);
      assert.equal(header.length, out.length - HEADER_LENGTH);
      assert.deepEqual(compression.decompress(out.subarray(HEADER_LENGTH), 1 << 20), body);
      const empty = encodeFrame({ ...header, flags: 0, opcode: Opcode.READY }, Buffer.alloc(0));
      assert.deepEqual(encoded(wire, empty), empty, 'an empty body stays as it is');
    });

    test(`${compression.algorithm}: answers of one tick, small and large, leave in order, each whole`, () => {
      const wire = new ClientWire();
      wire.useBodyCompression(compression);
      wire.compressResponses();
      // Bodies on both sides of the TypeScript/library switch, and larger than the batch's slab.
      const bodies = [body.subarray(0, 40), Buffer.from('x'.repeat(9000)), body, Buffer.alloc(70_000, 3)];
      const frames = bodies.map((b, i) =>
        encodeFrame({ version: 4, isResponse: true, flags: 0, streamId: i, opcode: Opcode.RESULT }, b),
      );
      let out = encoded(wire, ...frames);
      for (const [i, expected] of bodies.entries()) {
        const header = decodeHeader(out);
        assert.equal(header.streamId, i);
        assert.equal(header.flags & FrameFlag.COMPRESSION, FrameFlag.COMPRESSION);
        const compressed = out.subarray(HEADER_LENGTH, HEADER_LENGTH + header.length);
        assert.deepEqual(compression.decompress(compressed, 1 << 20), expected);
        out = out.subarray(HEADER_LENGTH + header.length);
      }
      assert.equal(out.length, 0);
    });
  }

  test('a compressed request without negotiated compression is a codec error', () => {
    assert.throws(
      () => new ClientWire().decodeRequest(frameOf(request(FrameFlag.COMPRESSION, body)), 1 << 20),
      CodecError,
    );
  });

  test('v5: the obsolete frame compression flag is ignored inside segments', () => {
    const wire = new ClientWire();
    wire.useSegments(loaded.lz4Block);
    const v5 = encodeFrame(
      { version: 5, isResponse: false, flags: FrameFlag.COMPRESSION, streamId: 7, opcode: Opcode.QUERY },
      body,
    );
    const frame = wire.decodeRequest(frameOf(v5), 1 << 20);
    assert.deepEqual(frame.body, body);
    assert.equal(frame.header.flags, 0);
    assert.equal(frame.raw[1], 0);
  });

  test('v5: frames go out in (LZ4) segments that a segment framer reads back', () => {
    for (const compressor of [null, loaded.lz4Block]) {
      const wire = new ClientWire();
      wire.useSegments(compressor);
      const response = encodeFrame(
        { version: 5, isResponse: true, flags: 0, streamId: 7, opcode: Opcode.RESULT },
        body,
      );
      const { frames, error } = new SegmentFramer({ compressor }).push(encoded(wire, response));
      assert.equal(error, null);
      assert.deepEqual(
        frames.map((f) => Buffer.from(f.raw)),
        [response],
      );
    }
  });
});
