import type { SettingsValues } from '../config/setting.js';
import { boolean } from '../config/setting.js';

export const MIGRATE_SETTINGS = {
  create_missing_counters: boolean({
    default: false,
    doc:
      'Counter tables: also create counter rows that Target lacks. Off by default because a counter row ' +
      'missing on Target may have been deleted there on purpose, and a deleted counter cannot be safely ' +
      'written again (Cassandra does not support re-adding a deleted counter: it stays deleted or comes back wrong).',
  }),
} as const;

export type MigrateSettings = SettingsValues<typeof MIGRATE_SETTINGS>;
