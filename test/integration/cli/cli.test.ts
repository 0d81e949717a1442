/**
 * The real `keyroom` command, spawned as a user would run it (the installed `bin/keyroom`, which
 * runs the bundle `npm run build:cli` makes in out/cli/), from the repository root, against a
 * keystore in a temp directory. cli.md is the contract: one JSON object on stdout and exit 0, or
 * nothing on stdout, one JSON line {Code, Message, RequestId} on stderr and exit 1 (2 for a
 * malformed command line); secrets only from a file, the environment or a prompt, and never echoed.
 *
 * A spawn that opens a keystore pays PBKDF2-SHA512 256k, so checks are grouped, and runs that need
 * no keystore go in parallel.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATIONS, operationNamesFor, type OperationName } from '../../../src-shared/contract/operations';
import { parseCommandLine } from '../../../src-main/cli/args';
import { KEYROOM_BIN, assertFreshCliBundle } from '../../support/keyroomCli';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = KEYROOM_BIN;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Distinctive texts, so a leak is found by a plain search of the output.
const PASS = 'cli-pass "quoted" пароль 1';
const NEW_PASS = 'cli-new-pass ключ 2';
const WRONG_PASS = 'cli-wrong-pass 3';
const ARG_SECRET = 'hunter2-argv-secret-4';
const SECRETS = [PASS, NEW_PASS, WRONG_PASS, ARG_SECRET];
/** Leading/trailing spaces, blank lines, CRLF and non-ASCII: @file must keep every byte. */
const MESSAGE = '  first line\r\n\tsecond line ✓ 密钥\n\n';

interface Run {
  args: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface ErrorLine {
  Code: string;
  Message: string;
  RequestId: string;
}

/** Every run of the file, for the final search for secrets. */
const runs: Run[] = [];

/** The parent's environment without any KEYROOM_* variable, and a private XDG config folder. */
function baseEnv(xdg: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYROOM_')) env[k] = v;
  env.XDG_CONFIG_HOME = xdg;
  return env;
}

let defaultEnv: NodeJS.ProcessEnv = {};

function keyroom(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // stdin is /dev/null: not a terminal, so the command can never wait at a prompt.
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...defaultEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const run = { args, code, signal, stdout, stderr };
      runs.push(run);
      resolve(run);
    });
  });
}

/** Runs command lines side by side, at most one per CPU (each start-up is CPU-bound). */
async function keyroomAll(list: readonly (readonly [readonly string[], Record<string, string>?])[]): Promise<Run[]> {
  const results: Run[] = new Array<Run>(list.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < list.length; i = next++) results[i] = await keyroom(list[i]![0], list[i]![1]);
  };
  await Promise.all(Array.from({ length: Math.max(2, os.availableParallelism()) }, worker));
  return results;
}

function show(r: Run): string {
  return `keyroom ${r.args.join(' ')}\nexit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** Success: exit 0, nothing on stderr, one JSON object on stdout with a RequestId UUID. */
function ok<T = Record<string, unknown>>(r: Run): T & { RequestId: string } {
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, '', show(r));
  const value = JSON.parse(r.stdout) as T & { RequestId: string };
  assert.equal(typeof value, 'object');
  assert.match(value.RequestId, UUID, show(r));
  return value;
}

/** Failure: the exit status, EMPTY stdout, and exactly one JSON line {Code, Message, RequestId} on stderr. */
function failed(r: Run, code: string, exit = 1): ErrorLine {
  assert.equal(r.code, exit, show(r));
  assert.equal(r.stdout, '', show(r));
  assert.ok(r.stderr.endsWith('\n'), show(r));
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `exactly one line on stderr\n${show(r)}`);
  const e = JSON.parse(lines[0]!) as ErrorLine;
  assert.deepEqual(Object.keys(e).sort(), ['Code', 'Message', 'RequestId'], show(r));
  assert.equal(e.Code, code, show(r));
  assert.ok(e.Message.length > 10, `the message says what to do\n${show(r)}`);
  assert.match(e.RequestId, UUID, show(r));
  return e;
}

function sha256(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

function nonSecretParameters(name: OperationName): string[] {
  const secrets = new Set<string>((OPERATIONS[name] as { secrets?: readonly string[] }).secrets ?? []);
  // OperationId is the app's handle for progress and CancelOperation; the command line has neither.
  return Object.keys(OPERATIONS[name].input.shape).filter((p) => !secrets.has(p) && p !== 'OperationId');
}

describe('keyroom command line', () => {
  let dir: string;
  let xdg: string;
  let passFile: string;
  let newPassFile: string;

  before(() => {
    assertFreshCliBundle();
    dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-cli-'));
    xdg = nodePath.join(dir, 'xdg');
    fs.mkdirSync(xdg);
    defaultEnv = baseEnv(xdg);
    passFile = nodePath.join(dir, 'pass.txt');
    newPassFile = nodePath.join(dir, 'new-pass.txt');
    // One trailing newline (LF, or CRLF) is not part of the passphrase, as with `echo > file`.
    fs.writeFileSync(passFile, `${PASS}\n`, { mode: 0o600 });
    fs.writeFileSync(newPassFile, `${NEW_PASS}\r\n`, { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--help lists every operation, <Op> --help its parameters, --version the version; no keystore is touched', async () => {
    const [general, short, createKey, encrypt, initKeystore, importMaterial, changePassphrase, version] = await keyroomAll([
      [['--help']],
      [['-h']],
      [['CreateKey', '--help']],
      [['Encrypt', '--help']],
      [['InitKeystore', '--help']],
      [['ImportKeyMaterial', '--help']],
      [['ChangePassphrase', '--help']],
      [['--version']],
    ]);
    assert.ok(general && short && createKey && encrypt && initKeystore && importMaterial && changePassphrase && version);
    for (const r of [general, short, createKey, encrypt, initKeystore, importMaterial, changePassphrase, version]) {
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stderr, '', show(r));
    }
    assert.equal(short.stdout, general.stdout);
    for (const name of operationNamesFor('cli')) {
      assert.match(general.stdout, new RegExp(`^\\s+${name}\\s`, 'm'), `--help lists ${name}`);
    }
    for (const option of ['--keystore', '--passphrase-file', '--new-passphrase-file', '--help', '--version', 'KEYROOM_KEYSTORE', 'KEYROOM_PASSPHRASE']) {
      assert.ok(general.stdout.includes(option), `--help mentions ${option}`);
    }

    const perOperation: [Run, OperationName][] = [
      [createKey, 'CreateKey'],
      [encrypt, 'Encrypt'],
      [initKeystore, 'InitKeystore'],
      [importMaterial, 'ImportKeyMaterial'],
      [changePassphrase, 'ChangePassphrase'],
    ];
    for (const [r, name] of perOperation) {
      assert.match(r.stdout, new RegExp(`^Usage: keyroom ${name}\\b`, 'm'), show(r));
      for (const p of nonSecretParameters(name)) assert.ok(r.stdout.includes(`--${p} `), `${name} --help lists --${p}\n${r.stdout}`);
      assert.ok(r.stdout.includes(OPERATIONS[name].summary), `${name} --help shows its summary`);
    }
    // Required parameters are shown plainly, optional ones in brackets.
    assert.ok(encrypt.stdout.includes(' --KeyId <value>') && encrypt.stdout.includes(' --Plaintext <value>'), encrypt.stdout);
    assert.ok(encrypt.stdout.includes('[--EncryptionContext <value>]'), encrypt.stdout);
    assert.ok(createKey.stdout.includes('[--KeySpec <value>]'), createKey.stdout);
    assert.ok(importMaterial.stdout.includes('Import.TokenExpired'), 'operation help lists its error codes');
    // Secrets are never offered as arguments; the help says where they come from.
    assert.ok(!/--Passphrase\b/.test(initKeystore.stdout), initKeystore.stdout);
    assert.ok(initKeystore.stdout.includes('--passphrase-file'), initKeystore.stdout);
    assert.ok(!/--NewPassphrase\b/.test(changePassphrase.stdout), changePassphrase.stdout);
    assert.ok(changePassphrase.stdout.includes('--new-passphrase-file'), changePassphrase.stdout);

    const pkg = JSON.parse(fs.readFileSync(nodePath.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout, `keyroom ${pkg.version}\n`);

    assert.deepEqual(fs.readdirSync(xdg), [], 'help and version create nothing in the app data folder');
  });

  it('malformed command lines exit 2 with one JSON error line, and secrets are refused as arguments', async () => {
    const ks = nodePath.join(dir, 'malformed.db');
    const env = { KEYROOM_PASSPHRASE: PASS, KEYROOM_KEYSTORE: ks };
    const cases: [string, string[]][] = [
      ['unknown operation', ['FrobnicateKey', '--KeyId', 'x']],
      ['lower-case operation', ['createkey']],
      ['no operation', ['--keystore', ks]],
      ['unknown option', ['CreateKey', '--Bogus', '1']],
      ['another operation\'s parameter', ['DescribeKey', '--KeyId', 'x', '--Plaintext', 'y']],
      ['missing value', ['CreateKey', '--KeySpec']],
      ['missing value (global option)', ['DescribeKey', '--KeyId', 'x', '--passphrase-file']],
      ['two operations', ['CreateKey', 'DescribeKey']],
      ['a parameter given twice', ['CreateKey', '--KeySpec', 'AES_256', '--KeySpec=SM4']],
      ['unreadable @file', ['Encrypt', '--KeyId', 'x', '--Plaintext', `@${nodePath.join(dir, 'no-such-file.txt')}`]],
      ['passphrase as an argument', ['InitKeystore', '--Passphrase', ARG_SECRET]],
      ['passphrase as an argument (= form)', ['InitKeystore', `--Passphrase=${ARG_SECRET}`]],
      ['new passphrase as an argument', ['ChangePassphrase', '--NewPassphrase', ARG_SECRET]],
      ['new passphrase as an argument (= form)', ['ChangePassphrase', `--NewPassphrase=${ARG_SECRET}`]],
    ];
    const results = await keyroomAll(cases.map(([, args]) => [args, env] as const));
    results.forEach((r, i) => {
      const e = failed(r, 'InvalidParameter', 2);
      assert.ok(!e.Message.includes(ARG_SECRET), `${cases[i]![0]}: the message repeats the secret\n${show(r)}`);
    });
    assert.ok(!fs.existsSync(ks), 'a malformed command line creates no keystore');
    assert.ok(!fs.existsSync(`${ks}-journal`));
  });

  it('a missing keystore gives Keystore.NotFound and creates no file (--keystore, KEYROOM_KEYSTORE, the default path)', async () => {
    const missing = nodePath.join(dir, 'missing.db');
    const viaEnv = nodePath.join(dir, 'missing-env.db');
    const inMissingFolder = nodePath.join(dir, 'no-such-folder', 'keystore.db');
    const before = fs.readdirSync(dir).sort();
    const [byOption, byEnv, byDefault, initInMissingFolder] = await keyroomAll([
      [['--keystore', missing, '--passphrase-file', passFile, 'ListKeys']],
      [['ListKeys'], { KEYROOM_KEYSTORE: viaEnv, KEYROOM_PASSPHRASE: PASS }],
      [['DescribeKey', '--KeyId', 'alias/x'], { KEYROOM_PASSPHRASE: PASS }],
      [[`--keystore=${inMissingFolder}`, 'InitKeystore'], { KEYROOM_PASSPHRASE: PASS }],
    ]);
    assert.ok(byOption && byEnv && byDefault && initInMissingFolder);
    assert.ok(failed(byOption, 'Keystore.NotFound').Message.includes(missing));
    assert.ok(failed(byEnv, 'Keystore.NotFound').Message.includes(viaEnv));
    // The default is the app's data folder under XDG_CONFIG_HOME.
    assert.ok(failed(byDefault, 'Keystore.NotFound').Message.includes(nodePath.join(xdg, 'Keyroom', 'keystore.db')));
    failed(initInMissingFolder, 'Keystore.Io');
    assert.deepEqual(fs.readdirSync(dir).sort(), before, 'no file or folder was created');
    assert.deepEqual(fs.readdirSync(xdg), []);
  });

  it('checks parameters before asking for the passphrase: a missing one exits 2, a bad value 1', async () => {
    const ks = nodePath.join(dir, 'never-opened.db');
    const [missing, bad] = await keyroomAll([
      [['--keystore', ks, 'DescribeKey']],
      [['--keystore', ks, 'CreateKey', '--KeySpec', 'RSA_1024']],
    ]);
    assert.ok(missing && bad);
    assert.match(failed(missing, 'MissingParameter', 2).Message, /KeyId/);
    failed(bad, 'InvalidParameter.KeySpec', 1);
    assert.ok(!fs.existsSync(ks));
  });

  it('without a passphrase source and without a terminal: a clear error, exit 1, nothing created', async () => {
    const ks = nodePath.join(dir, 'nopass.db');
    const [init, open, unreadable] = await keyroomAll([
      [['--keystore', ks, 'InitKeystore']],
      [['--keystore', ks, 'ListKeys']],
      [['--keystore', ks, '--passphrase-file', nodePath.join(dir, 'no-such-pass.txt'), 'InitKeystore']],
    ]);
    assert.ok(init && open && unreadable);
    for (const r of [init, open]) {
      const e = failed(r, 'MissingParameter');
      assert.ok(e.Message.includes('--passphrase-file') && e.Message.includes('KEYROOM_PASSPHRASE'), e.Message);
    }
    assert.ok(failed(unreadable, 'MissingParameter').Message.includes('no-such-pass.txt'));
    assert.ok(!fs.existsSync(ks), 'nothing created');
  });

  describe('one keystore from InitKeystore to BackupKeystore', () => {
    let ks: string;
    let keyId: string;
    /** Audit entries the successful calls wrote; refused calls write none. */
    let entries = 0;
    const withPass = (): string[] => ['--keystore', ks, '--passphrase-file', passFile];

    before(() => {
      ks = nodePath.join(dir, 'keystore.db');
    });

    it('InitKeystore creates a 0600 keystore; a second InitKeystore on the path is Keystore.AlreadyExists and changes nothing', async () => {
      const init = ok<{ Keystore: string; SchemaVersion: number }>(await keyroom([...withPass(), 'InitKeystore']));
      entries++;
      assert.equal(init.Keystore, ks);
      assert.equal(typeof init.SchemaVersion, 'number');
      assert.equal(fs.statSync(ks).mode & 0o777, 0o600);
      const hash = sha256(ks);
      failed(await keyroom(['InitKeystore'], { KEYROOM_KEYSTORE: ks, KEYROOM_PASSPHRASE: NEW_PASS }), 'Keystore.AlreadyExists');
      assert.equal(sha256(ks), hash, 'the existing keystore is byte-identical');
      assert.ok(!fs.existsSync(`${ks}-journal`));
    });

    it('CreateKey, DescribeKey, Encrypt and Decrypt round-trip, with --Name value, --Name=value and @file values', async () => {
      // The environment instead of options; the passphrase file's trailing newline was not part of it.
      const env = { KEYROOM_KEYSTORE: ks, KEYROOM_PASSPHRASE: PASS };
      const created = ok<{ KeyMetadata: { KeyId: string; KeySpec: string; KeyState: string; Description: string } }>(
        await keyroom(['CreateKey', '--KeySpec=AES_256', '--Description', 'cli round trip'], env),
      );
      entries++;
      keyId = created.KeyMetadata.KeyId;
      assert.match(keyId, UUID);
      assert.equal(created.KeyMetadata.KeySpec, 'AES_256');
      assert.equal(created.KeyMetadata.KeyState, 'Enabled');

      const described = ok<{ KeyMetadata: { KeyId: string; Description: string } }>(await keyroom([...withPass(), 'DescribeKey', `--KeyId=${keyId}`]));
      assert.equal(described.KeyMetadata.KeyId, keyId);
      assert.equal(described.KeyMetadata.Description, 'cli round trip');
      assert.notEqual(described.RequestId, created.RequestId);

      const msgFile = nodePath.join(dir, 'msg.txt');
      fs.writeFileSync(msgFile, MESSAGE);
      const enc = ok<{ KeyId: string; KeyVersionId: string; CiphertextBlob: string }>(
        await keyroom([...withPass(), 'Encrypt', '--KeyId', keyId, '--Plaintext', `@${msgFile}`, '--EncryptionContext={"purpose":"cli-test"}']),
      );
      entries++;
      assert.equal(enc.KeyId, keyId);
      assert.match(enc.KeyVersionId, UUID);
      assert.match(enc.CiphertextBlob, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.ok(!enc.CiphertextBlob.includes('first line'));

      // A base64 value read from a file is trimmed (files usually end with a newline).
      const blobFile = nodePath.join(dir, 'blob.b64');
      fs.writeFileSync(blobFile, `\n  ${enc.CiphertextBlob}\n\n`);
      const dec = ok<{ KeyId: string; KeyVersionId: string; Plaintext: string }>(
        await keyroom([...withPass(), 'Decrypt', `--CiphertextBlob=@${blobFile}`, '--EncryptionContext', '{"purpose":"cli-test"}']),
      );
      entries++;
      assert.equal(dec.Plaintext, MESSAGE, 'the @file plaintext came back byte for byte');
      assert.equal(dec.KeyId, keyId);
      assert.equal(dec.KeyVersionId, enc.KeyVersionId);
    });

    it('refusals exit 1 with nothing on stdout and one JSON line with the reference\'s code, and write nothing', async () => {
      failed(await keyroom([...withPass(), 'DescribeKey', '--KeyId', '00000000-0000-4000-8000-000000000000']), 'NotFound.Key');
      failed(await keyroom([...withPass(), 'CreateKey', '--KeySpec', 'RSA_1024']), 'InvalidParameter.KeySpec');
      ok(await keyroom([...withPass(), 'DisableKey', '--KeyId', keyId]));
      entries++;
      const msgFile = nodePath.join(dir, 'msg.txt');
      const rejected = failed(await keyroom([...withPass(), 'Encrypt', '--KeyId', keyId, '--Plaintext', `@${msgFile}`]), 'Rejected.KeyState');
      assert.ok(rejected.Message.includes(keyId), rejected.Message);
      // A refused use of a key is recorded, under the RequestId the command printed (refusals.ts).
      entries++;
      const last = ok<{ Events: { RequestId: string; Result: string; KeyId?: string }[] }>(await keyroom([...withPass(), 'ListAuditEvents', '--PageSize', '1']));
      assert.deepEqual(last.Events.map((e) => [e.RequestId, e.Result, e.KeyId]), [[rejected.RequestId, 'Rejected.KeyState', keyId]]);

      const verdict = ok<{ Valid: boolean; Entries: number }>(await keyroom([...withPass(), 'VerifyAuditLog']));
      assert.equal(verdict.Valid, true);
      assert.equal(verdict.Entries, entries, 'one entry per successful write and per refused use of a key, none for malformed input or a missing key');
    });

    it('ExportPublicKey writes the PEM OpenSSL reads; ListAuditEvents pages the log newest first', async () => {
      const ec = ok<{ KeyMetadata: { KeyId: string } }>(await keyroom([...withPass(), 'CreateKey', '--KeySpec', 'EC_P256', '--KeyUsage', 'SIGN/VERIFY']));
      entries++;
      const ecId = ec.KeyMetadata.KeyId;
      const versions = ok<{ KeyVersions: { KeyVersion: { KeyVersionId: string }[] } }>(await keyroom([...withPass(), 'ListKeyVersions', '--KeyId', ecId]));
      const versionId = versions.KeyVersions.KeyVersion[0]!.KeyVersionId;
      const pem = nodePath.join(dir, 'ec.pem');
      const exported = ok<{ OutputFile: string; Sha256: string; Fingerprint: string }>(
        await keyroom([...withPass(), 'ExportPublicKey', '--KeyId', ecId, '--KeyVersionId', versionId, '--OutputFile', pem]),
      );
      entries++;
      assert.equal(exported.Sha256, sha256(pem));
      const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-outform', 'DER']);
      assert.equal(exported.Fingerprint, createHash('sha256').update(der).digest('hex'));
      const hash = sha256(ks);
      failed(await keyroom([...withPass(), 'ExportPublicKey', '--KeyId', ecId, '--KeyVersionId', versionId, '--OutputFile', pem]), 'AlreadyExists.File');
      assert.equal(sha256(ks), hash, 'the refusal wrote no audit entry');

      const page = ok<{ Events: { Seq: number; Operation: string; KeyId?: string }[]; TotalCount: number; PageSize: number }>(
        await keyroom([...withPass(), 'ListAuditEvents', '--PageSize', '2']),
      );
      assert.equal(page.TotalCount, entries);
      assert.deepEqual(page.Events.map((e) => [e.Seq, e.Operation]), [[entries, 'ExportPublicKey'], [entries - 1, 'CreateKey']]);
      const ofKey = ok<{ Events: { KeyId?: string }[]; TotalCount: number }>(await keyroom([...withPass(), 'ListAuditEvents', '--KeyId', ecId]));
      assert.equal(ofKey.TotalCount, 2);
      assert.ok(ofKey.Events.every((e) => e.KeyId === ecId));
      assert.equal(sha256(ks), hash, 'reading the log wrote nothing');
    });

    it('a wrong passphrase is IncorrectPassphrase and leaves the file byte-identical with no journal', async () => {
      const hash = sha256(ks);
      const listing = fs.readdirSync(dir).sort();
      failed(await keyroom(['--keystore', ks, 'DescribeKey', '--KeyId', keyId], { KEYROOM_PASSPHRASE: WRONG_PASS }), 'IncorrectPassphrase');
      assert.equal(sha256(ks), hash);
      assert.ok(!fs.existsSync(`${ks}-journal`));
      assert.deepEqual(fs.readdirSync(dir).sort(), listing);
    });

    it('ChangePassphrase with --new-passphrase-file: the old passphrase then fails, the new one opens', async () => {
      const changed = ok<{ Keystore: string }>(await keyroom([...withPass(), '--new-passphrase-file', newPassFile, 'ChangePassphrase']));
      entries++;
      assert.equal(changed.Keystore, ks);
      const hash = sha256(ks);
      failed(await keyroom([...withPass(), 'DescribeKey', '--KeyId', keyId]), 'IncorrectPassphrase');
      assert.equal(sha256(ks), hash, 'the failed open wrote nothing');
      // The new passphrase file ended with CRLF, which is not part of it.
      const described = ok<{ KeyMetadata: { KeyId: string; KeyState: string } }>(
        await keyroom(['DescribeKey', '--KeyId', keyId], { KEYROOM_KEYSTORE: ks, KEYROOM_PASSPHRASE: NEW_PASS }),
      );
      assert.equal(described.KeyMetadata.KeyState, 'Disabled');
    });

    it('BackupKeystore writes a copy that opens with the same passphrase, and refuses an existing file', async () => {
      const backup = nodePath.join(dir, 'backup.db');
      const made = ok<{ OutputFile: string; Sha256: string }>(
        await keyroom(['--keystore', ks, '--passphrase-file', newPassFile, 'BackupKeystore', '--OutputFile', backup]),
      );
      entries++;
      assert.equal(made.Sha256, sha256(backup));
      assert.equal(fs.statSync(backup).mode & 0o777, 0o600);

      const fromBackup = ok<{ KeyMetadata: { KeyId: string; KeyState: string; Description: string } }>(
        await keyroom(['--keystore', backup, '--passphrase-file', newPassFile, 'DescribeKey', '--KeyId', keyId]),
      );
      assert.equal(fromBackup.KeyMetadata.KeyState, 'Disabled');
      assert.equal(fromBackup.KeyMetadata.Description, 'cli round trip');

      const backupHash = sha256(backup);
      const mainHash = sha256(ks);
      failed(await keyroom(['--keystore', ks, '--passphrase-file', newPassFile, 'BackupKeystore', `--OutputFile=${backup}`]), 'AlreadyExists.File');
      assert.equal(sha256(backup), backupHash, 'the existing file is untouched');
      assert.equal(sha256(ks), mainHash, 'a refused backup writes no audit entry');
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.partial')), [], 'no temporary file left');
    });

    it('WrapKeyMaterial takes the public key and token as @file, prints the blob and the import command, and OpenSSL unwraps it', async () => {
      const auth = ['--keystore', ks, '--passphrase-file', newPassFile];
      const created = ok<{ KeyMetadata: { KeyId: string; Exportable: boolean } }>(
        await keyroom([...auth, 'CreateKey', '--KeySpec', 'AES_256', '--Exportable', 'true', '--Description', 'for the cloud']),
      );
      entries++;
      assert.equal(created.KeyMetadata.Exportable, true);
      const wrappingKey = nodePath.join(dir, 'aliyun-wrap.pem');
      execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', wrappingKey]);
      const publicDer = execFileSync('openssl', ['pkey', '-in', wrappingKey, '-pubout', '-outform', 'DER']);
      // As the Alibaba console hands it out: base64 of the DER, in a text file with a newline.
      const publicFile = nodePath.join(dir, 'PublicKey.txt');
      fs.writeFileSync(publicFile, `${publicDer.toString('base64')}\n`);
      const tokenFile = nodePath.join(dir, 'ImportToken.in');
      fs.writeFileSync(tokenFile, 'opaque-token-from-alibaba\n');
      const out = nodePath.join(dir, 'to-aliyun');
      fs.mkdirSync(out);
      const args = [...auth, 'WrapKeyMaterial', '--KeyId', created.KeyMetadata.KeyId, '--Target', 'ALIYUN', '--WrappingAlgorithm', 'RSAES_OAEP_SHA_256',
        '--PublicKey', `@${publicFile}`, '--ImportToken', `@${tokenFile}`, '--TokenExpireTime', String(Math.floor(Date.now() / 1000) + 86400),
        '--CloudKeyId', 'key-abc123', '--OutputDir', out];
      const r = ok<{ KeyId: string; EncryptedKeyMaterial: string; KeyCheckValue: string; PublicKeyFingerprint: string; Files: { File: string; Sha256: string }[]; ImportCommand: string }>(await keyroom(args));
      entries++;
      assert.equal(r.KeyId, created.KeyMetadata.KeyId);
      assert.equal(r.PublicKeyFingerprint, createHash('sha256').update(publicDer).digest('hex'));
      assert.equal(r.ImportCommand, 'aliyun kms ImportKeyMaterial --KeyId key-abc123 --EncryptedKeyMaterial "$(cat EncryptedKeyMaterial.txt)" --ImportToken "$(cat ImportToken.txt)" --KeyMaterialExpireUnix 0');
      assert.equal(fs.readFileSync(nodePath.join(out, 'ImportToken.txt'), 'utf8'), 'opaque-token-from-alibaba\n', 'the token is carried through');
      for (const f of r.Files) assert.equal(sha256(f.File), f.Sha256);
      const blob = nodePath.join(dir, 'blob.bin');
      fs.writeFileSync(blob, Buffer.from(r.EncryptedKeyMaterial, 'base64'));
      const material = execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', wrappingKey, '-in', blob, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
      assert.equal(material.length, 32);
      const kcv = execFileSync('openssl', ['enc', '-aes-256-ecb', '-nopad', '-K', material.toString('hex')], { input: Buffer.alloc(16) }).subarray(0, 3).toString('hex');
      assert.equal(r.KeyCheckValue, kcv);

      // The same command again: every file exists, so nothing is written and nothing audited.
      const before = fs.readdirSync(out).map((n) => sha256(nodePath.join(out, n)));
      failed(await keyroom(args), 'AlreadyExists.File');
      assert.deepEqual(fs.readdirSync(out).map((n) => sha256(nodePath.join(out, n))), before);
      // A key made without --Exportable never leaves, not even wrapped.
      failed(await keyroom([...auth, 'WrapKeyMaterial', '--KeyId', keyId, '--Target', 'ALIYUN', '--WrappingAlgorithm', 'RSAES_OAEP_SHA_256', '--PublicKey', `@${publicFile}`, '--OutputDir', out]), 'Rejected.NotExportable');
    });

    it('GenerateCsr writes a request OpenSSL verifies, from a template and an RFC 4514 subject', async () => {
      const auth = ['--keystore', ks, '--passphrase-file', newPassFile];
      const key = ok<{ KeyMetadata: { KeyId: string } }>(await keyroom([...auth, 'CreateKey', '--KeySpec', 'EC_SM2', '--KeyUsage', 'SIGN/VERIFY']));
      entries++;
      const file = nodePath.join(dir, 'server.csr');
      const r = ok<{ Csr: string; OutputFile: string; Sha256: string; Subject: string; SubjectAltNames: string[]; VerifyCommand: string }>(
        await keyroom([...auth, 'GenerateCsr', '--KeyId', key.KeyMetadata.KeyId, '--Subject', 'CN=sm2.example.cn,O=示例有限公司,C=CN', '--Template', 'tls-server', '--OutputFile', file]),
      );
      entries++;
      assert.equal(r.OutputFile, file);
      assert.equal(r.Sha256, sha256(file));
      assert.deepEqual(r.SubjectAltNames, ['DNS:sm2.example.cn']);
      assert.equal(r.VerifyCommand, `openssl req -in ${file} -verify -noout -vfyopt distid:1234567812345678`);
      const verified = execFileSync('openssl', ['req', '-in', file, '-verify', '-noout', '-vfyopt', 'distid:1234567812345678'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(verified, '');
      failed(await keyroom([...auth, 'GenerateCsr', '--KeyId', key.KeyMetadata.KeyId, '--Subject', 'CN=x,C=CHN']), 'InvalidParameter.Subject');
    });

    it('SignFile takes --File more than once and writes a signed manifest; VerifyFile says false with exit 0, and errors on a missing file', async () => {
      const auth = ['--keystore', ks, '--passphrase-file', newPassFile];
      const key = ok<{ KeyMetadata: { KeyId: string } }>(await keyroom([...auth, 'CreateKey', '--KeySpec', 'EC_P384', '--KeyUsage', 'SIGN/VERIFY']));
      entries++;
      const rel = nodePath.join(dir, 'release');
      fs.mkdirSync(rel);
      const a = nodePath.join(rel, 'a.tar.gz');
      const b = nodePath.join(rel, 'b.zip');
      fs.writeFileSync(a, randomBytes(100_000));
      fs.writeFileSync(b, randomBytes(7));
      const r = ok<{ Signatures: { File: string; SignatureFile: string; VerifyCommand: string }[]; Manifest: string; ManifestSignatureFile: string; PublicKeyFile: string }>(
        await keyroom([...auth, 'SignFile', '--KeyId', key.KeyMetadata.KeyId, '--Algorithm', 'ECDSA_SHA_384', '--File', a, '--File', b, '--Manifest', nodePath.join(rel, 'SHA384SUMS')]),
      );
      entries += 3;
      assert.deepEqual(r.Signatures.map((x) => x.File), [a, b]);
      for (const x of r.Signatures) assert.equal(execFileSync('sh', ['-c', x.VerifyCommand], { encoding: 'utf8' }).trim(), 'Verified OK');
      assert.match(execFileSync('sha384sum', ['-c', 'SHA384SUMS'], { cwd: rel, encoding: 'utf8' }), /a\.tar\.gz: OK\nb\.zip: OK/);
      execFileSync('openssl', ['dgst', '-sha384', '-verify', r.PublicKeyFile, '-signature', r.ManifestSignatureFile, r.Manifest]);

      const verify = (file: string, sig: string) => keyroom([...auth, 'VerifyFile', '--PublicKey', `@${r.PublicKeyFile}`, '--Algorithm', 'ECDSA_SHA_384', '--File', file, '--SignatureFile', sig]);
      assert.equal(ok<{ Value: boolean }>(await verify(a, `${a}.sig`)).Value, true);
      assert.equal(ok<{ Value: boolean }>(await verify(b, `${a}.sig`)).Value, false, 'a signature that does not verify: Value false, exit 0');
      failed(await verify(nodePath.join(rel, 'missing'), `${a}.sig`), 'InvalidParameter.InputFile');
    });
  });

  it('DigestFile needs no keystore: the digest OpenSSL gives; no OperationId; a bad file exits 1; app-only operations exit 2', async () => {
    const file = nodePath.join(dir, 'artifact.bin');
    fs.writeFileSync(file, randomBytes(3 * 1024 * 1024 + 17));
    const before = fs.readdirSync(dir).sort();
    const [sm3, sha384, withId, missing, login, cancel, help] = await keyroomAll([
      [['DigestFile', '--InputFile', file, '--Algorithm', 'SM3']],
      [['DigestFile', `--InputFile=${file}`, '--Algorithm=SHA_384']],
      [['DigestFile', '--InputFile', file, '--Algorithm', 'SM3', '--OperationId', '00000000-0000-4000-8000-000000000001']],
      [['DigestFile', '--InputFile', nodePath.join(dir, 'no-such-artifact'), '--Algorithm', 'SM3']],
      [['LoginToken']],
      [['CancelOperation', '--OperationId', '00000000-0000-4000-8000-000000000001']],
      [['DigestFile', '--help']],
    ]);
    assert.ok(sm3 && sha384 && withId && missing && login && cancel && help);
    const digestOf = (flag: string) => execFileSync('openssl', ['dgst', flag, '-r', file], { encoding: 'utf8' }).split(' ')[0];
    assert.deepEqual(ok(sm3), { InputFile: file, Size: 3 * 1024 * 1024 + 17, Algorithm: 'SM3', Digest: digestOf('-sm3'), RequestId: ok(sm3).RequestId });
    assert.equal(ok<{ Digest: string }>(sha384).Digest, digestOf('-sha384'));
    assert.match(failed(withId, 'InvalidParameter', 2).Message, /no parameter --OperationId/);
    assert.match(failed(missing, 'InvalidParameter.InputFile').Message, /no-such-artifact/);
    for (const r of [login, cancel]) assert.match(failed(r, 'InvalidParameter', 2).Message, /for the app only/);
    assert.equal(help.code, 0, show(help));
    assert.ok(help.stdout.includes('--InputFile <value>') && help.stdout.includes('--Algorithm <value>'), help.stdout);
    assert.ok(!help.stdout.includes('OperationId'), help.stdout);
    assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing written');
    assert.deepEqual(fs.readdirSync(xdg), [], 'no keystore opened or made');
  });

  it('no secret appears on stdout or stderr of any call', () => {
    assert.ok(runs.length > 30, `all runs recorded (${runs.length})`);
    for (const r of runs) {
      for (const secret of SECRETS) {
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `a secret appeared in the output of\n${show(r)}`);
      }
      if (r.code !== 0) assert.ok(!r.stderr.includes('first line'), `the plaintext appeared in an error\n${show(r)}`);
    }
  });

  it('a stray positional after a secret-taking operation is not echoed on stderr', async () => {
    const r = await keyroom(['--keystore', nodePath.join(dir, 'stray.db'), 'InitKeystore', ARG_SECRET]);
    failed(r, 'InvalidParameter', 2);
    assert.ok(!r.stderr.includes(ARG_SECRET), r.stderr);
  });

  it('@file for a base64 Plaintext (AsymmetricEncrypt) is trimmed like every other base64 value', () => {
    const file = nodePath.join(dir, 'plain.b64');
    fs.writeFileSync(file, `${Buffer.from('hello').toString('base64')}\n`);
    const cmd = parseCommandLine([
      'AsymmetricEncrypt', '--KeyId', 'alias/rsa', '--KeyVersionId', '00000000-0000-4000-8000-000000000000',
      '--Algorithm', 'RSAES_OAEP_SHA_256', '--Plaintext', `@${file}`,
    ]);
    assert.equal(cmd.kind, 'run');
    if (cmd.kind === 'run') assert.equal(cmd.params.Plaintext, 'aGVsbG8=');
  });
});
