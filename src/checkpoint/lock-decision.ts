/** Who holds (or last held) a run's lock, as recorded in its holder file. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Milliseconds since the epoch when the holder took the lock. */
  readonly since: number;
}

/** What the machine says about the lock at the moment of taking it. */
export interface LockObservation {
  /** The operating-system lock on the lock file could be taken (no living process of this host holds it). */
  readonly osLockFree: boolean;
  /** The holder file left by the last holder, if any. */
  readonly holder: LockHolder | undefined;
  /** This machine's host name. */
  readonly host: string;
  /** Whether a process of this host with that pid is alive (asked only for holders of this host). */
  readonly pidAlive: (pid: number) => boolean;
}

export type LockDecision =
  /** Nobody held it, or the last holder released it properly. */
  | { readonly kind: 'acquire' }
  /** The last holder on this host died without releasing it (kill -9, crash): safe to take over. */
  | { readonly kind: 'take-over'; readonly from: LockHolder }
  /** A living process holds it. */
  | { readonly kind: 'held'; readonly by: LockHolder | undefined }
  /**
   * Recorded by a process of another host: its liveness cannot be checked from here, and the
   * operating-system lock does not reach across hosts on every shared file system.
   */
  | { readonly kind: 'other-host'; readonly by: LockHolder };

/**
 * Whether a process may take a run's lock. The operating-system lock is the arbiter on this host (the
 * kernel drops it when its process dies, so a takeover cannot race); the holder file names the
 * holder for messages and covers what that lock cannot see: a holder on another host, or a file
 * system whose locks do nothing (then a living pid on this host still refuses).
 */
export function decideLock(seen: LockObservation): LockDecision {
  if (!seen.osLockFree) return { kind: 'held', by: seen.holder };
  const holder = seen.holder;
  if (holder === undefined) return { kind: 'acquire' };
  if (holder.host !== seen.host) return { kind: 'other-host', by: holder };
  if (seen.pidAlive(holder.pid)) return { kind: 'held', by: holder };
  return { kind: 'take-over', from: holder };
}

/**
 * What `zdm status` says of a run whose checkpoint reads `running`: a process of this host still
 * holds it, one of another host may, or its process ended without saving its state (kill -9, crash,
 * power loss) and the next run resumes it.
 */
export function runningStatus(
  holder: LockHolder | undefined,
  host: string,
  pidAlive: (pid: number) => boolean,
): string {
  if (holder === undefined) return 'stopped uncleanly (resumable)';
  if (holder.host !== host) return `running on ${holder.host} (pid ${holder.pid})?`;
  return pidAlive(holder.pid) ? `running (pid ${holder.pid})` : 'stopped uncleanly (resumable)';
}
