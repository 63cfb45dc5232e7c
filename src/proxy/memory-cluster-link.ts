import { Duplex, PassThrough } from 'node:stream';
import { StreamClusterLink } from './backend-connection.js';
import type { ClusterLink, Connector, LinkHooks, LinkOptions } from './cluster-link.js';
import {
  type ErrorBody,
  encodeError,
  encodeFrame,
  encodeResult,
  encodeSupported,
  Framer,
  Opcode,
  type RawFrame,
  type Result,
} from './codec/index.js';
import type { ClusterName } from './route-request.js';

/** What a scripted node answers to one request: a response message, or null to never answer. */
export type NodeAnswer = { readonly opcode: number; readonly body: Buffer } | null;

/** A scripted cluster node: called for every request frame the link sends. */
export type ScriptedNode = (request: RawFrame) => NodeAnswer | Promise<NodeAnswer>;

/** Answers scripted nodes commonly give (protocol v4). */
export const answers = {
  ready: (): NodeAnswer => ({ opcode: Opcode.READY, body: Buffer.alloc(0) }),
  supported: (): NodeAnswer => ({ opcode: Opcode.SUPPORTED, body: encodeSupported({ options: new Map() }) }),
  result: (result: Result): NodeAnswer => ({ opcode: Opcode.RESULT, body: encodeResult(result, 4) }),
  void: (): NodeAnswer => answers.result({ kind: 'void' }),
  prepared: (id: Buffer): NodeAnswer =>
    answers.result({
      kind: 'prepared',
      id,
      resultMetadataId: null,
      metadata: { pkIndexes: [], columns: [] },
      resultMetadata: { columnCount: 0, columns: [], pagingState: null, newMetadataId: null },
    }),
  error: (error: ErrorBody): NodeAnswer => ({ opcode: Opcode.ERROR, body: encodeError(error, 4) }),
} as const;

/**
 * The in-memory ClusterLink: the real link logic (lanes, deadlines, heartbeats, back-pressure)
 * over an in-memory byte pair whose far end is a scripted node. Tests drive a session's routing,
 * aggregation and prepared-id mapping with it, without sockets or clusters.
 */
export function memoryLink(
  cluster: ClusterName,
  node: ScriptedNode,
  options: LinkOptions,
  hooks: LinkHooks,
): ClusterLink {
  const toNode = new PassThrough();
  const toLink = new PassThrough();
  const framer = new Framer({ supportedVersions: [options.version] });
  toNode.on('data', (chunk: Buffer) => {
    for (const frame of framer.push(chunk).frames) {
      Promise.resolve(node(frame)).then((answer) => {
        if (answer === null || toLink.destroyed) return;
        const { version, streamId } = frame.header;
        toLink.write(
          encodeFrame({ version, isResponse: true, flags: 0, streamId, opcode: answer.opcode }, answer.body),
        );
      }, ignoreError);
    }
  });
  const stream = Duplex.from({ readable: toLink, writable: toNode });
  return new StreamClusterLink(cluster, `memory-${cluster}`, stream, options, hooks);
}

function ignoreError(): void {}

/** A Connector over scripted nodes; a cluster mapped to an Error refuses connections with it. */
export function memoryConnector(
  nodes: (cluster: ClusterName) => ScriptedNode | Error,
  options: Omit<LinkOptions, 'version'>,
): Connector {
  return async (cluster, version, hooks) => {
    const node = nodes(cluster);
    if (node instanceof Error) throw node;
    return memoryLink(cluster, node, { ...options, version }, hooks);
  };
}
