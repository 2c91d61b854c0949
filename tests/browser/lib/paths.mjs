import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (tests/browser/lib → ../../..). */
export const repoRoot = path.resolve(here, '..', '..', '..');
export const binaryPath = process.env.WAHUB_BIN || path.join(repoRoot, 'target', 'debug', 'wahub');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const screenshotDir = path.join(repoRoot, 'docs', 'screenshots');
export const outDir = path.join(repoRoot, 'tests', 'browser', 'out');
