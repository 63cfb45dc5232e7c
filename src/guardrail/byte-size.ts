import type { Setting } from '../config/setting.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const UNITS: Readonly<Record<string, number>> = { b: 1, kib: KiB, mib: MiB, gib: GiB };

/**
 * A byte count as Cassandra's settings write it: a whole number of bytes, or a number with a binary
 * unit (`512KiB`, `16MiB`, `1.5GiB`, case-insensitive). Decimal units (`MB`) are refused rather than
 * guessed: Cassandra's own `16MiB` means 16 × 2^20.
 */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[(match?.[2] || 'b').toLowerCase()];
  if (match === null || unit === undefined) {
    throw new Error(`expected bytes or a size such as 512KiB, 16MiB, 1GiB; got ${JSON.stringify(text)}`);
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new Error(`${text} is too large`);
  return bytes;
}

/** `16 MiB`, `1.5 KiB`, `312 B`: a byte count for people. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}

const asText = (raw: unknown): string => {
  if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
  throw new Error(`expected a size such as 16MiB, got ${JSON.stringify(raw)}`);
};

/** How `--help` and the reference name a size setting's type. */
const SIZE_TYPE = 'size (bytes, or with KiB/MiB/GiB)';

/** A size setting (bytes); `optional` ones may be left unset (empty). */
export function byteSize(common: { readonly doc: string; readonly default: number }): Setting<number> {
  return {
    type: SIZE_TYPE,
    doc: common.doc,
    default: common.default,
    secret: false,
    parse: (raw) => parseByteSize(asText(raw)),
  };
}

export function optionalByteSize(common: {
  readonly doc: string;
  readonly default: number | undefined;
}): Setting<number | undefined> {
  return {
    type: SIZE_TYPE,
    doc: `${common.doc} Unset: no limit.`,
    default: common.default,
    secret: false,
    parse: (raw) => (asText(raw).trim() === '' ? undefined : parseByteSize(asText(raw))),
  };
}
