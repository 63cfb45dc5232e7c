import type { RangeRecord, WorkerRecord } from './run-state.js';

/**
 * How a lease is timed, all derived from its length so one setting (`lease_seconds`) moves them
 * together:
 *
 * - the holder renews every third of the lease;
 * - the holder writes only before its local deadline: the moment it SENT its last successful claim
 *   or renewal, plus the lease, minus `marginMs` (measured from the sending, so a slow answer only
 *   shortens the lease);
 * - another worker may claim the range only once `leaseUntil + graceMs` has passed by its own clock.
 *
 * So a holder stops writing at least `marginMs + graceMs` (half a lease) before anyone else may start
 * on its range, whatever pauses it suffered (GC, SIGSTOP, a stalled machine): on waking, its deadline
 * is past and it stops before writing.
 *
 * What this cannot fence, said plainly: (1) clocks of different machines that disagree by more than
 * that half lease; (2) a write the holder handed to the driver before its deadline and that reaches
 * Cassandra after the new owner started, e.g. a process frozen between its lease check and the
 * socket write, or a write retried by the driver. Counter workers check the lease before each single
 * row's update, so (2) is at most one row's writes held in the process's own buffers at the moment it
 * froze. Cassandra offers no condition on a write to another table (or on a counter) that could close
 * this window entirely.
 */
export interface LeaseTiming {
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  readonly marginMs: number;
  readonly graceMs: number;
  /** How often an idle worker looks again for ranges whose foreign lease may have expired. */
  readonly pollMs: number;
}

export function leaseTiming(leaseSeconds: number): LeaseTiming {
  const leaseMs = Math.round(leaseSeconds * 1000);
  return {
    leaseMs,
    renewEveryMs: Math.max(1, Math.floor(leaseMs / 3)),
    marginMs: Math.floor(leaseMs / 6),
    graceMs: Math.floor(leaseMs / 3),
    pollMs: Math.max(50, Math.min(1000, Math.floor(leaseMs / 6))),
  };
}

/** Default lease length. */
export const DEFAULT_LEASE_SECONDS = 30;

/** The local deadline of a lease claimed or renewed by a request sent at `sentAt`. */
export const leaseDeadline = (sentAt: number, timing: LeaseTiming): number =>
  sentAt + timing.leaseMs - timing.marginMs;

/** Whether a holder may still write: its lease was not reported lost and its deadline is ahead. */
export const leaseValid = (deadline: number, lost: boolean, now: number): boolean => !lost && now < deadline;

/**
 * Whether a range may be claimed now: pending, or running with no owner (a run of an older
 * version), or running under a lease that expired more than the grace period ago.
 */
export function claimable(
  range: Pick<RangeRecord, 'status' | 'owner' | 'leaseUntil'>,
  now: number,
  graceMs: number,
): boolean {
  if (range.status === 'pending') return true;
  if (range.status !== 'running') return false;
  if (range.owner === undefined || range.leaseUntil === undefined) return true;
  return range.leaseUntil + graceMs < now;
}

/**
 * Whether a worker with nothing to claim must wait for this range: another worker (or an abandoned
 * lease of its own, `held` not naming it) may still finish it, or give it up when its lease expires.
 */
export function awaitsLease(
  range: Pick<RangeRecord, 'id' | 'status' | 'owner' | 'leaseUntil'>,
  held: ReadonlySet<number>,
  now: number,
  graceMs: number,
): boolean {
  return range.status === 'running' && !held.has(range.id) && !claimable(range, now, graceMs);
}

/**
 * Whether the owner of a running range is known to be dead, so that its range can be released at
 * once instead of after its lease: only a worker of this host whose process is gone qualifies (a
 * worker of another host may be alive; one never registered belongs to an older version's run).
 */
export function ownerDead(
  owner: string | undefined,
  workers: ReadonlyMap<string, Pick<WorkerRecord, 'host' | 'pid'>>,
  host: string,
  pidAlive: (pid: number) => boolean,
): boolean {
  if (owner === undefined) return true;
  const worker = workers.get(owner);
  if (worker === undefined) return false;
  return worker.host === host && !pidAlive(worker.pid);
}
