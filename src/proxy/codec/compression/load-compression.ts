import { createRequire } from 'node:module';
import type { BodyCompression, CompressionAlgorithm } from './body-compression.js';
import { Lz4Block, type Lz4Library } from './lz4-block.js';
import { Lz4BodyCompression } from './lz4-body-compression.js';
import { SnappyBodyCompression, type SnappyLibrary } from './snappy-body-compression.js';

/** The compression implementations, and which native libraries did not load. */
export interface LoadedCompression {
  /** Raw LZ4 blocks for v5 segments. */
  readonly lz4Block: Lz4Block;
  /** Frame-body compressions for v3/v4, in preference order. */
  readonly bodies: readonly BodyCompression[];
  /** Libraries that did not load: their algorithm runs in TypeScript at every size. */
  readonly failures: readonly { readonly algorithm: CompressionAlgorithm; readonly error: unknown }[];
}

/** Loads a package by name; `require` by default, replaceable to test a missing library. */
export type PackageLoader = (name: string) => unknown;

const requirePackage: PackageLoader = createRequire(import.meta.url);

/**
 * Loads the native compression libraries. They ship prebuilt binaries per platform, so loading
 * can fail on an unusual platform (another libc, another CPU): that algorithm then runs in
 * TypeScript at every size, slower on large bodies (bench/compression-small-bodies.ts) but with
 * the same bytes on the wire, instead of being lost. Whether an implementation really works is
 * decided by workingCompressions.
 */
export function loadCompression(load: PackageLoader = requirePackage): LoadedCompression {
  const failures: { algorithm: CompressionAlgorithm; error: unknown }[] = [];
  const lz4Block = new Lz4Block(loadLibrary<Lz4Library>(load, 'lz4-napi', 'lz4', failures));
  const snappyLibrary = loadLibrary<SnappyLibrary>(load, 'snappy', 'snappy', failures);
  const bodies = [new Lz4BodyCompression(lz4Block), new SnappyBodyCompression(snappyLibrary)];
  return { lz4Block, bodies, failures };
}

function loadLibrary<Library>(
  load: PackageLoader,
  name: string,
  algorithm: CompressionAlgorithm,
  failures: { algorithm: CompressionAlgorithm; error: unknown }[],
): Library | null {
  try {
    return load(name) as Library;
  } catch (error) {
    failures.push({ algorithm, error });
    return null;
  }
}
