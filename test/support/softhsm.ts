/**
 * A real SoftHSM2 token per test file, in a temp directory of its own, and a KMS harness whose
 * HSM backend is that token.
 *
 * SoftHSM reads SOFTHSM2_CONF at C_Initialize (and again at the next C_Initialize after a
 * C_Finalize), so `makeSoftHsm()` sets it in this process before any module is opened; node
 * --test runs each file in its own process, so one directory per file keeps files apart. Several
 * tokens can share the directory (`addToken`). `pkcs11Tool` and `softhsm2-util` get the same
 * SOFTHSM2_CONF through the environment.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { KeyBackend } from '../../src-main/backends/backend';
import { Pkcs11SessionManager } from '../../src-main/backends/pkcs11/sessionManager';
import { Pkcs11Backend } from '../../src-main/backends/pkcs11/pkcs11Backend';
import { openHarness, type Harness } from './kmsHarness';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '246810';
export const SO_PIN = '13579135';

export interface SoftHsmToken {
  label: string;
  pin: string;
  soPin: string;
  serial: string;
}

export interface SoftHsm {
  dir: string;
  conf: string;
  modulePath: string;
  /** The first token. */
  token: SoftHsmToken;
  label: string;
  pin: string;
  soPin: string;
  serial: string;
  addToken(label: string, pin?: string): SoftHsmToken;
  /** pkcs11-tool on a token, logged in as its user; returns stdout. */
  pkcs11Tool(args: string[], token?: SoftHsmToken): string;
  /** pkcs11-tool with only --module (e.g. -L). */
  pkcs11ToolBare(args: string[]): string;
  /** A session manager on a token (the PIN Buffer given is zeroed by the manager). */
  openManager(token?: SoftHsmToken, maxSessions?: number): Promise<Pkcs11SessionManager>;
  cleanup(): void;
}

/** Make a token directory and a softhsm2.conf, point SOFTHSM2_CONF at it, and initialise a token. */
export function makeSoftHsm(label = 'keyroom-test'): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-softhsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  const env = { ...process.env, SOFTHSM2_CONF: conf };

  const addToken = (l: string, pin = USER_PIN): SoftHsmToken => {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', l, '--so-pin', SO_PIN, '--pin', pin], { env, stdio: 'pipe' });
    return { label: l, pin, soPin: SO_PIN, serial: serialOf(env, l) };
  };
  const first = addToken(label);
  const hsm: SoftHsm = {
    dir,
    conf,
    modulePath: SOFTHSM_MODULE,
    token: first,
    label: first.label,
    pin: first.pin,
    soPin: first.soPin,
    serial: first.serial,
    addToken,
    pkcs11Tool(args, token = first) {
      return execFileSync('pkcs11-tool', ['--module', SOFTHSM_MODULE, '--token-label', token.label, '--login', '--pin', token.pin, ...args], {
        env,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    },
    pkcs11ToolBare(args) {
      return execFileSync('pkcs11-tool', ['--module', SOFTHSM_MODULE, ...args], { env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    },
    openManager(token = first, maxSessions) {
      return Pkcs11SessionManager.open({ modulePath: SOFTHSM_MODULE, tokenLabel: token.label, pin: Buffer.from(token.pin), maxSessions });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return hsm;
}

function serialOf(env: NodeJS.ProcessEnv, label: string): string {
  const out = execFileSync('softhsm2-util', ['--show-slots'], { env, encoding: 'utf8' });
  let serial = '';
  for (const line of out.split('\n')) {
    const s = /^\s*Serial number:\s*(\S*)/.exec(line);
    if (s) serial = s[1] ?? '';
    const l = /^\s*Label:\s*(.*?)\s*$/.exec(line);
    if (l && l[1] === label) return serial;
  }
  throw new Error(`softhsm2-util does not show a token labelled ${label}`);
}

/** The objects pkcs11-tool lists, parsed: class line, label, ID and Access flags. */
export interface ListedObject {
  kind: string;
  label?: string;
  id?: string;
  access: string[];
  usage: string[];
}

export function parseListObjects(out: string): ListedObject[] {
  const objects: ListedObject[] = [];
  let cur: ListedObject | undefined;
  for (const line of out.split('\n')) {
    const head = /^(Private Key Object|Public Key Object|Secret Key Object|Data object|Certificate Object)[;:]?\s*(.*)$/.exec(line);
    if (head) {
      cur = { kind: `${head[1]}${head[2] ? `; ${head[2]}` : ''}`, access: [], usage: [] };
      objects.push(cur);
      continue;
    }
    if (!cur) continue;
    const f = /^\s+(label|ID|Access|Usage):\s*(.*)$/.exec(line);
    if (!f) continue;
    if (f[1] === 'label') cur.label = f[2]!.trim();
    if (f[1] === 'ID') cur.id = f[2]!.trim().toLowerCase();
    if (f[1] === 'Access') cur.access = f[2]!.split(',').map((x) => x.trim());
    if (f[1] === 'Usage') cur.usage = f[2]!.split(',').map((x) => x.trim());
  }
  return objects;
}

// ---- a KMS harness whose HSM backend is the token ----------------------------------------------

/** The KMS harness (test/support/kmsHarness.ts) with `backend` as its HSM backend. */
export type HsmHarness = Harness & { backend: KeyBackend };

export async function openHsmHarness(backend: KeyBackend, start?: Date): Promise<HsmHarness> {
  const h = await openHarness({ start, backends: { HSM: backend } });
  return Object.assign(h, { backend });
}

/** A harness on a fresh connected backend for the SoftHSM token. */
export async function openHsmHarnessOn(hsm: SoftHsm, token?: SoftHsmToken): Promise<HsmHarness & { backend: Pkcs11Backend }> {
  const backend = new Pkcs11Backend(await hsm.openManager(token));
  return (await openHsmHarness(backend)) as HsmHarness & { backend: Pkcs11Backend };
}

/** The CKA_ID (hex) of a key version, read from the keystore. */
export async function objectIdOf(h: HsmHarness, keyVersionId: string): Promise<string> {
  const row = await h.raw((db) => db.get<{ hsm_object_id: Buffer | null }>('SELECT hsm_object_id FROM key_versions WHERE key_version_id = ?', [keyVersionId]));
  assert.ok(row?.hsm_object_id, 'the version has a CKA_ID');
  return row.hsm_object_id.toString('hex');
}
