import { optionsJson, type RunIdentity } from '../checkpoint/resume-decision.js';
import type { RunCatalog } from '../checkpoint/run-catalog.js';
import type { RunRecord } from '../checkpoint/run-state.js';
import { OperatorError } from '../errors.js';
import { type OpenedRun, openOrCreateRun } from './job-run.js';
import type { WorkerRole } from './worker-role.js';

/** What differs between the run a worker was told to join and the job it was started for; empty when none. */
export function joinMismatch(
  run: Pick<RunRecord, 'job' | 'originTable' | 'targetTable' | 'options'>,
  identity: RunIdentity,
): string[] {
  const problems: string[] = [];
  if (run.job !== identity.job) problems.push(`it is a ${run.job} run, not a ${identity.job}`);
  if (run.originTable !== identity.originTable || run.targetTable !== identity.targetTable)
    problems.push(
      `it copies ${run.originTable} → ${run.targetTable}, not ${identity.originTable} → ${identity.targetTable}`,
    );
  if (run.options !== optionsJson(identity.options)) problems.push('it was started with other options');
  return problems;
}

/**
 * The run a job works on: for a worker started by a parent, the parent's run opened by its id
 * (without the lock the parent holds, and checked to be the run of this job); otherwise the run
 * openOrCreateRun finds or creates.
 */
export async function openOrJoinRun(
  role: WorkerRole,
  options: Parameters<typeof openOrCreateRun>[0] & { readonly catalog: RunCatalog },
): Promise<OpenedRun> {
  if (role.kind !== 'child') return openOrCreateRun(options);
  const store = await options.catalog.open(role.runId);
  const problems = joinMismatch(await store.run(), options.identity);
  if (problems.length > 0) {
    await store.close();
    throw new OperatorError(
      'JOIN_OTHER_RUN',
      `Worker ${role.index} was told to join run ${role.runId}, but ${problems.join('; ')}.`,
      'Workers are started by `--workers N` with the same command; start the command again.',
    );
  }
  return { store, resumed: true, alreadyCompleted: false };
}
