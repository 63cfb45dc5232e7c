import { createRequire } from 'node:module';
import type { BodyCompression, CompressionAlgorithm } from './body-compression.js';
import { Lz4Block, type Lz4Library } from './lz4-block.js';
import { Lz4BodyCompression } from './lz4-body-compression.js';
import { SnappyBodyCompression, type SnappyLibrary } from './snappy-body-compression.js';

/** The compression implementations that could be loaded, and why the others could not. */
export interface LoadedCompression {
  /** Raw LZ4 blocks for v5 segments; null when the LZ4 library is missing. */
  readonly lz4Block: Lz4Block | null;
  /** Frame-body compressions for v3/v4, in preference order. */
  readonly bodies: readonly BodyCompression[];
  readonly failures: readonly { readonly algorithm: CompressionAlgorithm; readonly error: unknown }[];
}

/** Loads a package by name; `require` by default, replaceable to test a missing library. */
export type PackageLoader = (name: string) => unknown;

const requirePackage: PackageLoader = createRequire(import.meta.url);

/**
 * Loads the native compression libraries. They ship prebuilt binaries per platform, so loading
 * can fail on an unusual platform: the proxy then runs without that algorithm instead of not at
 * all. Whether a loaded library really works is decided by workingCompressions.
 */
export function loadCompression(load: PackageLoader = requirePackage): LoadedCompression {
  const failures: { algorithm: CompressionAlgorithm; error: unknown }[] = [];
  const bodies: BodyCompression[] = [];
  let lz4Block: Lz4Block | null = null;
  try {
    lz4Block = new Lz4Block(load('lz4-napi') as Lz4Library);
    bodies.push(new Lz4BodyCompression(lz4Block));
  } catch (error) {
    failures.push({ algorithm: 'lz4', error });
  }
  try {
    bodies.push(new SnappyBodyCompression(load('snappy') as SnappyLibrary));
  } catch (error) {
    failures.push({ algorithm: 'snappy', error });
  }
  return { lz4Block, bodies, failures };
}
