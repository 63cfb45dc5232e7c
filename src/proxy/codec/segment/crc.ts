import zlib from 'node:zlib';

/**
 * The two checksums of v5 segments (spec v5 §2; Cassandra's org.apache.cassandra.net.Crc):
 * CRC-24 (Koopman polynomial) over the segment header and CRC-32 (IEEE) over the payload,
 * the latter seeded with four fixed bytes.
 */
const CRC24_INIT = 0x875060;
const CRC24_POLY = 0x1974f0b;

/** CRC-24 of a little-endian header: bytes are taken in order, least significant first. */
export function crc24(bytes: Uint8Array): number {
  let crc = CRC24_INIT;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]! << 16;
    for (let bit = 0; bit < 8; bit++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= CRC24_POLY;
    }
  }
  return crc;
}

const CRC32_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (IEEE) continuing from `crc`, in plain JavaScript. */
export function tableCrc32(crc: number, bytes: Uint8Array): number {
  let c = ~crc;
  // An indexed loop: iterating a Buffer with for-of is an order of magnitude slower.
  for (let i = 0; i < bytes.length; i++) c = CRC32_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// zlib.crc32 (Node 20.15+) is several times faster; older Node 20 releases use the table.
const crc32Update: (crc: number, bytes: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (crc, bytes) => zlib.crc32(bytes, crc) : tableCrc32;

const CRC32_INITIAL = crc32Update(0, Uint8Array.of(0xfa, 0x2d, 0x55, 0xca));

/** CRC-32 of a segment payload, as an unsigned number. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(CRC32_INITIAL, bytes);
}
