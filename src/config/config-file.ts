import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describeError, OperatorError } from '../errors.js';

/**
 * Reads a YAML configuration file of flat snake_case keys (the original proxy's format, e.g.
 * `origin_contact_points: 10.0.0.1,10.0.0.2`). A missing or malformed file is an operator error.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OperatorError(
      'CONFIG_FILE_UNREADABLE',
      `Cannot read config file ${path}: ${describeError(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new OperatorError(
      'CONFIG_FILE_INVALID',
      `Config file ${path} is not valid YAML: ${describeError(error)}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OperatorError(
      'CONFIG_FILE_INVALID',
      `Config file ${path} must be a mapping of setting names to values (e.g. origin_port: 9042).`,
    );
  }
  // Keys are case-insensitive, as the original accepts ORIGIN_PORT and origin_port alike.
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k.toLowerCase(), v]));
}
