import type { RunRecord } from './run-state.js';

export interface RunIdentity {
  readonly job: 'migrate' | 'diff';
  readonly originTable: string;
  readonly targetTable: string;
  /** Options that decide what the run covers; a resumed run must have the same. */
  readonly options: Readonly<Record<string, unknown>>;
}

export type ResumeDecision =
  /** No run to continue (none yet, or --fresh): make a new one. */
  | { readonly kind: 'create' }
  /** The latest run completed: nothing to do without --fresh. */
  | { readonly kind: 'completed' }
  /** The latest run is unfinished and has the same options: continue it. */
  | { readonly kind: 'resume' }
  /** The latest run is unfinished but covers something else: refuse rather than mix the two. */
  | { readonly kind: 'options-differ'; readonly changes: string };

export const optionsJson = (options: Readonly<Record<string, unknown>>): string =>
  JSON.stringify(options, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

/** `key: before → after` for every option that differs between two option JSONs. */
export function describeOptionChanges(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k])} → ${JSON.stringify(b[k])}`)
    .join(', ');
}

/**
 * What a job does with the latest run of its job, Origin and Target table (any store): resume it
 * unless it completed or `fresh` is set; refuse one made with different options.
 */
export function decideResume(
  latest: Pick<RunRecord, 'status' | 'options'> | undefined,
  identity: RunIdentity,
  fresh: boolean,
): ResumeDecision {
  if (fresh || latest === undefined) return { kind: 'create' };
  if (latest.status === 'completed') return { kind: 'completed' };
  const wanted = optionsJson(identity.options);
  if (latest.options !== wanted)
    return { kind: 'options-differ', changes: describeOptionChanges(latest.options, wanted) };
  return { kind: 'resume' };
}
