import { Opcode } from './codec/index.js';
import type { ClusterName, Route } from './route-request.js';
import { type Statement, wantsDefaultTimestamp } from './statement.js';

/** A route that sends the request to clusters (not answered by the proxy itself). */
export type ForwardRoute = Extract<Route, { kind: 'forward' }>;

/** How an EXECUTE (or a QUERY) travels: its synchronous destination and its secondary copy. */
export type ForwardPlan =
  | {
      readonly kind: 'send';
      readonly to: ClusterName | 'both';
      /** A copy whose answer nobody waits for (DUAL_ASYNC_ON_SECONDARY), or null. */
      readonly secondary: ClusterName | null;
      readonly read: boolean;
      /** The body sent to Target needs Target's prepared id in place of Origin's. */
      readonly targetId: boolean;
    }
  /** The statement was never prepared on Target, and the request needs Target: the driver re-prepares. */
  | { readonly kind: 'unprepared' };

/**
 * Where a request goes, given its route and, for an EXECUTE, whether the proxy knows Target's id
 * for the statement (`targetId`: true/false; undefined for a QUERY). A read prepared while
 * Target was away still runs on Origin: only its secondary copy to Target is left out.
 */
export function forwardPlan(route: ForwardRoute, targetId?: boolean): ForwardPlan {
  const known = targetId !== false;
  const needsTarget = route.to !== 'origin';
  if (needsTarget && !known) return { kind: 'unprepared' };
  const secondary = route.asyncTo === 'target' && !known ? null : route.asyncTo;
  return {
    kind: 'send',
    to: route.to,
    secondary,
    read: route.read,
    targetId: targetId === true && (needsTarget || secondary === 'target'),
  };
}

/**
 * Whether a request sent to both clusters gets one default timestamp from the proxy (the same
 * writetime on both). Counter updates and conditional (LWT) statements do not: Cassandra rejects
 * or ignores client timestamps on them; `statementWantsIt` says so for the statement.
 */
export function stampsTimestamp(
  to: ClusterName | 'both',
  statement: Statement | null,
  replaceDefaultTimestamp: boolean,
): boolean {
  return to === 'both' && replaceDefaultTimestamp && statement !== null && wantsDefaultTimestamp(statement);
}

/** A BATCH gets the shared timestamp only when it is not a COUNTER batch and every child wants one. */
export function batchWantsTimestamp(counterBatch: boolean, children: readonly Statement[]): boolean {
  return !counterBatch && children.every(wantsDefaultTimestamp);
}

/**
 * The consistency the Target copy of a request sent to both clusters gets (ZDM_TARGET_CONSISTENCY_LEVEL,
 * `level`; null: unset): writes only, i.e. a BATCH, or a QUERY or EXECUTE whose statement is an
 * INSERT, UPDATE, DELETE or BATCH. DDL, USE and anything else keep the client's consistency, and
 * so does every write when the setting is unset (null is returned).
 */
export function targetConsistencyOf(
  opcode: number,
  statement: Statement | null,
  level: number | null,
): number | null {
  if (level === null) return null;
  if (opcode === Opcode.BATCH) return level;
  const write = (opcode === Opcode.QUERY || opcode === Opcode.EXECUTE) && statement?.kind === 'write';
  return write ? level : null;
}
