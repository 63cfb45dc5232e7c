import type { Duplex } from 'node:stream';
import type { RawFrame } from './codec/index.js';

const NONE: RawFrame[] = [];

/**
 * Back-pressure toward one client: frames are handled only while `canTake()` holds (the session
 * is below its in-flight bound, its client reads its answers, its cluster connections are not
 * backed up). Otherwise the frames already cut stay here (at most one socket read's worth) and
 * the socket is paused, so the kernel's buffers and then TCP flow control hold the client back;
 * `pump()` after any change that may reopen the gate resumes it.
 */
export class InputGate {
  #frames: RawFrame[] = NONE;
  #next = 0;
  #paused = false;

  constructor(
    private readonly stream: Duplex,
    private readonly canTake: () => boolean,
    private readonly handle: (frame: RawFrame) => void,
  ) {}

  /** Frames waiting for the gate to open. */
  get waiting(): number {
    return this.#frames.length - this.#next;
  }

  push(frames: RawFrame[]): void {
    if (frames.length === 0) return;
    if (this.#next === this.#frames.length) {
      this.#frames = frames;
      this.#next = 0;
    } else {
      for (const frame of frames) this.#frames.push(frame);
    }
    this.pump();
  }

  pump(): void {
    while (this.#next < this.#frames.length) {
      if (!this.canTake()) {
        this.#pause();
        return;
      }
      this.handle(this.#frames[this.#next++]!);
    }
    this.#frames = NONE;
    this.#next = 0;
    if (this.#paused && this.canTake()) {
      this.#paused = false;
      this.stream.resume();
    } else if (!this.#paused && !this.canTake()) {
      this.#pause();
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.stream.pause();
  }
}
