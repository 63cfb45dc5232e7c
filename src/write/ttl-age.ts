/**
 * The TTL to write for a cell whose remaining TTL was `ttl` seconds at `readAt` (ms since the
 * epoch): what is left of it at `now`. The cluster computes remaining TTLs when it starts the read,
 * so `readAt` is when the read was asked for; a write sent later, retried or not, subtracts the
 * whole time since then. Rounded up: the write still waits in Target's queues, which only ever makes
 * its cells live longer. 0 (no TTL) stays 0; a cell that has expired meanwhile keeps 1 second
 * rather than becoming a cell without TTL.
 */
export function agedTtl(ttl: number, readAt: number, now: number): number {
  if (ttl <= 0) return ttl;
  const age = Math.ceil((now - readAt) / 1000);
  return age > 0 ? Math.max(1, ttl - age) : ttl;
}
