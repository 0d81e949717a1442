/** OpenSSL (Debian's `openssl`, 3.0) as the independent judge, with files in a temp directory. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'keyroom-openssl-'));
  file(name: string, content?: string | Uint8Array): string {
    const p = join(this.dir, name);
    if (content !== undefined) writeFileSync(p, content);
    return p;
  }
  read(name: string): Buffer {
    return readFileSync(join(this.dir, name));
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Run openssl; returns stdout, throws with stderr if it exits non-zero. */
export function openssl(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Run openssl and report only whether it succeeded (for verification commands). */
export function opensslOk(args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** PEM of a DER PKCS#8 private key (test-only: to let OpenSSL act with a software key). */
export function pkcs8DerToPem(der: Uint8Array): string {
  return `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}
