import { leaseTiming } from '../checkpoint/lease.js';
import type { RunCatalog } from '../checkpoint/run-catalog.js';
import { SqliteRunCatalog } from '../checkpoint/sqlite-run-catalog.js';
import type { Logger } from '../log/logger.js';
import type { RangeJobSettings } from './job-settings.js';

/** The catalog of runs the settings name: SQLite files in the checkpoint directory. */
export async function runCatalogFor(settings: RangeJobSettings, logger: Logger): Promise<RunCatalog> {
  return new SqliteRunCatalog(settings.checkpoint_dir, leaseTiming(settings.lease_seconds), logger);
}
