/** What `zdm migrate --help` and `zdm diff --help` say about workers and the run-wide rate limits. */
export const WORKERS_HELP = [
  "Workers: --workers N starts N processes on this machine that share the run (each works --concurrency ranges at once); this process shows the progress of the whole run and prints its summary. With --state-store cassandra, the same command run on other machines (same table, settings and state keyspace, without --fresh) joins the unfinished run: every worker takes ranges until none is left. A worker that dies (or hangs) loses its ranges' leases; the others take them over after about 1.3 --lease-seconds and resume them from their last saved page.",
  '',
  "--origin-rate-limit and --target-rate-limit are for the whole run: each worker runs at the limit divided by the number of live workers in the run's state (by their heartbeats, counted again every third of a lease), on this machine and on any other that joined.",
].join('\n');
