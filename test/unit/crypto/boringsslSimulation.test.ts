/**
 * The software backend where node:crypto lacks SM3, SM4, secp256k1 and SM2, as Electron's
 * BoringSSL does: a child process runs with ./boringssl/preload.ts (which makes node:crypto refuse
 * exactly those) and drives the KMS through the operations that need the fallbacks; everything it
 * produced is then checked here with real OpenSSL (this process's node:crypto and the `openssl`
 * command). The Electron binary itself is absent on the machines that run the tests.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseBlob } from '../../../src-main/crypto/ciphertextBlob';
import { sm4GcmDecrypt } from '../../../src-main/crypto/sm4gcm';
import { eciesDecrypt } from '../../../src-main/crypto/ecies';
import { ecScalarFromPkcs8 } from '../../../src-main/crypto/keyEncoding';
import { canonicalEncryptionContext } from '../../../src-shared/encryptionContext';
import { Scratch, openssl, opensslOk, pkcs8DerToPem } from '../../support/openssl';

interface KeyReport {
  pem: string;
  pkcs8: string;
}
interface Report {
  byok: Record<string, boolean>;
  simulated: { sm3Listed: boolean; secp256k1Listed: boolean; sm3Throws: boolean };
  providers: { sm3: string; sm4: string; ecdh: Record<string, string>; keygen: Record<string, string> };
  message: string;
  sm4: { blob: string; material: string; decrypted: string };
  k1Sign: KeyReport & { signature: string; verified: boolean };
  sm2Sign: KeyReport & { signature: string };
  k1Ecies: KeyReport & { ciphertext: string; plaintext: string };
  sm2Pke: KeyReport & { ciphertext: string; plaintext: string };
}

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const fromB64 = (s: string): Buffer => Buffer.from(s, 'base64');

describe('the software backend without SM3, SM4, secp256k1 and SM2 in node:crypto (BoringSSL stand-in)', () => {
  let report: Report;
  let message: Buffer;
  let scratch: Scratch;

  before(() => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--import', here('./boringssl/preload.ts'), here('./boringssl/child.ts')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    report = JSON.parse(out) as Report;
    message = fromB64(report.message);
    scratch = new Scratch();
  });

  after(() => scratch?.remove());

  it('the stand-in hides them, and every module chose its fallback', () => {
    assert.deepEqual(report.simulated, { sm3Listed: false, secp256k1Listed: false, sm3Throws: true });
    assert.deepEqual(report.providers, {
      sm3: 'js',
      sm4: 'js',
      ecdh: { prime256v1: 'openssl', secp256k1: 'noble' },
      keygen: { prime256v1: 'openssl', secp256k1: 'noble', secp384r1: 'openssl', SM2: 'noble' },
    });
  });

  it('BYOK wraps SM2, SM4 and secp256k1 material and a rehearsal unwraps it to the same KCV', () => {
    assert.equal(Object.keys(report.byok).length, 6);
    for (const [row, matches] of Object.entries(report.byok)) assert.equal(matches, true, row);
  });

  it('SM4 Encrypt made a blob that OpenSSL\'s SM4 opens', () => {
    assert.equal(report.sm4.decrypted, message.toString('utf8'));
    const blob = parseBlob(fromB64(report.sm4.blob));
    const aad = Buffer.concat([blob.header, Buffer.from(canonicalEncryptionContext({ purpose: 'test' }), 'utf8')]);
    const plaintext = sm4GcmDecrypt(fromB64(report.sm4.material), blob.iv, blob.ciphertext, blob.tag, aad, 'openssl');
    assert.deepEqual(plaintext, message);
  });

  it('an EC_P256K key made without OpenSSL signs what `openssl dgst -verify` accepts', () => {
    const { pem, pkcs8, signature, verified } = report.k1Sign;
    assert.equal(verified, true);
    const keyCheck = opensslOk(['ec', '-check', '-noout', '-in', scratch.file('k1.pem', pkcs8DerToPem(fromB64(pkcs8)))]);
    assert.ok(keyCheck.ok, keyCheck.output);
    const ok = opensslOk([
      'dgst', '-sha256', '-verify', scratch.file('k1.pub.pem', pem),
      '-signature', scratch.file('k1.sig', fromB64(signature)), scratch.file('msg.bin', message),
    ]);
    assert.ok(ok.ok, ok.output);
  });

  it('an EC_SM2 key made without OpenSSL signs (over the JS SM3) what `openssl dgst -sm3 -verify` accepts', () => {
    const { pem, signature } = report.sm2Sign;
    const ok = opensslOk([
      'dgst', '-sm3', '-verify', scratch.file('sm2.pub.pem', pem), '-sigopt', 'distid:1234567812345678',
      '-signature', scratch.file('sm2.sig', fromB64(signature)), scratch.file('msg.bin', message),
    ]);
    assert.ok(ok.ok, ok.output);
  });

  it('ECIES on secp256k1 with noble ECDH decrypts with OpenSSL\'s ECDH', () => {
    const { pkcs8, ciphertext, plaintext } = report.k1Ecies;
    assert.deepEqual(fromB64(plaintext), message);
    const d = ecScalarFromPkcs8(fromB64(pkcs8), 32);
    assert.deepEqual(eciesDecrypt('secp256k1', d, fromB64(ciphertext), 'openssl'), message);
  });

  it('SM2PKE (over the JS SM3) decrypts with `openssl pkeyutl`', () => {
    const { pkcs8, ciphertext, plaintext } = report.sm2Pke;
    assert.deepEqual(fromB64(plaintext), message);
    const back = openssl([
      'pkeyutl', '-decrypt', '-inkey', scratch.file('sm2enc.pem', pkcs8DerToPem(fromB64(pkcs8))),
      '-in', scratch.file('sm2.ct', fromB64(ciphertext)),
    ]);
    assert.deepEqual(back, message);
  });
});
