import type { SettingsValues } from '../config/setting.js';
import { integer, optionalInteger, text } from '../config/setting.js';
import { RANGE_JOB_SETTINGS, type RangeJobSettings } from '../job/job-settings.js';
import { byteSize, MiB, optionalByteSize } from './byte-size.js';
import { type GuardrailLimits, STOCK_TARGET_LIMITS } from './limits.js';

/** Thresholds of `zdm guardrail` and Target's limits, with Cassandra 5.0's stock values as defaults. */
export const GUARDRAIL_SETTINGS = {
  partition_size_threshold: byteSize({
    default: 100 * MiB,
    doc: "Report partitions whose data is larger: estimated from the serialized size of the values read (keys and cells), an estimate of the data, not of the partition's size on disk.",
  }),
  partition_rows_threshold: integer({
    default: 100_000,
    min: 1,
    doc: 'Report partitions with more rows.',
  }),
  cell_size_threshold: byteSize({
    default: 10 * MiB,
    doc: 'Report column values larger than this (serialized size; a collection counts whole).',
  }),
  collection_elements_threshold: integer({
    default: 10_000,
    min: 1,
    doc: 'Report collections (list, set, map) with more elements.',
  }),
  target_max_value_size: byteSize({
    default: STOCK_TARGET_LIMITS.maxValueSize,
    doc: "Target's max_value_size: a larger value is refused (stock: 256MiB).",
  }),
  target_max_frame_size: byteSize({
    default: STOCK_TARGET_LIMITS.maxFrameSize,
    doc: "Target's native_transport_max_frame_size: a value that cannot travel in one request is refused (stock: 16MiB).",
  }),
  target_max_mutation_size: byteSize({
    default: STOCK_TARGET_LIMITS.maxMutationSize,
    doc: "Target's max_mutation_size: a row (the unit migrate writes) whose key and cells exceed it is refused (stock: half of commitlog_segment_size 32MiB = 16MiB).",
  }),
  target_column_value_size_fail_threshold: optionalByteSize({
    default: undefined,
    doc: "Target's guardrail column_value_size_fail_threshold, if set there (stock: disabled).",
  }),
  target_collection_size_fail_threshold: optionalByteSize({
    default: undefined,
    doc: "Target's guardrail collection_size_fail_threshold, if set there (stock: disabled).",
  }),
  target_items_per_collection_fail_threshold: optionalInteger({
    default: undefined,
    min: 1,
    doc: "Target's guardrail items_per_collection_fail_threshold, if set there (stock: disabled; the protocol itself allows 2^31-1 elements).",
  }),
  report_dir: text({
    default: 'checkpoints',
    doc: 'Directory of the JSON Lines report (guardrail-<keyspace.table>-<time>.jsonl).',
  }),
} as const;

export type GuardrailSettings = SettingsValues<typeof GUARDRAIL_SETTINGS>;

/** The range-job settings that apply to a read-only scan of Origin. */
const SCAN_KEYS = [
  'splits',
  'concurrency',
  'origin_rate_limit',
  'token_min',
  'token_max',
  'max_attempts',
  'retry_delay_ms',
  'json',
  'metrics_port',
  'metrics_address',
  'progress_interval_s',
] as const;

/** How `zdm guardrail` walks the ring: the shared range-job settings, minus what only writes need. */
export const GUARDRAIL_RUN_SETTINGS = {
  ...Object.fromEntries(SCAN_KEYS.map((k) => [k, RANGE_JOB_SETTINGS[k]])),
  // Smaller pages than migrate and diff: this scan is meant for tables with big values.
  fetch_size: integer({
    default: 100,
    min: 1,
    max: 100_000,
    doc: 'Rows per page read from Origin. Up to two pages per concurrent range are in memory: lower it for rows of many MB.',
  }),
} as unknown as Pick<typeof RANGE_JOB_SETTINGS, (typeof SCAN_KEYS)[number] | 'fetch_size'>;

export type GuardrailRunSettings = SettingsValues<typeof GUARDRAIL_RUN_SETTINGS>;

/** The full range-job settings the shared session code takes: the scan's own, defaults elsewhere. */
export function asRangeJobSettings(run: GuardrailRunSettings): RangeJobSettings {
  const defaults = Object.fromEntries(Object.entries(RANGE_JOB_SETTINGS).map(([k, s]) => [k, s.default]));
  return { ...defaults, ...run } as RangeJobSettings;
}

export function guardrailLimits(s: GuardrailSettings): GuardrailLimits {
  return {
    thresholds: {
      partitionBytes: s.partition_size_threshold,
      partitionRows: s.partition_rows_threshold,
      cellBytes: s.cell_size_threshold,
      collectionElements: s.collection_elements_threshold,
    },
    target: {
      maxValueSize: s.target_max_value_size,
      maxFrameSize: s.target_max_frame_size,
      maxMutationSize: s.target_max_mutation_size,
      columnValueSizeFailThreshold: s.target_column_value_size_fail_threshold,
      collectionSizeFailThreshold: s.target_collection_size_fail_threshold,
      itemsPerCollectionFailThreshold: s.target_items_per_collection_fail_threshold,
    },
  };
}
