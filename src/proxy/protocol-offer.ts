import type { Logger } from '../log/logger.js';
import type { ProtocolOffer } from './client-session.js';
import { loadCompression, workingCompressions } from './codec/index.js';
import { acceptedVersions } from './protocol-support.js';

/**
 * What this proxy process offers clients: the protocol versions not blocked, and the compressions
 * that round-trip their probes. A native library that does not load leaves its algorithm to the
 * TypeScript codec (logged); one that loads but fails the probes costs that algorithm (logged),
 * never the proxy.
 */
export function protocolOffer(blocked: readonly number[], logger: Logger): ProtocolOffer {
  const loaded = loadCompression();
  for (const failure of loaded.failures) {
    logger.warn(
      { algorithm: failure.algorithm, err: failure.error },
      `${failure.algorithm}: its native library did not load; the TypeScript codec is used at every size (slower on bodies of several KiB)`,
    );
  }
  const check = workingCompressions(loaded.bodies);
  for (const broken of check.broken) {
    logger.warn(broken, `${broken.algorithm} compression is disabled: ${broken.reason}`);
  }
  const compressions = loaded.bodies.filter((c) => check.working.includes(c.algorithm));
  const versions = acceptedVersions(blocked);
  logger.info(
    { protocolVersions: versions, compressions: check.working },
    'protocol versions and compressions offered to clients',
  );
  return { versions, compressions, lz4Block: check.working.includes('lz4') ? loaded.lz4Block : null };
}
