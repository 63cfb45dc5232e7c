import type { BodyCompression, CompressionAlgorithm } from './body-compression.js';

export interface CompressionCheck {
  /** Algorithms that round-tripped the probes, in the order given: what SUPPORTED may advertise. */
  readonly working: readonly CompressionAlgorithm[];
  readonly broken: readonly { readonly algorithm: CompressionAlgorithm; readonly reason: string }[];
}

/** Probes: empty, tiny, and a body that compresses (repeats) while still having varied bytes. */
const PROBES: readonly Buffer[] = [
  Buffer.alloc(0),
  Buffer.from([0x42]),
  Buffer.from(Array.from({ length: 4096 }, (_, i) => (i % 64 < 32 ? i % 7 : (i * 31) % 251))),
];

/**
 * Which of the loaded implementations really work here: each must compress and decompress every
 * probe back to the same bytes. A library that loads but misbehaves (a broken binary, an API
 * change) is reported instead of being advertised to clients that would then fail mid-session.
 */
export function workingCompressions(implementations: readonly BodyCompression[]): CompressionCheck {
  const working: CompressionAlgorithm[] = [];
  const broken: { algorithm: CompressionAlgorithm; reason: string }[] = [];
  for (const implementation of implementations) {
    const reason = probeFailure(implementation);
    if (reason === null) working.push(implementation.algorithm);
    else broken.push({ algorithm: implementation.algorithm, reason });
  }
  return { working, broken };
}

function probeFailure(implementation: BodyCompression): string | null {
  for (const probe of PROBES) {
    try {
      const back = implementation.decompress(implementation.compress(probe), probe.length);
      if (!back.equals(probe)) return `a ${probe.length}-byte probe came back different`;
    } catch (error) {
      return `a ${probe.length}-byte probe failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return null;
}
