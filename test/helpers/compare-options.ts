import type { CompareOptions } from '../../src/validate/cell-compare.js';

/** Diff comparison options as `zdm diff` defaults them: every aspect, TTLs within 5 s, no window. */
export function defaultCompareOptions(overrides: Partial<CompareOptions> = {}): CompareOptions {
  return {
    writetime: true,
    ttl: true,
    ttlToleranceS: 5,
    writetimeMin: undefined,
    writetimeMax: undefined,
    userTypes: new Map(),
    ...overrides,
  };
}
