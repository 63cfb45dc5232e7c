/**
 * The pure decisions of `zdm guardrail`: is a measured partition, row or cell over one of the
 * operator's thresholds, or over a limit with which Target will refuse the write?
 */

/** Thresholds the operator chose: things worth knowing before a migration, not errors. */
export interface Thresholds {
  readonly partitionBytes: number;
  readonly partitionRows: number;
  readonly cellBytes: number;
  readonly collectionElements: number;
}

/**
 * Target's limits, by the cassandra.yaml names. Stock Cassandra 5.0: max_value_size 256MiB,
 * native_transport_max_frame_size 16MiB, max_mutation_size unset (= half of commitlog_segment_size
 * 32MiB = 16MiB); the data guardrails (column_value_size_*, collection_size_*, items_per_collection_*)
 * are disabled (undefined here).
 */
export interface TargetLimits {
  readonly maxValueSize: number;
  readonly maxFrameSize: number;
  readonly maxMutationSize: number;
  readonly columnValueSizeFailThreshold: number | undefined;
  readonly collectionSizeFailThreshold: number | undefined;
  readonly itemsPerCollectionFailThreshold: number | undefined;
}

/** Stock Cassandra 5.0 (its Config defaults): what Target refuses unless its cassandra.yaml says otherwise. */
export const STOCK_TARGET_LIMITS: TargetLimits = Object.freeze({
  maxValueSize: 256 * 1024 * 1024,
  maxFrameSize: 16 * 1024 * 1024,
  maxMutationSize: 16 * 1024 * 1024,
  columnValueSizeFailThreshold: undefined,
  collectionSizeFailThreshold: undefined,
  itemsPerCollectionFailThreshold: undefined,
});

export interface GuardrailLimits {
  readonly thresholds: Thresholds;
  readonly target: TargetLimits;
}

/** What a check is about, named after the setting (or Cassandra setting) that sets its limit. */
export type CheckName =
  | 'partition_size'
  | 'partition_rows'
  | 'cell_size'
  | 'collection_elements'
  | 'max_value_size'
  | 'native_transport_max_frame_size'
  | 'max_mutation_size'
  | 'column_value_size_fail_threshold'
  | 'collection_size_fail_threshold'
  | 'items_per_collection_fail_threshold';

/** `refused`: Target will reject the write; `threshold`: over a threshold of this run. */
export type Severity = 'refused' | 'threshold';
export type Unit = 'bytes' | 'rows' | 'elements';

export interface Violation {
  readonly check: CheckName;
  readonly severity: Severity;
  readonly measured: number;
  readonly limit: number;
  readonly unit: Unit;
}

interface Rule {
  readonly check: CheckName;
  readonly severity: Severity;
  readonly unit: Unit;
  /** Undefined: the limit is off. */
  readonly limit: number | undefined;
  readonly measured: number | undefined;
}

/** Each rule whose measured value is strictly above its limit, in the order given. */
function over(rules: readonly Rule[]): Violation[] {
  return rules.flatMap(({ check, severity, unit, limit, measured }) =>
    limit !== undefined && measured !== undefined && measured > limit
      ? [{ check, severity, unit, limit, measured }]
      : [],
  );
}

/** A whole partition: its estimated data size and its number of rows. */
export function partitionViolations(
  measured: { readonly bytes: number; readonly rows: number },
  limits: GuardrailLimits,
): Violation[] {
  const { thresholds } = limits;
  return over([
    {
      check: 'partition_size',
      severity: 'threshold',
      unit: 'bytes',
      limit: thresholds.partitionBytes,
      measured: measured.bytes,
    },
    {
      check: 'partition_rows',
      severity: 'threshold',
      unit: 'rows',
      limit: thresholds.partitionRows,
      measured: measured.rows,
    },
  ]);
}

/**
 * One row as migrate writes it, in one statement (a single-partition mutation): its key and cells
 * together must stay under Target's max_mutation_size, or the write is refused.
 */
export function rowViolations(measured: { readonly bytes: number }, limits: GuardrailLimits): Violation[] {
  return over([
    {
      check: 'max_mutation_size',
      severity: 'refused',
      unit: 'bytes',
      limit: limits.target.maxMutationSize,
      measured: measured.bytes,
    },
  ]);
}

/**
 * One column value. A value travels whole in one request, so it must fit Target's frame and
 * max_value_size; collections are also held to the element-count and collection-size limits.
 */
export function cellViolations(
  measured: { readonly bytes: number; readonly elements: number | undefined },
  limits: GuardrailLimits,
): Violation[] {
  const { thresholds, target } = limits;
  const collection = measured.elements !== undefined;
  return over([
    {
      check: 'cell_size',
      severity: 'threshold',
      unit: 'bytes',
      limit: thresholds.cellBytes,
      measured: measured.bytes,
    },
    {
      check: 'collection_elements',
      severity: 'threshold',
      unit: 'elements',
      limit: thresholds.collectionElements,
      measured: measured.elements,
    },
    {
      check: 'max_value_size',
      severity: 'refused',
      unit: 'bytes',
      limit: target.maxValueSize,
      measured: measured.bytes,
    },
    {
      check: 'native_transport_max_frame_size',
      severity: 'refused',
      unit: 'bytes',
      limit: target.maxFrameSize,
      measured: measured.bytes,
    },
    {
      check: 'column_value_size_fail_threshold',
      severity: 'refused',
      unit: 'bytes',
      limit: target.columnValueSizeFailThreshold,
      measured: measured.bytes,
    },
    {
      check: 'collection_size_fail_threshold',
      severity: 'refused',
      unit: 'bytes',
      limit: target.collectionSizeFailThreshold,
      measured: collection ? measured.bytes : undefined,
    },
    {
      check: 'items_per_collection_fail_threshold',
      severity: 'refused',
      unit: 'elements',
      limit: target.itemsPerCollectionFailThreshold,
      measured: measured.elements,
    },
  ]);
}
