import { OperatorError } from '../errors.js';
import type { SettingsSpec, SettingsValues } from './setting.js';

/** Where a value came from, lowest precedence first. Later sources override earlier ones. */
export interface SettingSources {
  /** Parsed YAML config file: flat snake_case keys, as the original proxy's config file. */
  readonly file?: Readonly<Record<string, unknown>>;
  readonly fileName?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Command-line flags by kebab-case name; undefined means "not given". */
  readonly flags?: Readonly<Record<string, unknown>>;
}

export const envName = (key: string): string => `ZDM_${key.toUpperCase()}`;
export const flagName = (key: string): string => key.replaceAll('_', '-');

interface Candidate {
  readonly raw: unknown;
  readonly where: string;
}

function candidateFor(key: string, sources: SettingSources): Candidate | undefined {
  const flag = sources.flags?.[flagName(key)];
  if (flag !== undefined) return { raw: flag, where: `flag --${flagName(key)}` };
  const env = sources.env?.[envName(key)];
  if (env !== undefined) return { raw: env, where: `environment ${envName(key)}` };
  const file = sources.file?.[key];
  if (file !== undefined && file !== null)
    return { raw: file, where: `${sources.fileName ?? 'config file'} key ${key}` };
  return undefined;
}

/**
 * Reads every setting of `spec` from flags, then environment, then file, then defaults; validates all
 * of them at once and reports every bad one in a single error that names the field and its source.
 */
export function resolveSettings<S extends SettingsSpec>(spec: S, sources: SettingSources): SettingsValues<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(spec)) {
    const candidate = candidateFor(key, sources);
    if (candidate === undefined) {
      values[key] = setting.default;
      continue;
    }
    try {
      values[key] = setting.parse(candidate.raw);
    } catch (error) {
      problems.push(`${key} (from ${candidate.where}): ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new OperatorError(
      'CONFIG_INVALID',
      `Invalid configuration:\n  - ${problems.join('\n  - ')}`,
      'Fix the values above (flags override environment, which overrides the config file).',
    );
  }
  return Object.freeze(values) as SettingsValues<S>;
}

/**
 * File keys no spec knows. Not fatal (one file may serve the proxy and the jobs), but the CLI warns
 * about them so a typo does not pass silently.
 */
export function unknownFileKeys(
  specs: readonly SettingsSpec[],
  file: Readonly<Record<string, unknown>>,
): string[] {
  return Object.keys(file).filter((key) => !specs.some((spec) => key in spec));
}

/** The effective configuration as printable pairs, secrets redacted. */
export function describeSettings<S extends SettingsSpec>(
  spec: S,
  values: SettingsValues<S>,
): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(spec)) {
    const value = (values as Record<string, unknown>)[key];
    shown[key] = setting.secret && value !== undefined && value !== '' ? '[redacted]' : printable(value);
  }
  return shown;
}

function printable(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** Markdown table of a spec: the reference documentation is generated from the schema itself. */
export function settingsReference<S extends SettingsSpec>(spec: S): string {
  const rows = Object.entries(spec).map(([key, s]) => {
    const def = s.default === undefined ? '' : JSON.stringify(printable(s.default));
    return `| \`${key}\` | \`${envName(key)}\` | \`--${flagName(key)}\` | ${cell(s.type)} | ${cell(def)} | ${cell(s.doc)} |`;
  });
  return [
    '| file key | environment | flag | type | default | meaning |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
