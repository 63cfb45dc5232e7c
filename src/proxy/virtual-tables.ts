import { createHash } from 'node:crypto';
import {
  type CellValue,
  type ColumnSpec,
  type DataType,
  encodeCell,
  formatUuid,
  type ProtocolVersion,
} from './codec/index.js';

/** One proxy instance as drivers see it: a node of the virtual cluster. */
export interface VirtualHost {
  readonly address: string;
  readonly hostId: string;
  readonly tokens: readonly string[];
}

const TWO_64 = 2n ** 64n;
const TWO_63 = 2n ** 63n;

/**
 * Tokens of instance `index` of `count` (REFERENCE §1): floor(2^64 / (numTokens*N)) * (t*N + i) - 2^63
 * for t in 0..numTokens-1, so the instances' tokens interleave evenly over the Murmur3 ring.
 */
export function virtualTokens(index: number, count: number, numTokens: number): bigint[] {
  const step = TWO_64 / BigInt(numTokens * count);
  return Array.from({ length: numTokens }, (_, t) => step * BigInt(t * count + index) - TWO_63);
}

/** A name-based (MD5, version 3) UUID of an address: stable across restarts and instances. */
export function nameUuid(name: string): string {
  const bytes = createHash('md5').update(name).digest();
  bytes[6] = (bytes[6]! & 0x0f) | 0x30;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return formatUuid(bytes);
}

/** One virtual host per address of PROXY_TOPOLOGY_ADDRESSES (or just this proxy's address). */
export function virtualHosts(addresses: readonly string[], numTokens: number): VirtualHost[] {
  return addresses.map((address, i) => ({
    address,
    hostId: nameUuid(address),
    tokens: virtualTokens(i, addresses.length, numTokens).map(String),
  }));
}

/** A column of Origin's own system.local row: its type and serialised value. */
export interface SourceCell {
  readonly type: DataType;
  readonly cell: Buffer | null;
}

export interface VirtualTableInput {
  readonly table: 'local' | 'peers';
  /** Origin's system.local row by column name, in its column order; copied where nothing better exists. */
  readonly source: ReadonlyMap<string, SourceCell>;
  readonly hosts: readonly VirtualHost[];
  /** This instance's position in `hosts`. */
  readonly self: number;
  /** The proxy's CQL port (rpc_port). */
  readonly port: number;
  /** The client's selection; '*' or null means every column. */
  readonly columns: readonly string[] | '*' | null;
  readonly version: ProtocolVersion;
}

export type VirtualTable =
  | { readonly kind: 'rows'; readonly columns: ColumnSpec[]; readonly rows: (Buffer | null)[][] }
  | { readonly kind: 'error'; readonly message: string };

const INET: DataType = { kind: 'inet' };
const UUID: DataType = { kind: 'uuid' };
const TEXT: DataType = { kind: 'varchar' };
const INT: DataType = { kind: 'int' };
const TOKENS: DataType = { kind: 'set', element: TEXT };

/** system.peers columns (Cassandra 3.0 to 5.0), in the order `SELECT *` returns them. */
const PEERS_COLUMNS = [
  'peer',
  'data_center',
  'host_id',
  'preferred_ip',
  'rack',
  'release_version',
  'rpc_address',
  'schema_version',
  'tokens',
];

/** The proxy's own value of a column for a virtual host; undefined means "copy Origin's". */
function ownValue(
  name: string,
  host: VirtualHost,
  port: number,
): { type: DataType; value: CellValue } | undefined {
  switch (name) {
    case 'peer':
    case 'preferred_ip':
    case 'rpc_address':
    case 'broadcast_address':
    case 'listen_address':
      return { type: INET, value: host.address };
    case 'rpc_port':
      return { type: INT, value: port };
    case 'host_id':
      return { type: UUID, value: host.hostId };
    case 'rack':
      return { type: TEXT, value: 'rack0' };
    case 'tokens':
      return { type: TOKENS, value: host.tokens };
    default:
      return undefined;
  }
}

/**
 * The rows the proxy answers for system.local (this instance) and system.peers (the other
 * instances): addresses, port, host id, rack and tokens of the virtual hosts, the other columns
 * (data centre, versions, schema version, partitioner...) copied from Origin's system.local.
 */
export function virtualTable(input: VirtualTableInput): VirtualTable {
  const { table, source, hosts, self, port, version } = input;
  const all = table === 'local' ? [...source.keys()] : PEERS_COLUMNS;
  const names = input.columns === '*' || input.columns === null ? all : input.columns;
  const unknown = names.find((name) => !all.includes(name));
  if (unknown !== undefined)
    return { kind: 'error', message: `Undefined column name ${unknown} in table system.${table}` };
  const rowHosts = table === 'local' ? [hosts[self]!] : hosts.filter((_, i) => i !== self);
  const types = names.map(
    (name) => ownValue(name, hosts[self]!, port)?.type ?? source.get(name)?.type ?? TEXT,
  );
  const columns: ColumnSpec[] = names.map((name, i) => ({
    keyspace: 'system',
    table,
    name,
    type: types[i]!,
  }));
  const rows = rowHosts.map((host) =>
    names.map((name, i) => {
      const own = ownValue(name, host, port);
      if (own !== undefined) return encodeCell(types[i]!, own.value, version);
      return source.get(name)?.cell ?? null;
    }),
  );
  return { kind: 'rows', columns, rows };
}
