/**
 * Runs an OS command for a probe (macOS, Windows): no shell, a time limit, stdout as text. A
 * command that is missing, fails or times out answers with its error instead of throwing, so the
 * check that needed it can say what it could not read.
 */
import { execFile } from 'node:child_process';

export type CommandOutput = { ok: true; stdout: string } | { ok: false; error: string };
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandOutput>;

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: 20_000, maxBuffer: 16 * 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) resolve({ ok: false, error: `${[file, ...args].join(' ')} failed: ${(stderr || err.message).trim().split('\n')[0]}` });
      else resolve({ ok: true, stdout });
    });
  });
