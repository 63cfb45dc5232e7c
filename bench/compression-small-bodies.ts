/**
 * What one compress or decompress costs, per body size, through the native libraries the proxy
 * loads (`lz4-napi`, `snappy`) and through the plain TypeScript codecs (lz4-raw.ts,
 * snappy-raw.ts). How to run it (from the repository root; needs nothing else):
 *
 *   npx tsx bench/compression-small-bodies.ts [--milliseconds 300]
 *
 * The baseline is the native library in each row. Bodies look like CQL messages: a few headers and
 * ids, text and numbers, with some repetition (a ROWS answer repeats column specs and value shapes).
 * It prints ns per call and the ratio native / TypeScript (above 1: TypeScript is faster), which
 * sets the size up to which the proxy uses the TypeScript codecs (SMALL_BODY_LIMIT).
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import {
  lz4CompressBound,
  lz4CompressInto,
  lz4DecompressInto,
} from '../src/proxy/codec/compression/lz4-raw.js';
import {
  snappyCompressBound,
  snappyCompressInto,
  snappyDecompressInto,
} from '../src/proxy/codec/compression/snappy-raw.js';

const { values: args } = parseArgs({ options: { milliseconds: { type: 'string', default: '300' } } });
const budgetMs = Number(args.milliseconds);
const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as { compressSync(d: Buffer): Buffer; uncompressSync(d: Buffer): Buffer };
const snappy = require('snappy') as {
  compressSync(d: Buffer): Buffer;
  uncompressSync(d: Buffer, o: { asBuffer: true }): Buffer;
};

/** A body of `size` bytes shaped like CQL rows: column names, a timeuuid-like id, text, counters. */
function cqlLikeBody(size: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (let row = 0; total < size; row++) {
    const part = Buffer.from(
      `\u0000\u0000\u0000\u0010${(row * 2654435761).toString(16).padStart(16, '0')}\u0000\u0000\u0000\u0005name${row % 97}` +
        `\u0000\u0000\u0000\u0008${String(row * 7919).padStart(8, '0')}`,
      'latin1',
    );
    parts.push(part);
    total += part.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

/** ns per call of `run`, over about `budgetMs` after a warm-up. */
function nsPerCall(run: () => void): number {
  for (let i = 0; i < 2000; i++) run();
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 200; i++) run();
    calls += 200;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls;
}

function varintEnd(block: Buffer): number {
  let at = 0;
  while (block[at]! & 0x80) at++;
  return at + 1;
}

const rows: string[][] = [];
for (const size of [32, 64, 128, 256, 512, 1024, 2048, 4096, 16384, 65536]) {
  const body = cqlLikeBody(size);
  const lz4Block = lz4.compressSync(body);
  const snappyBlock = snappy.compressSync(body);
  const snappyStart = varintEnd(snappyBlock);
  const results = {
    lz4Compress: [
      nsPerCall(() => lz4.compressSync(body)),
      nsPerCall(() => lz4CompressInto(body, 0, Buffer.allocUnsafe(lz4CompressBound(size)), 0)),
    ],
    lz4Decompress: [
      nsPerCall(() => lz4.uncompressSync(lz4Block)),
      nsPerCall(() => lz4DecompressInto(lz4Block, 4, Buffer.allocUnsafe(size), 0, size)),
    ],
    snappyCompress: [
      nsPerCall(() => snappy.compressSync(body)),
      nsPerCall(() => snappyCompressInto(body, 0, Buffer.allocUnsafe(snappyCompressBound(size)), 0)),
    ],
    snappyDecompress: [
      nsPerCall(() => snappy.uncompressSync(snappyBlock, { asBuffer: true })),
      nsPerCall(() => snappyDecompressInto(snappyBlock, snappyStart, Buffer.allocUnsafe(size), 0, size)),
    ],
  };
  const jsLz4 = Buffer.allocUnsafe(lz4CompressBound(size));
  const jsSnappy = Buffer.allocUnsafe(snappyCompressBound(size));
  rows.push([
    String(size),
    ...Object.values(results).flatMap(([native, ts]) => [
      native!.toFixed(0),
      ts!.toFixed(0),
      `${(native! / ts!).toFixed(2)}x`,
    ]),
    `${lz4Block.length - 4} / ${lz4CompressInto(body, 0, jsLz4, 0)}`,
    `${snappyBlock.length} / ${snappyCompressInto(body, 0, jsSnappy, 0)}`,
  ]);
}

const header = [
  'body bytes',
  'lz4 compress ns: native',
  'ts',
  'native/ts',
  'lz4 decompress ns: native',
  'ts',
  'native/ts',
  'snappy compress ns: native',
  'ts',
  'native/ts',
  'snappy decompress ns: native',
  'ts',
  'native/ts',
  'lz4 bytes native / ts',
  'snappy bytes native / ts',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---:').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
