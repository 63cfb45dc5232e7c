import type { Logger } from '../log/logger.js';

/**
 * Ctrl-C / SIGTERM ask a job to stop gracefully: ranges finish the page in hand and save it. A
 * second Ctrl-C exits at once; nothing is lost, since every finished page is already committed.
 */
export function installStopSignal(logger: Logger): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn(`second ${name}: exiting now (state saved up to the last finished page)`);
      process.exit(130);
    }
    logger.warn(`${name}: stopping after the pages in progress; run the same command again to resume`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
