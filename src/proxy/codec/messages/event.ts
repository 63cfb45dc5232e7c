import { CodecError, decoding } from '../codec-error.js';
import { Reader } from '../primitives/reader.js';
import type { Inet } from '../primitives/value.js';
import { Writer } from '../primitives/writer.js';
import { readSchemaChange, type SchemaChange, writeSchemaChange } from './schema-change.js';

/** EVENT bodies (spec v4 §4.2.6); all arrive on stream -1. */
export type Event =
  | { readonly type: 'TOPOLOGY_CHANGE'; readonly change: string; readonly node: Inet }
  | { readonly type: 'STATUS_CHANGE'; readonly change: string; readonly node: Inet }
  | { readonly type: 'SCHEMA_CHANGE'; readonly change: SchemaChange };

export const EventType = {
  TOPOLOGY_CHANGE: 'TOPOLOGY_CHANGE',
  STATUS_CHANGE: 'STATUS_CHANGE',
  SCHEMA_CHANGE: 'SCHEMA_CHANGE',
} as const;

export function decodeEvent(body: Buffer): Event {
  return decoding('EVENT', (): Event => {
    const reader = new Reader(body);
    const type = reader.readString('event type');
    switch (type) {
      case 'TOPOLOGY_CHANGE':
      case 'STATUS_CHANGE': {
        const change = reader.readString('change');
        return { type, change, node: reader.readInet('node') };
      }
      case 'SCHEMA_CHANGE':
        return { type, change: readSchemaChange(reader) };
      default:
        throw new CodecError(`unknown event type ${JSON.stringify(type)}`, {
          field: 'event type',
          offset: 0,
        });
    }
  });
}

export function encodeEvent(event: Event): Buffer {
  const writer = new Writer(64).writeString(event.type, 'event type');
  if (event.type === 'SCHEMA_CHANGE') writeSchemaChange(writer, event.change);
  else writer.writeString(event.change, 'change').writeInet(event.node);
  return writer.toBuffer();
}
