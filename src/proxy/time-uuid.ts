import { randomBytes } from 'node:crypto';
import { formatUuid } from './codec/index.js';

/** 100-nanosecond intervals between the UUID epoch (1582-10-15) and the Unix epoch. */
const UUID_EPOCH_OFFSET = 122_192_928_000_000_000n;

/**
 * A generator of version 1 (time-based) UUIDs as CQL's `now()` makes them (RFC 4122 §4.2): the
 * time in 100 ns steps, a random clock sequence and a random node id (multicast bit set, as the RFC
 * asks of node ids that are not a MAC address), drawn once per generator. Successive UUIDs have
 * strictly increasing times, even within one millisecond or when the clock steps back, so two
 * generated in a row never collide.
 */
export function timeUuidGenerator(
  now: () => number = Date.now,
  random: (size: number) => Buffer = randomBytes,
): () => string {
  const seed = random(8);
  const clockSequence = seed.readUInt16BE(0) & 0x3fff;
  const node = seed.subarray(2, 8);
  node[0]! |= 0x01;
  let last = 0n;
  return () => {
    const candidate = BigInt(now()) * 10_000n + UUID_EPOCH_OFFSET;
    last = candidate > last ? candidate : last + 1n;
    const bytes = Buffer.allocUnsafe(16);
    bytes.writeUInt32BE(Number(last & 0xffff_ffffn), 0);
    bytes.writeUInt16BE(Number((last >> 32n) & 0xffffn), 4);
    bytes.writeUInt16BE(Number((last >> 48n) & 0x0fffn) | 0x1000, 6);
    bytes.writeUInt16BE(clockSequence | 0x8000, 8);
    node.copy(bytes, 10);
    return formatUuid(bytes);
  };
}
