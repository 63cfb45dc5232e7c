import type { Setting } from '../../config/setting.js';

/** `auto` (one worker per CPU the process may use) or a fixed number of worker processes. */
export type WorkerCount = 'auto' | number;

/** Beyond this a value is a typo, not a machine: each worker holds its own cluster connections. */
export const MAX_WORKERS = 256;

/**
 * The `proxy_workers` setting: `auto` or a whole number from 1 to MAX_WORKERS. Its own kind
 * because neither a plain integer nor a text setting can say both.
 */
export function workerCountSetting(doc: string): Setting<WorkerCount> {
  return {
    type: `auto | integer (1-${MAX_WORKERS})`,
    doc,
    default: 'auto',
    secret: false,
    parse: parseWorkerCount,
  };
}

export function parseWorkerCount(raw: unknown): WorkerCount {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
  if (text?.toLowerCase() === 'auto') return 'auto';
  const value = text === undefined || text === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_WORKERS)
    throw new Error(`expected auto or a whole number from 1 to ${MAX_WORKERS}, got ${JSON.stringify(raw)}`);
  return value;
}

/** How many worker processes run: `auto` is the CPUs available (at least 1). */
export function resolveWorkerCount(setting: WorkerCount, availableCpus: number): number {
  if (setting !== 'auto') return setting;
  return Math.min(MAX_WORKERS, Math.max(1, Math.floor(availableCpus)));
}
