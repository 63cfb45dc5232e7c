import type { Logger } from '../log/logger.js';
import type { ProtocolOffer } from './client-session.js';
import { loadCompression, workingCompressions } from './codec/index.js';
import { acceptedVersions } from './protocol-support.js';

/**
 * What this proxy process offers clients: the protocol versions not blocked, and the compressions
 * whose native library loads here and round-trips its probes. A missing or broken library costs
 * that algorithm (logged), never the proxy.
 */
export function protocolOffer(blocked: readonly number[], logger: Logger): ProtocolOffer {
  const loaded = loadCompression();
  for (const failure of loaded.failures) {
    logger.warn(
      { algorithm: failure.algorithm, err: failure.error },
      `${failure.algorithm} compression is unavailable: its library did not load`,
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
