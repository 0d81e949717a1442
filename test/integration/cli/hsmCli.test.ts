/**
 * The command line against a real SoftHSM2 token: ListTokens, an HSM key created and used with
 * the PIN from a file, its signature judged by OpenSSL, and the token's errors as the CLI prints them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { makeSoftHsm, type SoftHsm } from '../../support/softhsm';
import { opensslOk } from '../../support/openssl';
import { KEYROOM_BIN as BIN, assertFreshCliBundle } from '../../support/keyroomCli';

describe('keyroom with an HSM', () => {
  let hsm: SoftHsm;
  let args: string[];
  let env: NodeJS.ProcessEnv;
  const run = (argv: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [BIN, ...argv], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: r.status === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
  };

  before(() => {
    assertFreshCliBundle();
    hsm = makeSoftHsm('ceremony');
    const pass = join(hsm.dir, 'pass');
    const pin = join(hsm.dir, 'pin');
    writeFileSync(pass, 'correct horse battery staple\n');
    writeFileSync(pin, `${hsm.pin}\n`);
    env = { PATH: process.env.PATH, HOME: hsm.dir, SOFTHSM2_CONF: hsm.conf };
    args = ['--keystore', join(hsm.dir, 'ks.db'), '--passphrase-file', pass, '--pkcs11-module', hsm.modulePath, '--token', 'ceremony', '--pin-file', pin];
    assert.equal(run([...args, 'InitKeystore']).status, 0);
  });
  after(() => hsm.cleanup());

  it('ListTokens shows the token, its flags and mechanisms, without a keystore or PIN', () => {
    const r = run(['ListTokens'], { KEYROOM_PKCS11_MODULE: hsm.modulePath });
    assert.equal(r.status, 0, r.stderr);
    const tokens = r.json!.Tokens as { Label: string; SerialNumber: string; Flags: { LoginRequired: boolean }; Mechanisms: string[] }[];
    const t = tokens.find((x) => x.Label === 'ceremony');
    assert.ok(t);
    assert.equal(t.SerialNumber, hsm.serial);
    assert.equal(t.Flags.LoginRequired, true);
    assert.ok(t.Mechanisms.includes('ECDSA'), t.Mechanisms.join(','));
  });

  it('creates an HSM key, signs inside the token, and OpenSSL verifies the signature', () => {
    const key = run([...args, 'CreateKey', '--KeySpec', 'EC_P256', '--KeyUsage', 'SIGN/VERIFY', '--ProtectionLevel', 'HSM']);
    assert.equal(key.status, 0, key.stderr);
    const meta = key.json!.KeyMetadata as { KeyId: string; ProtectionLevel: string };
    assert.equal(meta.ProtectionLevel, 'HSM');
    const versions = run([...args, 'ListKeyVersions', '--KeyId', meta.KeyId]).json!.KeyVersions as { KeyVersion: { KeyVersionId: string }[] };
    const v = versions.KeyVersion[0]!.KeyVersionId;
    const msg = join(hsm.dir, 'release.tar');
    writeFileSync(msg, 'release 1.0');
    const digest = createHash('sha256').update('release 1.0').digest('base64');
    const sig = run([...args, 'AsymmetricSign', `--KeyId=${meta.KeyId}`, `--KeyVersionId=${v}`, '--Algorithm', 'ECDSA_SHA_256', '--Digest', digest]);
    assert.equal(sig.status, 0, sig.stderr);
    const pub = run([...args, 'GetPublicKey', '--KeyId', meta.KeyId, '--KeyVersionId', v]).json!.PublicKey as string;
    writeFileSync(join(hsm.dir, 'pub.pem'), pub);
    writeFileSync(join(hsm.dir, 'sig'), Buffer.from(sig.json!.Value as string, 'base64'));
    const verdict = opensslOk(['dgst', '-sha256', '-verify', join(hsm.dir, 'pub.pem'), '-signature', join(hsm.dir, 'sig'), msg]);
    assert.ok(verdict.ok, verdict.output);
  });

  it('reports a wrong PIN, an absent token and a missing module as the token\'s errors, never echoing the PIN', () => {
    const badPin = join(hsm.dir, 'bad-pin');
    writeFileSync(badPin, '99999999');
    const wrong = run([...args.slice(0, -2), '--pin-file', badPin, 'CreateKey', '--ProtectionLevel', 'HSM']);
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stdout, '');
    const e = JSON.parse(wrong.stderr) as { Code: string; Message: string };
    assert.equal(e.Code, 'Hsm.PinIncorrect');
    assert.match(e.Message, /CKR_PIN_INCORRECT/);
    assert.ok(!wrong.stderr.includes('99999999'));
    const absent = run([...args.map((a) => (a === 'ceremony' ? 'no-such-token' : a)), 'CreateKey', '--ProtectionLevel', 'HSM']);
    assert.equal((JSON.parse(absent.stderr) as { Code: string }).Code, 'Hsm.TokenNotPresent');
    const missing = run(['ListTokens', '--pkcs11-module', '/nonexistent/libpkcs11.so']);
    assert.equal(missing.status, 1);
    const m = JSON.parse(missing.stderr) as { Code: string; Message: string };
    assert.equal(m.Code, 'Hsm.ModuleNotFound');
    assert.match(m.Message, /\/nonexistent\/libpkcs11\.so/);
  });
});
