/**
 * The proxy's pure CQL native-protocol codec: primitives → messages → frames. No I/O, no
 * timers, no logging; the protocol version is an argument everywhere.
 */
export { CodecError, type CodecErrorContext } from './codec-error.js';
export * from './compression/index.js';
export {
  closeBody,
  EMPTY_ENVELOPE,
  type Envelope,
  messageOffset,
  type OpenedBody,
  openBody,
} from './frame/envelope.js';
export {
  type BodyCompressor,
  decodeHeader,
  encodeFrame,
  encodeHeader,
  FrameFlag,
  type FrameHeader,
  type FrameHeaderFields,
  HEADER_LENGTH,
  isCompressed,
  MAX_BODY_LENGTH,
  Opcode,
  type OpcodeValue,
  RESPONSE_BIT,
} from './frame/frame-header.js';
export { Framer, type FramerOptions, type FramerResult, type RawFrame } from './frame/framer.js';
export {
  FrameTooLargeError,
  type FramingError,
  NegativeFrameLengthError,
  UnsupportedVersionError,
} from './frame/framing-errors.js';
export {
  type AuthenticateResponse,
  type AuthToken,
  decodeAuthenticate,
  decodeAuthToken,
  encodeAuthenticate,
  encodeAuthToken,
  plainSaslToken,
} from './messages/auth.js';
export {
  type BatchChild,
  BatchChildKind,
  type BatchRequest,
  BatchType,
  decodeBatch,
  encodeBatch,
} from './messages/batch.js';
export {
  cqlType,
  type DataType,
  type NativeTypeName,
  readDataType,
  TypeCode,
  type UdtField,
  writeDataType,
} from './messages/data-type.js';
export * from './messages/error.js';
export * from './messages/error-body.js';
export { decodeEvent, type Event, EventType, encodeEvent } from './messages/event.js';
export { decodeExecute, type ExecuteRequest, encodeExecute } from './messages/execute.js';
export { decodePrepare, encodePrepare, type PrepareRequest } from './messages/prepare.js';
export { decodeQuery, encodeQuery, type QueryRequest } from './messages/query.js';
export {
  QueryFlag,
  type QueryParameters,
  queryParameters,
  readQueryParameters,
  writeQueryParameters,
} from './messages/query-parameters.js';
export { decodeRegister, encodeRegister, type RegisterRequest } from './messages/register.js';
export { decodeRequest, encodeRequest, type Request } from './messages/request.js';
export { decodeResponse, encodeResponse, type Response } from './messages/response.js';
export * from './messages/result.js';
export {
  type ColumnSpec,
  type PreparedMetadata,
  RowsFlag,
  type RowsMetadata,
  readPreparedMetadata,
  readRowsMetadata,
  writePreparedMetadata,
  writeRowsMetadata,
} from './messages/rows-metadata.js';
export { readSchemaChange, type SchemaChange, writeSchemaChange } from './messages/schema-change.js';
export {
  decodeStartup,
  decodeSupported,
  encodeEmpty,
  encodeStartup,
  encodeSupported,
  StartupOption,
  type StartupRequest,
  type SupportedResponse,
} from './messages/startup.js';
export { ByteQueue } from './primitives/byte-queue.js';
export { Consistency, type ConsistencyLevel } from './primitives/consistency.js';
export { formatInetAddress, parseInetAddress } from './primitives/inet-address.js';
export { Reader } from './primitives/reader.js';
export { formatUuid, parseUuid } from './primitives/uuid.js';
export { type Inet, UNSET, type Value } from './primitives/value.js';
export { Writer } from './primitives/writer.js';
export { isProtocolVersion, PROTOCOL_VERSIONS, type ProtocolVersion } from './protocol-version.js';
export { type RequestLayout, scanRequest } from './rewrite/request-layout.js';
export {
  executeResultMetadataId,
  newResultMetadataId,
  withResultMetadataId,
} from './rewrite/result-metadata-id.js';
export {
  type DefaultTimestampOptions,
  preparedIds,
  withDefaultTimestamp,
  withPreparedId,
} from './rewrite/rewrite.js';
export { type ResponseV5ToV4, requestV4ToV5, responseV5ToV4 } from './rewrite/v4-v5-bodies.js';
export {
  type ExecuteAsked,
  requestV5ToV4,
  responseV4ToV5,
  resultMetadataIdOf,
  type V5OnlyFields,
  v5OnlyFields,
} from './rewrite/v5-v4-bodies.js';
export { withConsistency } from './rewrite/with-consistency.js';
export { withQueryText } from './rewrite/with-query-text.js';
export { type BuildRowsOptions, buildRowsResult } from './rows/build-rows-result.js';
export { type CellValue, decodeCell, encodeCell } from './rows/cells.js';
export * from './segment/index.js';
