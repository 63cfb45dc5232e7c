import pLimit from 'p-limit';
import type { ClusterConfig } from '../config/cluster-settings.js';
import { consistencyCode } from '../connect/cluster-client.js';
import { OperatorError } from '../errors.js';
import { defaultSplits, requestedSpan, splitRange, type TokenRange } from '../ranges/token-ring.js';
import type { ColumnMapping } from '../schema/compare.js';
import { parseTableName, quoteIdent } from '../schema/identifier.js';
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js';
import { allColumns, selectWithMetadataCql, tokenCql } from '../schema/table-schema.js';
import type { RangeJobSettings } from './job-settings.js';
import { estimatePartitions } from './size-estimate.js';
import type { TablePair, TableRef } from './table-pair.js';
import { WorkerShare } from './worker-share.js';

/** Parses `keyspace.table` arguments, with a clear error for a bad one. */
export function tableRef(text: string, what: string): TableRef {
  const ref = parseTableName(text);
  if (ref === undefined) {
    throw new OperatorError(
      'BAD_TABLE_NAME',
      `${what} "${text}" is not of the form keyspace.table.`,
      'Quote case-sensitive names: \'"MyKs"."MyTable"\'.',
    );
  }
  return ref;
}

export const refText = (ref: TableRef): string => `${ref.keyspace}.${ref.table}`;

export function columnMapping(settings: RangeJobSettings): ColumnMapping {
  return {
    skip: new Set(settings.skip_columns),
    rename: new Map(Object.entries(settings.rename_columns)),
  };
}

/** Origin columns a job reads, each with its Target name. */
export function mappedColumns(schema: TableSchema, mapping: ColumnMapping) {
  return allColumns(schema)
    .filter((c) => !mapping.skip.has(c.name))
    .map((column: ColumnSchema) => ({ column, targetName: mapping.rename.get(column.name) ?? column.name }));
}

/**
 * ` WHERE token(pk) > ? AND token(pk) <= ?` for a range `(start, end]`, plus the operator's --where.
 * CQL has no parentheses or OR in WHERE: the extra condition is appended as is and needs filtering.
 */
export function rangeWhereCql(schema: TableSchema, where: string | undefined): string {
  const token = tokenCql(schema);
  const base = ` WHERE ${token} > ? AND ${token} <= ?`;
  return where === undefined ? base : `${base} AND ${where} ALLOW FILTERING`;
}

/** The Origin read of a range: columns, writetimes and TTLs, restricted to `(start, end]`. */
export function rangeSelectCql(
  schema: TableSchema,
  columns: readonly ColumnSchema[],
  where: string | undefined,
): string {
  return `${selectWithMetadataCql(schema, columns)}${rangeWhereCql(schema, where)}`;
}

export async function planRanges(
  pair: Pick<TablePair, 'origin' | 'originSchema'>,
  settings: RangeJobSettings,
): Promise<{ ranges: TokenRange[]; estimatedPartitions: number }> {
  const span = requestedSpan(settings.token_min, settings.token_max);
  if (span.end <= span.start) {
    throw new OperatorError(
      'BAD_TOKEN_RANGE',
      `token_min ${settings.token_min} is above token_max ${settings.token_max}.`,
    );
  }
  const estimatedPartitions = await estimatePartitions(
    pair.origin,
    pair.originSchema.keyspace,
    pair.originSchema.table,
  );
  const splits = settings.splits ?? defaultSplits(estimatedPartitions, settings.concurrency);
  return { ranges: splitRange(splits, span.start, span.end), estimatedPartitions };
}

/**
 * What every range job needs besides its own worker: limiters, consistency codes, write slots. The
 * rate limits are for the whole run: the limiters hold this worker's share of them (see WorkerShare).
 */
export function jobResources(
  settings: RangeJobSettings,
  origin: ClusterConfig,
  target: ClusterConfig,
  share: WorkerShare = new WorkerShare(),
) {
  return {
    readLimiter: share.limiter(settings.origin_rate_limit),
    writeLimiter: share.limiter(settings.target_rate_limit),
    writeSlots: pLimit(settings.write_concurrency),
    readConsistency: consistencyCode(origin.readConsistency),
    writeConsistency: consistencyCode(target.writeConsistency),
  };
}

export const targetTableCql = (ref: TableRef): string =>
  `${quoteIdent(ref.keyspace)}.${quoteIdent(ref.table)}`;
