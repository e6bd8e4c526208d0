export { errorHttpStatus, httpStatusForCode, type ErrorCode } from './error-codes.js';
export {
  TenantkitError,
  isTenantkitError,
  toErrorResponse,
  type TenantkitErrorOptions,
  type ErrorResponseBody,
} from './tenantkit-error.js';
export { systemClock, createManualClock, type Clock, type ManualClock } from './clock.js';
export { createId, createSecretToken } from './ids.js';
export { codedErrorFactory, type CodedErrorFactory, type SharedErrorCode } from './coded-error-factory.js';
export { createParseOrThrow, type SafeParseSchema } from './parse-or-throw.js';
export { encodeKeysetCursor, decodeKeysetCursor } from './keyset-cursor.js';
export { createTypedEventBus, type TypedEventBus, type TypedEventBusOptions, type TypedEventListener } from './typed-event-bus.js';
