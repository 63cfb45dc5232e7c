/**
 * One configuration setting: its type, default and documentation. A table of these is the single
 * schema from which file keys (snake_case, as in the original proxy's YAML), environment names
 * (`ZDM_<KEY>`), command-line flags (`--kebab-case`) and the reference documentation all derive.
 */
export interface Setting<T> {
  readonly type: string;
  readonly doc: string;
  readonly default: T;
  /** Secrets are shown as `[redacted]` wherever the effective configuration is printed or logged. */
  readonly secret: boolean;
  /** Turns a raw value (a YAML scalar, an environment string or a flag) into T, or throws a message. */
  parse(raw: unknown): T;
}

export type SettingsSpec = Readonly<Record<string, Setting<unknown>>>;
export type SettingsValues<S extends SettingsSpec> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

interface Common<T> {
  readonly doc: string;
  readonly default: T;
  readonly secret?: boolean;
}

function setting<T>(type: string, common: Common<T>, parse: (raw: unknown) => T): Setting<T> {
  return { type, doc: common.doc, default: common.default, secret: common.secret ?? false, parse };
}

function asText(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  throw new Error(`expected a scalar value, got ${JSON.stringify(raw)}`);
}

export function text(common: Common<string>): Setting<string> {
  return setting('string', common, asText);
}

export function optionalText(common: Common<string | undefined>): Setting<string | undefined> {
  return setting('string', common, (raw) => {
    const value = asText(raw);
    return value === '' ? undefined : value;
  });
}

export function integer(common: Common<number> & { min?: number; max?: number }): Setting<number> {
  const min = common.min ?? Number.MIN_SAFE_INTEGER;
  const max = common.max ?? Number.MAX_SAFE_INTEGER;
  return setting('integer', common, (raw) => {
    const value = typeof raw === 'number' ? raw : Number(asText(raw));
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  });
}

export function optionalInteger(
  common: Common<number | undefined> & { min?: number; max?: number },
): Setting<number | undefined> {
  const inner = integer({ ...common, default: 0 });
  return setting('integer', common, (raw) => (asText(raw) === '' ? undefined : inner.parse(raw)));
}

/** A 64-bit signed integer such as a Murmur3 token or a writetime in microseconds. */
export function optionalBigint(common: Common<bigint | undefined>): Setting<bigint | undefined> {
  return setting('integer (64-bit)', common, (raw) => {
    const value = asText(raw);
    if (value === '') return undefined;
    if (!/^-?\d+$/.test(value)) throw new Error(`expected a whole number, got ${JSON.stringify(raw)}`);
    const parsed = BigInt(value);
    if (parsed < -(2n ** 63n) || parsed >= 2n ** 63n) throw new Error(`${value} is outside the 64-bit range`);
    return parsed;
  });
}

export function number(common: Common<number> & { min?: number; max?: number }): Setting<number> {
  const min = common.min ?? -Infinity;
  const max = common.max ?? Infinity;
  return setting('number', common, (raw) => {
    const value = typeof raw === 'number' ? raw : Number(asText(raw));
    if (Number.isNaN(value) || value < min || value > max) {
      throw new Error(`expected a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  });
}

export function boolean(common: Common<boolean>): Setting<boolean> {
  return setting('boolean', common, (raw) => {
    if (typeof raw === 'boolean') return raw;
    const value = asText(raw).toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(value)) return true;
    if (['false', 'no', '0', 'off'].includes(value)) return false;
    throw new Error(`expected true or false, got ${JSON.stringify(raw)}`);
  });
}

export function oneOf<const V extends string>(values: readonly V[], common: Common<V>): Setting<V> {
  return setting(values.join(' | '), common, (raw) => {
    const value = asText(raw).toUpperCase();
    const found = values.find((v) => v.toUpperCase() === value);
    if (found === undefined)
      throw new Error(`expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return found;
  });
}

/** One of `values`, or unset (an empty value) for a feature that is off unless chosen. */
export function optionalOneOf<const V extends string>(
  values: readonly V[],
  common: Common<V | undefined>,
): Setting<V | undefined> {
  const inner = oneOf(values, { ...common, default: values[0]! });
  return setting(inner.type, common, (raw) => (asText(raw) === '' ? undefined : inner.parse(raw)));
}

/** A comma-separated list in the environment or a flag; a YAML sequence or comma string in a file. */
export function list(common: Common<readonly string[]>): Setting<readonly string[]> {
  return setting('list', common, (raw) => {
    const items = Array.isArray(raw) ? raw.map(asText) : asText(raw).split(',');
    return Object.freeze(items.map((s) => s.trim()).filter((s) => s !== ''));
  });
}

/** `name:other` pairs, comma-separated (e.g. column renames). */
export function pairs(
  common: Common<Readonly<Record<string, string>>>,
): Setting<Readonly<Record<string, string>>> {
  return setting('map', common, (raw) => {
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      return Object.freeze(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, asText(v)])));
    }
    const entries = (Array.isArray(raw) ? raw.map(asText) : asText(raw).split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((pair) => {
        const at = pair.indexOf(':');
        if (at <= 0 || at === pair.length - 1) throw new Error(`expected name:other pairs, got "${pair}"`);
        return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] as const;
      });
    return Object.freeze(Object.fromEntries(entries));
  });
}
