import type { ClusterLink } from './cluster-link.js';
import { CLUSTERS, type ClusterLinks } from './cluster-links.js';
import {
  decodeStartup,
  type ErrorBody,
  ErrorCode,
  encodeStartup,
  Opcode,
  type ProtocolVersion,
  type RawFrame,
  simpleError,
} from './codec/index.js';
import { decodeErrorFrame } from './frame-reading.js';
import { handshakePlan } from './handshake-plan.js';
import { clusterStartupOptions } from './protocol-support.js';
import { unavailableError } from './proxy-errors.js';
import type { ClusterName } from './route-request.js';
import { bridgeVersionAfterRefusal } from './version-bridge.js';

/** What the client gets for one handshake message, and where the session goes next. */
export type HandshakeAnswer =
  /** A cluster's own frame (AUTHENTICATE, AUTH_CHALLENGE, AUTH_SUCCESS, or its ERROR). */
  | { readonly kind: 'relay'; readonly frame: RawFrame }
  | { readonly kind: 'error'; readonly error: ErrorBody }
  /** The proxy's own READY (no cluster asked for credentials). */
  | { readonly kind: 'ready' };

export interface HandshakeStep {
  readonly next: 'awaiting_startup' | 'authenticating' | 'ready';
  readonly answer: HandshakeAnswer;
}

/**
 * The client's STARTUP (spec v4 §4.1.1): open a connection to each cluster, send them the
 * client's STARTUP, then follow handshakePlan. On any failure the connections are dropped and
 * the client may try again. `proxyAuth` is set to the proxy's own SASL exchanges, if any.
 */
export async function startupStep(
  links: ClusterLinks,
  startupBody: Buffer,
  forwardClientCredentialsToOrigin: boolean,
): Promise<HandshakeStep & { readonly proxyAuth: Promise<string | null> }> {
  const none = Promise.resolve(null);
  const fail = (error: ErrorBody) => {
    links.dropAll();
    return { next: 'awaiting_startup', answer: { kind: 'error', error }, proxyAuth: none } as const;
  };
  // The proxy decompresses the client's frames itself: its cluster connections go uncompressed.
  links.startupBody = encodeStartup({ options: clusterStartupOptions(decodeStartup(startupBody).options) });
  links.resetVersions();
  const opened = await Promise.allSettled(CLUSTERS.map((c) => links.open(c)));
  const failed = opened.findIndex((o) => o.status === 'rejected');
  if (failed >= 0) {
    const reason = (opened[failed] as PromiseRejectedResult).reason as Error;
    return fail(unavailableError(CLUSTERS[failed]!, reason.message, false));
  }
  let answers: RawFrame[];
  const startup = (link: ClusterLink | null, cluster: ClusterName) => {
    if (link === null) throw new Error(`the ${cluster} connection closed`);
    return link.send(Opcode.STARTUP, 0, links.startupBody!);
  };
  try {
    answers = await Promise.all(CLUSTERS.map((c) => startup(links.get(c), c)));
    // A cluster that refuses the client's version may still speak another the proxy can bridge.
    const accepted = answers.map((a) => a.header.opcode !== Opcode.ERROR);
    for (const [i, cluster] of CLUSTERS.entries()) {
      const bridgeTo = bridgeVersionAfter(links.version, answers[i]!, accepted[1 - i]!);
      if (bridgeTo !== null) answers[i] = await startup(await links.reopenAt(cluster, bridgeTo), cluster);
    }
  } catch (error) {
    return fail(
      simpleError(ErrorCode.SERVER_ERROR, `zdm-proxy: handshake failed: ${(error as Error).message}`),
    );
  }
  const refused = answers.find((a) => a.header.opcode === Opcode.ERROR);
  if (refused !== undefined) {
    // E.g. a version one cluster does not speak: the client sees the cluster's own error and retries.
    links.dropAll();
    return { next: 'awaiting_startup', answer: { kind: 'relay', frame: refused }, proxyAuth: none };
  }
  const [origin, target] = answers as [RawFrame, RawFrame];
  const plan = handshakePlan(
    origin.header.opcode === Opcode.AUTHENTICATE,
    target.header.opcode === Opcode.AUTHENTICATE,
    forwardClientCredentialsToOrigin,
  );
  const proxyAuth = Promise.all(
    plan.proxy.map((c) => {
      const link = links.get(c);
      return link === null ? `zdm-proxy: the ${c} connection closed` : links.authenticate(c, link);
    }),
  ).then((problems) => problems.find((p) => p !== null) ?? null);
  links.authCluster = plan.client;
  if (plan.client === null) return { next: 'ready', answer: { kind: 'ready' }, proxyAuth };
  return {
    next: 'authenticating',
    answer: { kind: 'relay', frame: plan.client === 'origin' ? origin : target },
    proxyAuth,
  };
}

/** The version to bridge a cluster to after its answer to STARTUP, or null (version-bridge.ts). */
function bridgeVersionAfter(
  clientVersion: ProtocolVersion,
  answer: RawFrame,
  otherAccepted: boolean,
): ProtocolVersion | null {
  if (answer.header.opcode !== Opcode.ERROR) return null;
  return bridgeVersionAfterRefusal(clientVersion, decodeErrorFrame(answer, clientVersion), otherAccepted);
}

/** The client's AUTH_RESPONSE (spec v4 §4.1.2), relayed to the cluster it authenticates with. */
export async function authResponseStep(
  links: ClusterLinks,
  frame: RawFrame,
  proxyAuth: Promise<string | null>,
): Promise<HandshakeStep> {
  const cluster = links.authCluster!;
  const link = links.get(cluster);
  if (link === null) {
    const error = unavailableError(cluster, 'connection lost during authentication', false);
    return { next: 'authenticating', answer: { kind: 'error', error } };
  }
  links.clientToken = Buffer.from(frame.body);
  let answer: RawFrame;
  try {
    answer = await link.send(Opcode.AUTH_RESPONSE, frame.header.flags, frame.body);
  } catch (error) {
    const body = unavailableError(cluster, (error as Error).message, false);
    return { next: 'authenticating', answer: { kind: 'error', error: body } };
  }
  // AUTH_CHALLENGE, or the cluster's ERROR: the client answers again or gives up.
  if (answer.header.opcode !== Opcode.AUTH_SUCCESS)
    return { next: 'authenticating', answer: { kind: 'relay', frame: answer } };
  const problem = await proxyAuth;
  if (problem !== null) {
    const error = simpleError(ErrorCode.BAD_CREDENTIALS, problem);
    return { next: 'authenticating', answer: { kind: 'error', error } };
  }
  return { next: 'ready', answer: { kind: 'relay', frame: answer } };
}
