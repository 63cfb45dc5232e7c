import { connect } from 'node:net';
import {
  decodeHeader,
  decodeSupported,
  encodeFrame,
  HEADER_LENGTH,
  Opcode,
} from '../../src/proxy/codec/index.js';
import { type ProxyOffer, parseOffer } from './negotiation.js';

/**
 * Asks the proxy what it offers: an OPTIONS frame (spec v4 §4.1.3) at v4, which every version of the
 * proxy accepts, answered by SUPPORTED before any STARTUP.
 */
export function readProxyOffer(host: string, port: number, timeoutMs = 10_000): Promise<ProxyOffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no SUPPORTED from the proxy at ${host}:${port}`)));
    socket.once('error', fail);
    socket.on('connect', () => {
      socket.write(
        encodeFrame(
          { version: 4, isResponse: false, flags: 0, streamId: 0, opcode: Opcode.OPTIONS },
          Buffer.alloc(0),
        ),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < HEADER_LENGTH) return;
      const header = decodeHeader(received);
      if (received.length < HEADER_LENGTH + header.length) return;
      socket.destroy();
      if (header.opcode !== Opcode.SUPPORTED) {
        reject(new Error(`the proxy answered OPTIONS with opcode ${header.opcode}, not SUPPORTED`));
        return;
      }
      resolve(
        parseOffer(decodeSupported(received.subarray(HEADER_LENGTH, HEADER_LENGTH + header.length)).options),
      );
    });
  });
}
