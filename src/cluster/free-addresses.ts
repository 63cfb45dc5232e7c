import { isPortOpen } from './node-process.js';

/**
 * Picks a loopback /24 (`127.0.N`) in which none of `lastOctets` has anything listening on `ports`,
 * starting with `preferred`. Several people (or test runs) on one machine each get their own addresses
 * instead of a port-in-use failure, or worse, a probe answered by someone else's node.
 */
export async function findFreeLoopbackPrefix(
  lastOctets: readonly number[],
  ports: readonly number[],
  preferred = '127.0.0',
): Promise<string> {
  const candidates = [preferred, ...Array.from({ length: 254 }, (_, i) => `127.0.${i + 1}`)];
  for (const prefix of candidates) {
    const probes = lastOctets.flatMap((octet) =>
      ports.map((port) => isPortOpen(`${prefix}.${octet}`, port, 300)),
    );
    if (!(await Promise.all(probes)).some(Boolean)) return prefix;
  }
  throw new Error(`no loopback /24 has ${lastOctets.join(',')} free on ports ${ports.join(',')}`);
}

/** The first three octets of an IPv4 address. */
export function addressPrefix(address: string): string {
  return address.split('.').slice(0, 3).join('.');
}
