import type { Logger } from '../log/logger.js';

/**
 * Last-resort handlers of a proxy process: each client session has its own error boundary, so an
 * error reaching here is a bug outside any session; the proxy logs it and keeps serving its other
 * clients rather than dropping every connection.
 */
export function keepServingOnFaults(logger: Logger): void {
  process.on('uncaughtException', (error) =>
    logger.error({ err: error }, 'unexpected error outside any client session; still serving'),
  );
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection outside any client session; still serving'),
  );
}
