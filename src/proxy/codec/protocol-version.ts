/**
 * Protocol versions whose message bodies this codec understands (spec v3, v4, v5). The version is
 * always passed explicitly: it changes the width of QUERY flags, the meaning of negative value
 * lengths, the presence of pk indexes and result metadata ids, and more.
 */
export type ProtocolVersion = 3 | 4 | 5;

export const PROTOCOL_VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];

export function isProtocolVersion(version: number): version is ProtocolVersion {
  return version === 3 || version === 4 || version === 5;
}
