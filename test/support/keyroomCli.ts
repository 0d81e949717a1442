/**
 * The installed `keyroom` command (bin/keyroom, which runs the bundle in out/cli/), for tests that
 * spawn it as a user would. `npm test` rebuilds the bundle first (`npm run build:cli`); when a
 * test file is run alone after an edit, the bundle may be older than the sources, and the tests
 * would pass or fail on old code, so this refuses to hand out a stale one.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'out', 'cli', 'keyroom.mjs');
const INPUTS = join(ROOT, 'out', 'cli', 'inputs.json');

/** Absolute path of bin/keyroom, to run with `process.execPath`. */
export const KEYROOM_BIN = join(ROOT, 'bin', 'keyroom');

/**
 * @throws Error naming `npm run build:cli` when the bundle is missing or older than a file it was
 *   built from, or than a source file added since.
 */
export function assertFreshCliBundle(): void {
  const rebuild = 'run `npm run build:cli` (npm test does it before the tests)';
  if (!existsSync(BUNDLE) || !existsSync(INPUTS)) throw new Error(`The keyroom bundle ${BUNDLE} is missing: ${rebuild}.`);
  const built = statSync(BUNDLE).mtimeMs;
  const inputs = JSON.parse(readFileSync(INPUTS, 'utf8')) as string[];
  for (const input of inputs) {
    const path = resolve(ROOT, input);
    // A file gone since the build is a change too.
    if (!existsSync(path) || statSync(path).mtimeMs > built) throw new Error(`The keyroom bundle is older than ${path}: ${rebuild}.`);
  }
}
