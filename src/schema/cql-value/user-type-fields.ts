import type { CqlType } from '../cql-type.js';
import type { UserTypeSchema } from '../table-schema.js';
import { CqlValueError } from './driver-values.js';

export interface FieldType {
  readonly name: string;
  readonly type: CqlType;
}

/** The fields of a user type, in declaration order (the order of its serialized form). */
export function userTypeFields(
  name: string,
  userTypes: ReadonlyMap<string, UserTypeSchema>,
): readonly FieldType[] {
  const udt = userTypes.get(name);
  if (udt === undefined) {
    throw new CqlValueError(
      `user type ${name} is not among the table's user types (${[...userTypes.keys()].join(', ') || 'none'})`,
    );
  }
  return udt.fields;
}
