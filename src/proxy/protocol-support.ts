import {
  type CompressionAlgorithm,
  type ErrorBody,
  isCompressionAlgorithm,
  PROTOCOL_VERSIONS,
  type ProtocolVersion,
  StartupOption,
} from './codec/index.js';
import { protocolError } from './proxy-errors.js';

/**
 * What the proxy offers clients: which protocol versions it accepts, what SUPPORTED advertises,
 * and which compression a STARTUP gets. Pure decisions; the session applies them.
 */

/** DSE's own protocol versions (0x41, 0x42): never spoken here, refused so drivers step down. */
export const DSE_PROTOCOL_VERSIONS = { DseV1: 0x41, DseV2: 0x42 } as const;

/** Names ZDM_BLOCKED_PROTOCOL_VERSIONS accepts, case-insensitively, as in the original proxy. */
const BLOCKABLE: Readonly<Record<string, number>> = {
  '2': 2,
  v2: 2,
  '3': 3,
  v3: 3,
  '4': 4,
  v4: 4,
  '5': 5,
  v5: 5,
  dsev1: DSE_PROTOCOL_VERSIONS.DseV1,
  dse_v1: DSE_PROTOCOL_VERSIONS.DseV1,
  dsev2: DSE_PROTOCOL_VERSIONS.DseV2,
  dse_v2: DSE_PROTOCOL_VERSIONS.DseV2,
};

export const BLOCKABLE_VERSION_NAMES = [
  '2',
  '3',
  '4',
  '5',
  'v2',
  'v3',
  'v4',
  'v5',
  'DseV1',
  'DseV2',
  'Dse_V1',
  'Dse_V2',
];

/** Parses ZDM_BLOCKED_PROTOCOL_VERSIONS entries ("v2", "3", "DseV1"...); blanks are ignored. */
export function parseBlockedVersions(
  entries: readonly string[],
): { readonly versions: readonly number[] } | { readonly invalid: string } {
  const versions: number[] = [];
  for (const entry of entries) {
    const name = entry.trim().toLowerCase();
    if (name === '') continue;
    const version = BLOCKABLE[name];
    if (version === undefined) return { invalid: entry.trim() };
    if (!versions.includes(version)) versions.push(version);
  }
  return { versions };
}

/** Versions a client may speak to the proxy: v3, v4 and v5, less the blocked ones. */
export function acceptedVersions(blocked: readonly number[]): readonly ProtocolVersion[] {
  return PROTOCOL_VERSIONS.filter((v) => !blocked.includes(v));
}

/**
 * The version of the PROTOCOL_ERROR that refuses a client's version: v4 as long as it is accepted
 * (every driver reads it, and the original proxy answers so), else the highest accepted one.
 */
export function refusalVersion(accepted: readonly ProtocolVersion[]): ProtocolVersion {
  return accepted.includes(4) ? 4 : (Math.max(...accepted) as ProtocolVersion);
}

/**
 * The options of the SUPPORTED answer (spec v5 §4.2.4): the CQL versions of Origin, the
 * compressions that work here, and the accepted protocol versions as "N/vN".
 */
export function supportedOptions(
  versions: readonly ProtocolVersion[],
  compressions: readonly CompressionAlgorithm[],
  cqlVersions: readonly string[],
): Map<string, readonly string[]> {
  return new Map([
    [StartupOption.CQL_VERSION, cqlVersions],
    [StartupOption.COMPRESSION, compressions],
    [StartupOption.PROTOCOL_VERSIONS, versions.map((v) => `${v}/v${v}`)],
  ]);
}

/** The compression a STARTUP asks for: none, an algorithm, or a refusal the client is told. */
export type CompressionChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'use'; readonly algorithm: CompressionAlgorithm }
  | { readonly kind: 'refuse'; readonly error: ErrorBody };

/**
 * Decides the STARTUP COMPRESSION option (spec v4 §4.1.1, §5): an algorithm that works here is
 * used; in v5 only LZ4, which then compresses segments, not frame bodies (spec v5 §2.2).
 */
export function chooseCompression(
  asked: string | undefined,
  version: ProtocolVersion,
  working: readonly CompressionAlgorithm[],
): CompressionChoice {
  if (asked === undefined || asked === '' || asked.toLowerCase() === 'none') return { kind: 'none' };
  const name = asked.toLowerCase();
  const offered = working.length === 0 ? 'none' : working.join(', ');
  if (!isCompressionAlgorithm(name) || !working.includes(name)) {
    return {
      kind: 'refuse',
      error: protocolError(
        `zdm-proxy: compression ${asked} is not supported (supported: ${offered}); connect with one of those or without compression`,
      ),
    };
  }
  if (version >= 5 && name !== 'lz4') {
    return {
      kind: 'refuse',
      error: protocolError(
        `zdm-proxy: protocol v5 compresses with lz4 only, not ${asked}; use lz4, no compression, or protocol v4`,
      ),
    };
  }
  return { kind: 'use', algorithm: name };
}

/**
 * The STARTUP options sent to the clusters: the client's, less COMPRESSION. The proxy keeps its
 * cluster connections uncompressed (it decompresses and compresses on the client side only).
 */
export function clusterStartupOptions(options: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map(options);
  out.delete(StartupOption.COMPRESSION);
  return out;
}
