import { integer } from '../config/setting.js';

/** Settings of `zdm migrate` and `zdm diff` that spread one run over several processes. */
export const WORKER_SETTINGS = {
  workers: integer({
    default: 1,
    min: 1,
    max: 256,
    doc: "Worker processes on this machine sharing the run (each with --concurrency ranges at once). 1: the run works in this process, as always. N > 1: this process opens or creates the run, starts N workers that take ranges from its state until none is left, shows the progress of the whole run and prints its summary. A worker that dies does not stop the run: its ranges go to the others when its leases expire (lease_seconds). Rate limits stay for the whole run: each worker takes an equal share of them, by the number of live workers in the run's state.",
  }),
} as const;
