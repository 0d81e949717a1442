/**
 * Plays recorded command outputs (test/fixtures/system/<os>/<machine>/<key>.txt) to the macOS and
 * Windows self-tests, as their runner. A command without a recording fails as a missing command
 * would, so a test sees how the check words it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandRunner } from '../../src-main/system/runCommand';

export const SYSTEM_FIXTURES = fileURLToPath(new URL('../fixtures/system/', import.meta.url));

export interface RecordedCommand {
  key: string;
  file: string;
  args: readonly string[];
}

/** A runner answering `commands` from `<os>/<machine>/`, and the list of keys it was asked for. */
export function recordedRunner(os: 'macos' | 'windows', machine: string, commands: readonly RecordedCommand[], overrides: Record<string, string | null> = {}): { run: CommandRunner; asked: string[] } {
  const asked: string[] = [];
  const run: CommandRunner = async (file, args) => {
    const c = commands.find((x) => x.file === file && x.args.length === args.length && x.args.every((a, i) => a === args[i]));
    if (!c) return { ok: false, error: `${file} ${args.join(' ')}: no recording` };
    asked.push(c.key);
    if (c.key in overrides) {
      const o = overrides[c.key];
      return o === null || o === undefined ? { ok: false, error: `${file}: command not found` } : { ok: true, stdout: o };
    }
    const path = join(SYSTEM_FIXTURES, os, machine, `${c.key}.txt`);
    if (!existsSync(path)) return { ok: false, error: `${file} ${args.join(' ')}: no recording at ${path}` };
    return { ok: true, stdout: readFileSync(path, 'utf8') };
  };
  return { run, asked };
}
