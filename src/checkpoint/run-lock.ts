import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { describeError, OperatorError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { decideLock, type LockHolder } from './lock-decision.js';

/** The holder file beside a lock file: who holds it, for the messages of those who are refused. */
export const holderPathOf = (lockPath: string): string => `${lockPath}.holder.json`;

/** The holder recorded beside a lock file, if any. */
export function readHolder(path: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return {
      pid: parsed.pid,
      host: parsed.host,
      since: Number(parsed.since ?? 0),
    };
  } catch {
    return undefined; // written by tmp + rename, so never half a file; anything else is not ours
  }
}

/** Whether a process of this host with that pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The operating-system lock: SQLite's exclusive locking mode keeps its fcntl lock until the connection closes. */
function takeOsLock(path: string): Database.Database | undefined {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw new OperatorError('RUN_LOCK_FILE', `Cannot open the run lock ${path}: ${describeError(error)}`);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS lock (id INTEGER PRIMARY KEY)');
    db.exec('COMMIT');
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw new OperatorError('RUN_LOCK_FILE', `Cannot lock ${path}: ${describeError(error)}`);
  }
}

const describeHolder = (h: LockHolder): string =>
  `pid ${h.pid} on host ${h.host}${h.since > 0 ? ` since ${new Date(h.since).toISOString()}` : ''}`;

/**
 * An exclusive lock on one run (a job of one table in one checkpoint directory), held for as long as
 * the process works on it. A second process is refused at once, naming the holder; a holder of this
 * host that died without releasing it is taken over (the kernel has already dropped its lock).
 */
export class RunLock {
  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  /** Takes the lock or throws an OperatorError (exit 2) that names the holder and says what to do. */
  static acquire(path: string, what: string, logger: Logger): RunLock {
    const holderPath = holderPathOf(path);
    const db = takeOsLock(path);
    const host = hostname();
    const decision = decideLock({
      osLockFree: db !== undefined,
      holder: readHolder(holderPath),
      host,
      pidAlive: processAlive,
    });
    switch (decision.kind) {
      case 'held':
        db?.close();
        throw new OperatorError(
          'RUN_LOCKED',
          decision.by === undefined
            ? `Another process is running ${what} (it holds ${path}).`
            : `Another process is running ${what}: ${describeHolder(decision.by)}.`,
          decision.by === undefined
            ? 'Wait for it to finish, or stop it, then run this command again: it resumes the run.'
            : `Wait for it to finish, or stop it (kill -INT ${decision.by.pid} on ${decision.by.host}: it saves its state), then run this command again: it resumes the run.`,
        );
      case 'other-host':
        db?.close();
        throw new OperatorError(
          'RUN_LOCKED_OTHER_HOST',
          `${what} is locked by ${describeHolder(decision.by)}; from ${host} it cannot be checked whether that process still runs.`,
          `If no zdm runs it on ${decision.by.host} any more, delete ${holderPath} and run this command again.`,
        );
      case 'take-over':
        logger.warn(
          { lock: path, pid: decision.from.pid, host: decision.from.host },
          `taking over the lock of ${what} from pid ${decision.from.pid}, which died without releasing it`,
        );
        break;
      case 'acquire':
        break;
    }
    // No command line: it may carry passwords.
    const mine: LockHolder = { pid: process.pid, host, since: Date.now() };
    const tmp = `${holderPath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(mine)}\n`);
    renameSync(tmp, holderPath);
    return new RunLock(path, db!);
  }

  /** Removes the holder file (if still ours) and drops the operating-system lock. */
  release(): void {
    const holderPath = holderPathOf(this.path);
    if (readHolder(holderPath)?.pid === process.pid) rmSync(holderPath, { force: true });
    this.db.close();
  }
}
