/**
 * A bound [value]: bytes, `null` (length -1) or "not set" (length -2, protocol v4 and later;
 * spec v4 §3), which leaves the existing column value untouched.
 */
export const UNSET: unique symbol = Symbol('cql.unset');

export type Value = Buffer | null | typeof UNSET;

/** An [inet]: an IPv4/IPv6 address and a port. */
export interface Inet {
  readonly address: string;
  readonly port: number;
}
