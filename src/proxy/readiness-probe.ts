import type { Logger } from '../log/logger.js';
import { type BackendEndpoint, openTcpLink } from './backend-connection.js';
import { refusesDriverProtocols } from './cluster-control.js';
import type { ClusterLink } from './cluster-link.js';
import { Opcode } from './codec/index.js';
import { decodeErrorFrame } from './frame-reading.js';

const EMPTY = Buffer.alloc(0);
const ignore = () => undefined;

/**
 * Whether a cluster answers right now, for /health/readiness: every interval, OPTIONS on a
 * connection of the probe's own (reopened to the first node that accepts when lost), expecting
 * SUPPORTED within the interval. The drivers' own view of a node lags its recovery by minutes
 * (their reconnection backoff); this follows it within one or two intervals.
 */
export class ReadinessProbe {
  #up = true;
  #link: ClusterLink | null = null;
  #busy = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly cluster: string,
    private readonly endpoints: () => readonly BackendEndpoint[],
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.#timer = setInterval(() => this.#probe(), intervalMs);
    this.#timer.unref();
    this.#probe();
  }

  get up(): boolean {
    return this.#up;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#link?.close();
    this.#link = null;
  }

  #probe(): void {
    if (this.#busy) return;
    this.#busy = true;
    this.#check()
      .then((up) => this.#set(up))
      .catch(() => this.#set(false))
      .finally(() => {
        this.#busy = false;
      });
  }

  async #check(): Promise<boolean> {
    if (this.#link === null || this.#link.closed) this.#link = await this.#open();
    if (this.#link === null) return false;
    const answer = await this.#link.send(Opcode.OPTIONS, 0, EMPTY);
    if (answer.header.opcode === Opcode.SUPPORTED) return true;
    // A node that speaks only v5 refuses this v4 probe: answering at all, it is up (cluster-control.ts).
    return (
      answer.header.opcode === Opcode.ERROR && refusesDriverProtocols(decodeErrorFrame(answer, 4).message)
    );
  }

  async #open(): Promise<ClusterLink | null> {
    const timeoutMs = Math.max(1000, this.intervalMs);
    for (const endpoint of this.endpoints()) {
      try {
        return await openTcpLink(
          endpoint,
          {
            version: 4,
            maxStreamIds: 4,
            secondaryStreamIds: 0,
            requestTimeoutMs: timeoutMs,
            secondaryTimeoutMs: timeoutMs,
            // The probe is its own heartbeat.
            heartbeatIntervalMs: 3_600_000,
            heartbeatMisses: 1,
            connectTimeoutMs: timeoutMs,
          },
          { onEvent: ignore, onClose: ignore, onDrain: ignore },
        );
      } catch {
        // The next node, if any.
      }
    }
    return null;
  }

  #set(up: boolean): void {
    if (up !== this.#up)
      this.logger.info({ cluster: this.cluster }, `${this.cluster} is ${up ? 'up' : 'down'}`);
    this.#up = up;
    if (!up) {
      this.#link?.close();
      this.#link = null;
    }
  }
}
