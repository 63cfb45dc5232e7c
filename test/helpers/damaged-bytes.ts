import fc from 'fast-check';

/**
 * Input a decoder must either decode or refuse with its own error: random bytes, `valid` with one
 * byte flipped, or `valid` cut short.
 */
export function randomOrDamaged(valid: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
      const damaged = Buffer.from(valid);
      const index = at % damaged.length;
      damaged[index] = damaged[index]! ^ flip;
      return damaged;
    }),
    fc.nat().map((cut) => valid.subarray(0, cut % valid.length)),
  );
}
