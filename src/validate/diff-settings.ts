import type { SettingsValues } from '../config/setting.js';
import { boolean, integer, number, optionalText } from '../config/setting.js';

/** Settings of `zdm diff` besides the shared range-job and cluster settings. */
export const DIFF_SETTINGS = {
  ttl_tolerance: integer({
    default: 5,
    min: 0,
    doc: 'Seconds two remaining TTLs may differ and still count as equal (they are read at slightly different moments).',
  }),
  no_writetime: boolean({ default: false, doc: 'Do not compare writetimes (values and TTLs only).' }),
  no_ttl: boolean({ default: false, doc: 'Do not compare TTLs.' }),
  recheck_delay_ms: integer({
    default: 1000,
    min: 0,
    doc: 'Wait this long, then re-read a differing row from both clusters; only a difference that persists is reported (writes in flight settle).',
  }),
  autocorrect: boolean({
    default: false,
    doc: "Repair missing and mismatched rows on Target with Origin's cells, writetimes and TTLs (not extra rows).",
  }),
  autocorrect_missing: boolean({ default: false, doc: 'Repair rows missing on Target only.' }),
  autocorrect_mismatch: boolean({ default: false, doc: 'Repair mismatched rows only.' }),
  autocorrect_extra: boolean({
    default: false,
    doc: 'Delete rows found only on Target, at the newest writetime seen on them (a newer Target write survives). Never implied by --autocorrect.',
  }),
  sample: number({
    default: 100,
    min: 0.001,
    max: 100,
    doc: 'Percentage of the token ranges to validate, chosen at random (a quick check of a big table).',
  }),
  rerun: optionalText({
    default: undefined,
    doc: 'Checkpoint (.sqlite) of an earlier diff, or its run id with state_store cassandra: validate again only its ranges that had differences or failed.',
  }),
  from_journal: optionalText({
    default: undefined,
    doc: "The proxy's divergence journal (and the files rotated from it, and its worker processes' files beside it): validate, and with --autocorrect repair, exactly the partitions it lists for the table.",
  }),
} as const;

export type DiffSettings = SettingsValues<typeof DIFF_SETTINGS>;

export type DifferenceKind = 'missing' | 'extra' | 'mismatch';

/** Which kinds of difference autocorrect repairs. */
export function repairedKinds(s: DiffSettings): ReadonlySet<DifferenceKind> {
  const kinds = new Set<DifferenceKind>();
  if (s.autocorrect || s.autocorrect_missing) kinds.add('missing');
  if (s.autocorrect || s.autocorrect_mismatch) kinds.add('mismatch');
  if (s.autocorrect_extra) kinds.add('extra');
  return kinds;
}

/** The diff settings that change what a run compares or repairs: a resumed run must have the same. */
export function diffSemanticOptions(s: DiffSettings): Record<string, unknown> {
  return {
    ttlTolerance: s.ttl_tolerance,
    noWritetime: s.no_writetime,
    noTtl: s.no_ttl,
    repair: [...repairedKinds(s)].sort(),
    sample: s.sample,
    rerun: s.rerun,
    fromJournal: s.from_journal,
  };
}
