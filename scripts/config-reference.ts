/**
 * Writes docs/configuration.md from the settings schemas themselves, so the reference can never
 * drift from the code (a unit test checks the file is current). `npm run docs:config`.
 */
import { writeFileSync } from 'node:fs';
import { configurationReference } from '../src/config/reference.js';

writeFileSync('docs/configuration.md', configurationReference());
process.stdout.write('wrote docs/configuration.md\n');
