import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * OS-level helpers for node JVMs: liveness, memory and command line from /proc, and termination.
 * Linux only, like the rest of the local-cluster tooling.
 */

/** Whether `pid` names a live process. A zombie (exited, not yet reaped) counts as gone. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM means it exists but belongs to someone else: alive, and not ours to touch.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command name, which may itself hold spaces) is the state.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The argv of `pid`, or undefined if it is gone or unreadable. */
export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((arg) => arg !== '');
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` in MiB (VmRSS), or undefined if it is gone. */
export function readRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) / 1024);
  } catch {
    return undefined;
  }
}

export type TerminationOutcome = 'already-gone' | 'terminated' | 'killed';

/**
 * SIGTERM (Cassandra flushes and closes cleanly), then SIGKILL after `graceMs`; resolves once the pid is
 * gone so a restart on the same ports and data directories cannot race the old process.
 */
export async function terminateProcess(pid: number, graceMs: number): Promise<TerminationOutcome> {
  if (!signal(pid, 'SIGTERM')) return 'already-gone';
  if (await waitForExit(pid, graceMs)) return 'terminated';
  signal(pid, 'SIGKILL');
  // SIGKILL cannot be ignored; the wait only covers the kernel tearing down a 1 GB address space.
  if (!(await waitForExit(pid, 30_000))) throw new Error(`process ${pid} survived SIGKILL for 30 s`);
  return 'killed';
}

/** Sends `sig`; false when the process does not exist. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Reads a pidfile; undefined when missing or garbled. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether something accepts TCP connections on address:port (within `timeoutMs`). */
export function isPortOpen(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: address, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether the socket listening on address:port belongs to `pid` (via /proc/net/tcp and /proc/<pid>/fd).
 * undefined when nothing listens there or ownership cannot be read. Used so that a node's readiness
 * probe is never answered by another process that grabbed the same address.
 */
export function listensOn(pid: number, address: string, port: number): boolean | undefined {
  const inode = listeningInode(address, port);
  if (inode === undefined) return undefined;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true;
      } catch {
        // The fd closed between readdir and readlink.
      }
    }
    return false;
  } catch {
    return undefined;
  }
}

function listeningInode(address: string, port: number): string | undefined {
  // /proc/net/tcp writes an IPv4 address as the hex of its bytes in host (little-endian) order.
  const hexAddress = address
    .split('.')
    .map((octet) => Number(octet).toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();
  const local = `${hexAddress}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // fields: sl, local_address, rem_address, st (0A = LISTEN), ..., inode at index 9.
    if (fields[1] === local && fields[3] === '0A') return fields[9];
  }
  return undefined;
}
