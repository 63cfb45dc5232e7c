import { CodecError } from '../codec-error.js';
import type { Reader } from '../primitives/reader.js';
import type { Writer } from '../primitives/writer.js';

/**
 * <change_type><target><options> shared by the Schema_change result and the SCHEMA_CHANGE event
 * (spec v4 §4.2.6). FUNCTION and AGGREGATE targets exist from v4; they are accepted in v3 too.
 */
export interface SchemaChange {
  /** CREATED, UPDATED or DROPPED. */
  readonly changeType: string;
  readonly target: 'KEYSPACE' | 'TABLE' | 'TYPE' | 'FUNCTION' | 'AGGREGATE';
  readonly keyspace: string;
  /** Table, type, function or aggregate name; null for KEYSPACE. */
  readonly name: string | null;
  /** Argument CQL types for FUNCTION and AGGREGATE; null otherwise. */
  readonly argTypes: readonly string[] | null;
}

export function readSchemaChange(reader: Reader): SchemaChange {
  const changeType = reader.readString('change type');
  const at = reader.offset;
  const target = reader.readString('change target');
  const keyspace = reader.readString('keyspace');
  switch (target) {
    case 'KEYSPACE':
      return { changeType, target, keyspace, name: null, argTypes: null };
    case 'TABLE':
    case 'TYPE':
      return { changeType, target, keyspace, name: reader.readString('name'), argTypes: null };
    case 'FUNCTION':
    case 'AGGREGATE': {
      const name = reader.readString('name');
      return { changeType, target, keyspace, name, argTypes: reader.readStringList('arg types') };
    }
    default:
      throw new CodecError(`unknown schema change target ${JSON.stringify(target)}`, {
        field: 'change target',
        offset: at,
      });
  }
}

export function writeSchemaChange(writer: Writer, change: SchemaChange): void {
  writer.writeString(change.changeType).writeString(change.target).writeString(change.keyspace);
  if (change.target === 'KEYSPACE') return;
  if (change.name === null) throw new CodecError(`${change.target} change needs a name`, { field: 'name' });
  writer.writeString(change.name);
  if (change.target === 'FUNCTION' || change.target === 'AGGREGATE')
    writer.writeStringList(change.argTypes ?? []);
}
