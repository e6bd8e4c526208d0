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
