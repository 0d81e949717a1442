/**
 * The command line's own contract under bad input (issue 13, items 6 and 8), generated from the
 * contract table rather than a hand list:
 * - every required parameter of every operation, left out, is exit 2 MissingParameter naming it;
 * - about a thousand bad values (empty, blank, 10,000 characters, control and bidi characters,
 *   JSON fragments, junk, a FIFO, /dev/zero, a folder, an oversized file as @file) each give exit
 *   1 or 2, one JSON error on stderr, nothing on stdout, no echo longer than the cap, no file
 *   written, and never Internal.
 * The command runs in-process (main() with its output captured), so a thousand tries cost
 * seconds; a few are also spawned as the installed command (bin/keyroom, the built bundle) to
 * show it behaves the same. The keystore
 * path does not exist, so a value the schema lets through ends at Keystore.NotFound without the
 * passphrase's key derivation.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATIONS, operationNamesFor, OPERATION_NAMES, type OperationName } from '../../../src-shared/contract/operations';
import { parseInput } from '../../../src-shared/contract/validate';
import { ECHO_CAP } from '../../../src-shared/echo';
import { KmsError } from '../../../src-shared/errors';
import { IMPORT_TOKEN_FORMS, importTokenProblem } from '../../../src-shared/domain/byokTargets';
import { outputPathProblem } from '../../../src-shared/contract/fields';
import { main } from '../../../src-main/cli/main';
import { atFileByteCap, isRequired, parameterNames } from '../../../src-main/cli/args';
import { readSmallFile, readSmallFileSync } from '../../../src-main/files/readBounded';
import { openHarness, firstVersionOf } from '../../support/kmsHarness';
import { KEYROOM_BIN, assertFreshCliBundle } from '../../support/keyroomCli';
import { dispatch } from '../../../src-main/handlers/dispatch';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRIES = 1000;

interface Run {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
}

interface SchemaLike {
  safeParse(v: unknown): { success: boolean };
  options?: readonly unknown[];
}

let dir: string;
let outDir: string;
let env: Record<string, string>;
let fifo: string;
let oversized: string;

async function keyroom(argv: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { argv, code, stdout, stderr };
}

function show(r: Run): string {
  const shown = r.argv.map((a) => (a.length > 80 ? `${a.slice(0, 80)}…(${a.length})` : a));
  return `keyroom ${shown.join(' ')}\nexit ${r.code}\nstdout: ${r.stdout.slice(0, 300)}\nstderr: ${r.stderr.slice(0, 600)}`;
}

/** exit 1 or 2, nothing on stdout, one JSON line {Code, Message, RequestId}, never Internal. */
function refused(r: Run): { Code: string; Message: string; RequestId: string } {
  assert.ok(r.code === 1 || r.code === 2, show(r));
  assert.equal(r.stdout, '', show(r));
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `one line on stderr\n${show(r)}`);
  const e = JSON.parse(lines[0]!) as { Code: string; Message: string; RequestId: string };
  assert.deepEqual(Object.keys(e).sort(), ['Code', 'Message', 'RequestId'], show(r));
  assert.notEqual(e.Code, 'Internal', show(r));
  assert.match(e.RequestId, UUID);
  return e;
}

/**
 * A value each field's schema accepts, found by trying candidates against the contract itself
 * (outputs go into the scratch folder, which must stay empty).
 */
function sampleFor(operation: OperationName, field: string): string {
  const schema = (OPERATIONS[operation].input.shape as unknown as Record<string, SchemaLike>)[field]!;
  if (/^(OutputFile|Manifest)$/.test(field)) return nodePath.join(outDir, `${operation}-${field}.out`);
  if (field === 'OutputDir') return outDir;
  const candidates = [
    '0f8fad5b-d9cb-469f-a165-70867728950e', 'alias/sample', 'AES_256', 'ENCRYPT/DECRYPT', 'SOFTWARE', 'true', '30', '7', '1',
    'ECDSA_SHA_256', 'RSAES_OAEP_SHA_256', 'SHA_256', 'ALIYUN', 'RSA_2048', 'AAAA', '{"purpose":"test"}', '365d', 'CN=Sample',
    nodePath.join(dir, 'no-such-input'), 'PEM', 'raw', 'DER', 'sample',
  ];
  for (const c of candidates) if (schema.safeParse(c).success) return c;
  throw new Error(`no sample value for ${operation}.${field}`);
}

/** The cheapest valid command line for an operation: its required parameters with sample values. */
function requiredArgs(operation: OperationName, except?: string): string[] {
  const args: string[] = [];
  for (const f of parameterNames(operation)) {
    if (f === except || isSecret(operation, f) || !isRequired(operation, f)) continue;
    args.push(`--${f}`, sampleFor(operation, f));
  }
  return args;
}

function isSecret(operation: OperationName, field: string): boolean {
  return ((OPERATIONS[operation] as { secrets?: readonly string[] }).secrets ?? []).includes(field);
}

/** Deterministic choice, so a failure is the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

before(() => {
  dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-badinput-'));
  outDir = nodePath.join(dir, 'out');
  fs.mkdirSync(outDir);
  fs.mkdirSync(nodePath.join(dir, 'a-folder'));
  fifo = nodePath.join(dir, 'a-fifo');
  execFileSync('mkfifo', [fifo]);
  // Larger than any parameter's cap (the largest is base64 of 1.4 MB at 4 bytes a character); sparse.
  oversized = nodePath.join(dir, 'oversized');
  fs.writeFileSync(oversized, '');
  fs.truncateSync(oversized, 8 * 1024 * 1024);
  env = { KEYROOM_KEYSTORE: nodePath.join(dir, 'no-keystore-here.db'), KEYROOM_PASSPHRASE: 'bad-input campaign passphrase', XDG_CONFIG_HOME: nodePath.join(dir, 'xdg') };
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a missing required parameter is exit 2 MissingParameter, for every operation (from the contract)', () => {
  it('each required parameter of each command, left out, is named', async () => {
    let checked = 0;
    for (const op of operationNamesFor('cli')) {
      for (const field of parameterNames(op)) {
        if (isSecret(op, field) || !isRequired(op, field)) continue;
        const r = await keyroom([op, ...requiredArgs(op, field)]);
        const e = refused(r);
        assert.equal(r.code, 2, show(r));
        assert.equal(e.Code, 'MissingParameter', show(r));
        assert.match(e.Message, new RegExp(`\\b${field} is required`), show(r));
        checked++;
      }
    }
    // The kinds the campaign found answering InvalidParameter are among them.
    assert.ok(checked >= 40, `${checked} required parameters checked`);
  });

  it('the same through the contract for the app\'s operations: choices, true/false and lists left out are MissingParameter', () => {
    for (const op of OPERATION_NAMES) {
      for (const field of Object.keys(OPERATIONS[op].input.shape)) {
        if (!isRequired(op, field)) continue;
        const input: Record<string, unknown> = {};
        for (const f of Object.keys(OPERATIONS[op].input.shape)) if (f !== field && isRequired(op, f) && !isSecret(op, f)) input[f] = sampleFor(op, f);
        for (const f of Object.keys(OPERATIONS[op].input.shape)) if (f !== field && isRequired(op, f) && isSecret(op, f)) input[f] = 'a secret of 8+ chars';
        assert.throws(
          () => parseInput(op, input),
          (e: unknown) => e instanceof KmsError && e.code === 'MissingParameter' && e.message.includes(`${field} is required`),
          `${op}.${field}`,
        );
      }
    }
  });
});

/** Parameters that name a file Keyroom reads (any readable path is valid there). */
const INPUT_PATH_FIELDS = new Set(['File', 'InputFile', 'Plan', 'SignatureFile']);

describe('bad values: about a thousand tries from the contract', () => {
  it('each is refused with one JSON error, no long echo, no file written, never Internal', async () => {
    const long = 'x'.repeat(10_000);
    const longSpaced = 'word '.repeat(2_000);
    const badValues: readonly string[] = [
      '', ' ', '   \t ', long, longSpaced, 'é'.repeat(5_000), '\u202Egpj.exe', 'name\u200E', 'a\u2066b\u2069', 'line\nbreak', 'nul\u0000byte', 'bell\u0007',
      '{"a":', '[1,2', 'null', '-1', '1e999', 'NaN', '\uFFFD\u0001\u007F\u0080', '../../../../etc/passwd', '%s%s%n', '-x',
      '@/dev/zero', '@/dev/null', `@${nodePath.join(ROOT, 'no-such-file')}`, '@FOLDER', '@FIFO', '@OVERSIZED',
    ];
    const resolve = (v: string) => (v === '@FOLDER' ? `@${nodePath.join(dir, 'a-folder')}` : v === '@FIFO' ? `@${fifo}` : v === '@OVERSIZED' ? `@${oversized}` : v);
    const all: string[][] = [];
    for (const op of operationNamesFor('cli')) {
      for (const field of parameterNames(op)) {
        if (isSecret(op, field)) continue;
        for (const v of badValues) {
          // A relative path to a readable file is a good value for a file to read.
          if (v.startsWith('../') && INPUT_PATH_FIELDS.has(field)) continue;
          all.push([op, ...requiredArgs(op, field), `--${field}`, resolve(v)]);
        }
      }
    }
    const random = prng(13);
    const chosen = all.length <= TRIES ? all : Array.from({ length: TRIES }, () => all[Math.floor(random() * all.length)]!);
    const codes = new Map<string, number>();
    for (const argv of chosen) {
      const r = await keyroom(argv);
      const e = refused(r);
      codes.set(e.Code, (codes.get(e.Code) ?? 0) + 1);
      for (const a of argv) {
        if (a.length > ECHO_CAP) assert.ok(!e.Message.includes(a.slice(0, ECHO_CAP + 1)), `the message repeats more than ${ECHO_CAP} characters of a value\n${show(r)}`);
      }
      assert.ok(e.Message.length < 2_000, `a short message\n${show(r)}`);
    }
    assert.deepEqual(fs.readdirSync(outDir), [], 'no file written');
    assert.ok(!fs.existsSync(env.KEYROOM_KEYSTORE!), 'no keystore made');
    assert.ok(chosen.length >= Math.min(TRIES, all.length));
    // The tries reached the schema's own refusals and, for values it lets through, the keystore.
    assert.ok((codes.get('InvalidParameter') ?? 0) > 0 && (codes.get('Keystore.NotFound') ?? 0) > 0, JSON.stringify([...codes]));
  });

  it('output names: blank, control and bidi/format characters are InvalidParameter.OutputFile (or .OutputDir), nothing written', async () => {
    for (const name of ['   ', '\t', 'report\u202Etxt.exe', 'a\u200Fb', 'x\u2067y', 'new\nline', 'del\u007F', 'c1\u0085', 'zw\u200Bsp', 'bom\uFEFF']) {
      assert.ok(outputPathProblem(name), JSON.stringify(name));
      for (const [op, field, code] of [
        ['ExportAuditLog', 'OutputFile', 'InvalidParameter.OutputFile'],
        ['BackupKeystore', 'OutputFile', 'InvalidParameter.OutputFile'],
        ['SignFile', 'Manifest', 'InvalidParameter.OutputFile'],
        ['SignFile', 'OutputDir', 'InvalidParameter.OutputDir'],
        ['WrapKeyMaterial', 'OutputDir', 'InvalidParameter.OutputDir'],
      ] as const) {
        const target = field === 'OutputDir' ? name : nodePath.join(outDir, name);
        const r = await keyroom([op, ...requiredArgs(op, field), `--${field}`, target]);
        const e = refused(r);
        assert.equal(r.code, 1, show(r));
        assert.equal(e.Code, code, show(r));
      }
    }
    for (const fine of ['report.json', 'Ausgabe-ü.txt', '密钥备份.db', 'a b.txt']) assert.equal(outputPathProblem(fine), undefined, fine);
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  it('an ImportToken that the target cloud does not issue is refused before anything is written', async () => {
    const junk = ['   ', '{"ImportToken":"abc"}', 'not base64!', '\u0000\u0001\u0002', 'tok en', 'x'.repeat(200_000)];
    const real: Record<keyof typeof IMPORT_TOKEN_FORMS, string> = {
      ALIYUN: Buffer.from('a token as Alibaba hands it out').toString('base64'),
      HUAWEI: Buffer.from('huawei import token').toString('base64'),
      AWS: Buffer.from('binary token from AWS').toString('base64'),
      GCP: 'projects/p-1/locations/global/keyRings/ring/importJobs/job-1',
      AZURE: '',
    };
    for (const target of Object.keys(IMPORT_TOKEN_FORMS) as (keyof typeof IMPORT_TOKEN_FORMS)[]) {
      for (const t of junk) assert.ok(importTokenProblem(target, t), `${target}: ${JSON.stringify(t.slice(0, 20))}`);
      if (target === 'AZURE') assert.ok(importTokenProblem(target, 'anything'), 'Azure issues no token');
      else assert.equal(importTokenProblem(target, real[target]), undefined, target);
    }
    assert.ok(importTokenProblem('GCP', real.AWS), 'a token for another cloud');
    assert.ok(importTokenProblem('AWS', real.GCP), 'a token for another cloud');
    assert.equal(importTokenProblem('ALIYUN', 'opaque-token-from-alibaba\n'), undefined, 'a pasted line end is fine');
    const wrap = ['WrapKeyMaterial', '--KeyId', 'alias/sample', '--Target', 'AWS', '--WrappingAlgorithm', 'RSAES_OAEP_SHA_256', '--PublicKey', 'AAAA', '--OutputDir', outDir];
    for (const t of ['{"a":1}', 'junk bytes \u0001']) {
      const r = await keyroom([...wrap, '--ImportToken', t]);
      assert.equal(refused(r).Code, 'Import.TokenInvalid', show(r));
    }
    assert.deepEqual(fs.readdirSync(outDir), []);
  });
});

describe('@file inputs: regular files only, capped from the contract before reading', () => {
  it('--Plaintext @/dev/zero, a FIFO, a folder and an oversized file are refused at once, naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/dev/zero', /device/],
      [fifo, /pipe|FIFO/],
      [nodePath.join(dir, 'a-folder'), /folder/],
      [oversized, /bytes/],
    ];
    for (const [path, why] of cases) {
      const r = await keyroom(['Encrypt', '--KeyId', 'alias/sample', '--Plaintext', `@${path}`]);
      const e = refused(r);
      assert.equal(e.Code, 'InvalidParameter', show(r));
      assert.match(e.Message, /--Plaintext/, show(r));
      assert.match(e.Message, why, show(r));
    }
  });

  it('the cap is the contract\'s own limit: Plaintext 6144 characters, a file just over its bytes is refused before reading', async () => {
    const cap = atFileByteCap('Encrypt', 'Plaintext');
    assert.equal(cap, 6144 * 4 + 2);
    assert.equal(atFileByteCap('ImportKeyMaterial', 'ImportToken'), 200 * 4 + 2);
    const over = nodePath.join(dir, 'over-cap');
    fs.writeFileSync(over, Buffer.alloc(cap + 1, 0x61));
    const r = await keyroom(['Encrypt', '--KeyId', 'alias/sample', '--Plaintext', `@${over}`]);
    assert.match(refused(r).Message, new RegExp(`${cap + 1} bytes`), show(r));
    // Within the cap but over the schema's characters: read, then refused by the schema's own words.
    const within = nodePath.join(dir, 'within-cap');
    fs.writeFileSync(within, 'a'.repeat(7000));
    const r2 = await keyroom(['Encrypt', '--KeyId', 'alias/sample', '--Plaintext', `@${within}`]);
    assert.match(refused(r2).Message, /6144/, show(r2));
  });

  it('secret files (--passphrase-file) are held to the same rules', async () => {
    for (const path of ['/dev/zero', fifo, nodePath.join(dir, 'a-folder'), oversized]) {
      const r = await keyroom(['--passphrase-file', path, 'ListKeys']);
      assert.equal(r.code, 1, show(r));
      assert.match(refused(r).Message, /--passphrase-file/, show(r));
    }
  });

  it('reading stops at the cap + 1 even when the size fstat gave was smaller (a growing file)', async () => {
    // /proc files report size 0 to stat, like a file that grows after it was checked.
    const refuse = (why: string) => new Error(why);
    assert.throws(() => readSmallFileSync('/proc/self/maps', 16, refuse), /more than 16/);
    await assert.rejects(readSmallFile('/proc/self/maps', 16, refuse), /more than 16/);
    assert.ok(readSmallFileSync('/proc/self/maps', 1 << 20, refuse).length > 16);
  });
});

describe('bad values through dispatch, against an open keystore with real keys (the app\'s path)', () => {
  it('values the schema lets through reach the services: none gives Internal, a long echo, or a file on failure', async () => {
    const h = await openHarness();
    try {
      const aes = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
      const ec = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      const hmac = (await h.call('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE/VERIFY_MAC' })).KeyMetadata.KeyId;
      const versions = new Map<string, string>();
      for (const k of [aes, ec, hmac]) versions.set(k, await firstVersionOf(h, k));
      const keyFor = (op: string) => (/Asymmetric|Sign|Csr|PublicKey|VerifyFile|KeyCheckValue/.test(op) ? ec : /Mac/.test(op) ? hmac : aes);
      // Operations that would end the session or change its passphrase are left to their own tests.
      const skip = new Set(['InitKeystore', 'UnlockKeystore', 'LockKeystore', 'ChangePassphrase', 'LoginToken', 'LogoutToken', 'SetAutoLock']);
      const values: readonly unknown[] = ['', '   ', 'x'.repeat(10_000), '\u202Eevil', 'a\u0000b', '{"a":', 'null', -1, 1e308, true, [], {}, ['a', 'b'], 'é'.repeat(300), '../../etc/passwd', '0f8fad5b-d9cb-469f-a165-70867728950e'];
      let tries = 0;
      for (const op of OPERATION_NAMES) {
        if (skip.has(op)) continue;
        const fields = Object.keys(OPERATIONS[op].input.shape).filter((f) => f !== 'OperationId');
        const base: Record<string, unknown> = {};
        for (const f of fields) {
          if (!isRequired(op, f)) continue;
          if (f === 'KeyId' || f === 'DestinationKeyId') base[f] = keyFor(op);
          else if (f === 'KeyVersionId') base[f] = versions.get(keyFor(op));
          else base[f] = sampleFor(op, f);
        }
        for (const f of fields) {
          for (const v of values) {
            const before = fs.readdirSync(outDir).sort();
            const input = { ...base, [f]: v };
            const r = await dispatch(h.session, op, input);
            tries++;
            if (r.ok) continue;
            assert.notEqual(r.error.Code, 'Internal', `${op}.${f} = ${JSON.stringify(v).slice(0, 60)}: ${r.error.Message}`);
            if (typeof v === 'string' && v.length > ECHO_CAP) assert.ok(!r.error.Message.includes(v.slice(0, ECHO_CAP + 1)), `${op}.${f}: long echo`);
            assert.deepEqual(fs.readdirSync(outDir).sort(), before, `${op}.${f}: a refused call wrote a file`);
          }
        }
      }
      assert.ok(tries > 500, `${tries} tries`);
      assert.equal((await h.call('VerifyAuditLog')).Valid, true);
    } finally {
      await h.close();
    }
  });
});

describe('input files the services read: regular files only, at once', () => {
  it('VerifyFile\'s SignatureFile and ReEncryptFiles\' File as a FIFO, a device or a folder: InvalidParameter.InputFile, no wait', async () => {
    const h = await openHarness();
    try {
      const k = await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
      const aes = await h.call('CreateKey', { KeySpec: 'AES_256' });
      const data = nodePath.join(dir, 'data.txt');
      fs.writeFileSync(data, 'release');
      for (const bad of [fifo, '/dev/zero', nodePath.join(dir, 'a-folder')]) {
        await h.refuse('VerifyFile', { KeyId: k.KeyMetadata.KeyId, Algorithm: 'ECDSA_SHA_256', File: data, SignatureFile: bad }, 'InvalidParameter.InputFile');
        await h.refuse('ReEncryptFiles', { File: [bad], DestinationKeyId: aes.KeyMetadata.KeyId }, 'InvalidParameter.InputFile');
      }
      // Larger than one signature / one blob: refused from its size, before reading.
      await h.refuse('VerifyFile', { KeyId: k.KeyMetadata.KeyId, Algorithm: 'ECDSA_SHA_256', File: data, SignatureFile: oversized }, 'InvalidParameter');
      await h.refuse('ReEncryptFiles', { File: [oversized], DestinationKeyId: aes.KeyMetadata.KeyId }, 'InvalidParameter.InputFile');
      assert.ok(!fs.existsSync(`${oversized}.reencrypted`));
    } finally {
      await h.close();
    }
  });
});

describe('the real binary behaves the same (a few spawned runs)', () => {
  it('exit codes, one JSON line on stderr, nothing on stdout', () => {
    const spawnEnv = { ...process.env, ...env };
    assertFreshCliBundle();
    const run = (argv: string[]) => {
      const r = spawnSync(process.execPath, [KEYROOM_BIN, ...argv], { cwd: ROOT, env: spawnEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      return { argv, code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const zero = run(['Encrypt', '--KeyId', 'alias/sample', '--Plaintext', '@/dev/zero']);
    assert.equal(refused(zero).Code, 'InvalidParameter');
    // A missing choice (--Target) is a missing parameter, exit 2, whatever its kind.
    const noTarget = run(['CheckImportParameters', '--WrappingAlgorithm', 'RSAES_OAEP_SHA_256', '--WrappingKeySpec', 'RSA_2048']);
    assert.equal(noTarget.code, 2, show(noTarget));
    assert.equal(refused(noTarget).Code, 'MissingParameter');
    const longValue = run(['DescribeKey', '--KeyId', 'k'.repeat(10_000)]);
    assert.ok(!refused(longValue).Message.includes('k'.repeat(ECHO_CAP + 1)), show(longValue));
  });
});
