/**
 * What a client should end up with when it connects to the proxy: the protocol version and the
 * compression, decided from what the proxy advertises in SUPPORTED (spec v4 §4.2.4) and what the
 * client asks for. The test compares this with what each driver reports it negotiated, so the same
 * test holds today (v3/v4, no compression) and once the proxy offers v5 and compression.
 */

/** What the proxy's SUPPORTED advertises. */
export interface ProxyOffer {
  /** Non-beta protocol versions, from PROTOCOL_VERSIONS ("4/v4"; "6/v6-beta" is left out). */
  readonly versions: readonly number[];
  /** COMPRESSION values, lower-cased. */
  readonly compressions: readonly string[];
}

/** How a client is configured. */
export interface ClientProfile {
  /** The highest version the driver speaks (or the one it is pinned to). */
  readonly maxVersion: number;
  /**
   * `none`: never compresses. `auto`: the Python driver's default, the first of lz4, snappy the server
   * offers. `lz4`/`snappy`: asked for explicitly.
   */
  readonly compression: 'none' | 'auto' | 'lz4' | 'snappy';
}

export interface Negotiated {
  readonly protocolVersion: number;
  readonly compression: string;
}

export function parseOffer(options: ReadonlyMap<string, readonly string[]>): ProxyOffer {
  const versions = (options.get('PROTOCOL_VERSIONS') ?? [])
    .map((v) => /^(\d+)\/v\d+$/.exec(v)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
  const compressions = (options.get('COMPRESSION') ?? []).map((c) => c.toLowerCase());
  return { versions, compressions };
}

/** The Python driver's order of preference when it may choose. */
const AUTO_ORDER = ['lz4', 'snappy'];

export function expectedNegotiation(client: ClientProfile, offer: ProxyOffer): Negotiated {
  const usable = offer.versions.filter((v) => v <= client.maxVersion);
  if (usable.length === 0) {
    throw new Error(
      `the proxy offers protocol ${offer.versions.join('/')}; the client speaks up to v${client.maxVersion}`,
    );
  }
  const protocolVersion = Math.max(...usable);
  return { protocolVersion, compression: compressionFor(client.compression, offer, protocolVersion) };
}

function compressionFor(asked: ClientProfile['compression'], offer: ProxyOffer, version: number): string {
  if (asked === 'none') return 'none';
  const wanted = asked === 'auto' ? AUTO_ORDER.find((c) => offer.compressions.includes(c)) : asked;
  if (wanted === undefined || !offer.compressions.includes(wanted)) return 'none';
  // v5 compresses segments, and only with LZ4 (spec v5 §2.2): a driver asked for Snappy goes without.
  if (version >= 5 && wanted !== 'lz4') return 'none';
  return wanted;
}
