import type { Argv } from 'yargs';
import { readConfigFile } from '../config/config-file.js';
import { envName, flagName, resolveSettings, unknownFileKeys } from '../config/resolve.js';
import type { Setting, SettingsSpec, SettingsValues } from '../config/setting.js';

/** Options every command has. */
export function withCommonOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('config', {
      type: 'string',
      describe:
        'YAML file of settings (snake_case keys, as the original proxy). Env ZDM_* and flags override it.',
    })
    .option('log-level', {
      type: 'string',
      describe: 'trace, debug, info, warn, error (env ZDM_LOG_LEVEL)',
    });
}

/**
 * `--log-format json|pretty` for every command: passed to createLogger through ZDM_LOG_FORMAT, so
 * each command's logger (and the children it starts) get it without threading a flag through.
 */
export function withLogFormat<T>(yargs: Argv<T>) {
  return yargs
    .option('log-format', {
      choices: ['pretty', 'json'] as const,
      global: true,
      describe:
        'Log lines: pretty (readable) or json; default pretty on a terminal, json when piped [env ZDM_LOG_FORMAT]',
    })
    .middleware((argv) => {
      const format = (argv as { 'log-format'?: string })['log-format'];
      if (format !== undefined) process.env.ZDM_LOG_FORMAT = format;
    });
}

/**
 * Declares one flag per setting of `spec` (`origin_port` → `--origin-port`). Values stay raw strings
 * here: the setting's own parser validates flags, environment and file the same way.
 */
export function withSettingsOptions<T>(yargs: Argv<T>, spec: SettingsSpec, group: string): Argv<T> {
  let out = yargs;
  for (const [key, setting] of Object.entries(spec)) {
    out = out.option(flagName(key), {
      type: setting.type === 'boolean' ? 'boolean' : 'string',
      // Flags stay strings for yargs (64-bit tokens must not pass through a float), so its own
      // "[string]" label would be wrong for integers: the setting's type is shown instead.
      describe: `${setting.doc} [${helpLabel(setting)}; env ${envName(key)}]`,
      group,
    }) as Argv<T>;
  }
  return out;
}

/** `integer, default 16`: the setting's type and default as `--help` shows them. */
export function helpLabel(setting: Setting<unknown>): string {
  const value = setting.default;
  const shown =
    value === undefined || value === '' || (Array.isArray(value) && value.length === 0)
      ? 'none'
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.keys(value).length === 0
          ? 'none'
          : JSON.stringify(value)
        : String(value);
  return `${setting.type}, default ${shown}`;
}

export interface ResolvedSettings<S extends SettingsSpec> {
  readonly values: SettingsValues<S>;
  readonly unknownFileKeys: readonly string[];
}

/** Reads `--config`, the environment and the flags into validated, frozen settings. */
export function resolveFromArgv<S extends SettingsSpec>(
  spec: S,
  argv: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedSettings<S> {
  const configPath = (argv.config as string | undefined) ?? env.ZDM_CONFIG;
  const file = configPath === undefined ? undefined : readConfigFile(configPath);
  const values = resolveSettings(spec, { file, fileName: configPath, env, flags: argv });
  return { values, unknownFileKeys: file === undefined ? [] : unknownFileKeys([spec], file) };
}
