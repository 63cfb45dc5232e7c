import { OperatorError } from '../errors.js';

/**
 * The environment variable through which a process that started workers tells each of them which
 * run to join. Internal: operators start workers with `--workers N`, or on other machines with the
 * same command and Cassandra state.
 */
export const JOIN_RUN_ENV = 'ZDM_JOIN_RUN';

/** What a started worker is told: the run, its table, and how many workers share it at the start. */
export interface JoinOrder {
  readonly runId: string;
  /** Origin table of the run (`ks.t`): the command's own argument may name a whole keyspace. */
  readonly table: string;
  /** 1-based index among the workers the parent started, for log lines. */
  readonly index: number;
  /** Workers the parent started: the share of the rate limits until live workers are counted. */
  readonly workers: number;
}

/** How this process takes part in a run. */
export type WorkerRole =
  /** Opens or creates the run and works it in this process (the default, `--workers 1`). */
  | { readonly kind: 'alone' }
  /** Opens or creates the run, then starts `workers` processes that work it, and watches them. */
  | { readonly kind: 'parent'; readonly workers: number }
  /** Started by a parent: joins its run by id and works ranges; no bar, no summary. */
  | ({ readonly kind: 'child' } & JoinOrder);

/** The role of this process from `--workers` and the join order its parent may have given it. */
export function workerRole(workers: number, joinOrder: string | undefined): WorkerRole {
  if (joinOrder !== undefined && joinOrder !== '') return { kind: 'child', ...parseJoinOrder(joinOrder) };
  return workers > 1 ? { kind: 'parent', workers } : { kind: 'alone' };
}

export const joinOrderText = (order: JoinOrder): string => JSON.stringify(order);

function parseJoinOrder(text: string): JoinOrder {
  let order: Partial<JoinOrder>;
  try {
    order = JSON.parse(text) as Partial<JoinOrder>;
  } catch {
    order = {};
  }
  const { runId, table, index, workers } = order;
  if (
    typeof runId !== 'string' ||
    typeof table !== 'string' ||
    !Number.isInteger(index) ||
    !Number.isInteger(workers) ||
    (workers as number) < 1
  ) {
    throw new OperatorError(
      'BAD_JOIN_ORDER',
      `${JOIN_RUN_ENV} is set to ${JSON.stringify(text)}, which is not a worker's join order.`,
      `${JOIN_RUN_ENV} is set by zdm for the workers it starts; unset it and use --workers N.`,
    );
  }
  return { runId, table, index: index as number, workers: workers as number };
}
