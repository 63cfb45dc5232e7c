import { CodecError } from '../codec-error.js';
import type { Reader } from '../primitives/reader.js';
import type { Value } from '../primitives/value.js';
import type { Writer } from '../primitives/writer.js';
import type { ProtocolVersion } from '../protocol-version.js';

/** <flags> bits of <query_parameters> (spec v4 §4.1.4; 0x80 and 0x100 are v5 only). */
export const QueryFlag = {
  VALUES: 0x01,
  SKIP_METADATA: 0x02,
  PAGE_SIZE: 0x04,
  WITH_PAGING_STATE: 0x08,
  WITH_SERIAL_CONSISTENCY: 0x10,
  WITH_DEFAULT_TIMESTAMP: 0x20,
  WITH_NAMES_FOR_VALUES: 0x40,
  WITH_KEYSPACE: 0x80,
  WITH_NOW_IN_SECONDS: 0x100,
} as const;

/** <query_parameters> of QUERY and EXECUTE; optional parts are null when their flag is absent. */
export interface QueryParameters {
  readonly consistency: number;
  /** Bound values; null when the Values flag is absent (an empty array keeps the flag with n = 0). */
  readonly values: readonly Value[] | null;
  /** Marker names, one per value, when flag 0x40 is set. */
  readonly names: readonly string[] | null;
  readonly skipMetadata: boolean;
  readonly pageSize: number | null;
  readonly pagingState: Buffer | null;
  readonly serialConsistency: number | null;
  /** Microseconds since the epoch. */
  readonly defaultTimestamp: bigint | null;
  /** v5 only. */
  readonly keyspace: string | null;
  /** v5 only. */
  readonly nowInSeconds: number | null;
}

/** Parameters with every optional part absent, plus the given overrides. */
export function queryParameters(
  consistency: number,
  overrides: Partial<QueryParameters> = {},
): QueryParameters {
  return {
    consistency,
    values: null,
    names: null,
    skipMetadata: false,
    pageSize: null,
    pagingState: null,
    serialConsistency: null,
    defaultTimestamp: null,
    keyspace: null,
    nowInSeconds: null,
    ...overrides,
  };
}

/** The flags field is a [byte] up to v4 and an [int] from v5. */
export function readQueryFlags(reader: Reader, version: ProtocolVersion): number {
  return version >= 5 ? reader.readInt('flags') : reader.readByte('flags');
}

export function writeQueryFlags(writer: Writer, flags: number, version: ProtocolVersion): void {
  if (version >= 5) writer.writeInt(flags, 'flags');
  else writer.writeByte(flags, 'flags');
}

export function readQueryParameters(reader: Reader, version: ProtocolVersion): QueryParameters {
  const consistency = reader.readConsistency();
  const flags = readQueryFlags(reader, version);
  let values: Value[] | null = null;
  let names: string[] | null = null;
  if (flags & QueryFlag.VALUES) {
    const n = reader.readShort('value count');
    const named = (flags & QueryFlag.WITH_NAMES_FOR_VALUES) !== 0;
    values = [];
    names = named ? [] : null;
    for (let i = 0; i < n; i++) {
      if (names !== null) names.push(reader.readString('value name'));
      values.push(reader.readValue(version));
    }
  }
  const pageSize = flags & QueryFlag.PAGE_SIZE ? reader.readInt('page size') : null;
  const pagingState = flags & QueryFlag.WITH_PAGING_STATE ? reader.readBytes('paging state') : null;
  const serialConsistency =
    flags & QueryFlag.WITH_SERIAL_CONSISTENCY ? reader.readConsistency('serial consistency') : null;
  const defaultTimestamp =
    flags & QueryFlag.WITH_DEFAULT_TIMESTAMP ? reader.readLong('default timestamp') : null;
  const v5 = version >= 5;
  const keyspace = v5 && flags & QueryFlag.WITH_KEYSPACE ? reader.readString('keyspace') : null;
  const nowInSeconds = v5 && flags & QueryFlag.WITH_NOW_IN_SECONDS ? reader.readInt('now in seconds') : null;
  return {
    consistency,
    values,
    names,
    skipMetadata: (flags & QueryFlag.SKIP_METADATA) !== 0,
    pageSize,
    pagingState,
    serialConsistency,
    defaultTimestamp,
    keyspace,
    nowInSeconds,
  };
}

export function writeQueryParameters(
  writer: Writer,
  params: QueryParameters,
  version: ProtocolVersion,
): void {
  const { values, names } = params;
  if (names !== null && (values === null || names.length !== values.length)) {
    throw new CodecError('names must match values one to one', { field: 'value name' });
  }
  if (version < 5 && (params.keyspace !== null || params.nowInSeconds !== null)) {
    throw new CodecError('keyspace and now_in_seconds need protocol v5', { field: 'flags' });
  }
  let flags = 0;
  if (values !== null) flags |= QueryFlag.VALUES;
  if (names !== null) flags |= QueryFlag.WITH_NAMES_FOR_VALUES;
  if (params.skipMetadata) flags |= QueryFlag.SKIP_METADATA;
  if (params.pageSize !== null) flags |= QueryFlag.PAGE_SIZE;
  if (params.pagingState !== null) flags |= QueryFlag.WITH_PAGING_STATE;
  if (params.serialConsistency !== null) flags |= QueryFlag.WITH_SERIAL_CONSISTENCY;
  if (params.defaultTimestamp !== null) flags |= QueryFlag.WITH_DEFAULT_TIMESTAMP;
  if (params.keyspace !== null) flags |= QueryFlag.WITH_KEYSPACE;
  if (params.nowInSeconds !== null) flags |= QueryFlag.WITH_NOW_IN_SECONDS;

  writer.writeConsistency(params.consistency);
  writeQueryFlags(writer, flags, version);
  if (values !== null) {
    writer.writeShort(values.length, 'value count');
    values.forEach((value, i) => {
      if (names !== null) writer.writeString(names[i]!, 'value name');
      writer.writeValue(value, version);
    });
  }
  if (params.pageSize !== null) writer.writeInt(params.pageSize, 'page size');
  if (params.pagingState !== null) writer.writeBytes(params.pagingState, 'paging state');
  if (params.serialConsistency !== null) writer.writeConsistency(params.serialConsistency);
  if (params.defaultTimestamp !== null) writer.writeLong(params.defaultTimestamp, 'default timestamp');
  if (params.keyspace !== null) writer.writeString(params.keyspace, 'keyspace');
  if (params.nowInSeconds !== null) writer.writeInt(params.nowInSeconds, 'now in seconds');
}
