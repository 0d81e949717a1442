/**
 * The ED25519 key spec end to end, SOFTWARE and in a real SoftHSM token (CKM_EC_EDWARDS_KEY_PAIR_GEN,
 * CKM_EDDSA): CreateKey, GetPublicKey, ExportPublicKey, AsymmetricSign/Verify over a Message,
 * GenerateCsr (RFC 8410) and raw SignFile/VerifyFile, each artifact checked by OpenSSL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstVersionOf, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, openHsmHarnessOn, type SoftHsm } from '../../support/softhsm';
import { Scratch, opensslOk } from '../../support/openssl';
import type { Pkcs11Backend } from '../../../src-main/backends/pkcs11/pkcs11Backend';

let hsm: SoftHsm;
let h: Harness & { backend: Pkcs11Backend };
let s: Scratch;

before(async () => {
  hsm = makeSoftHsm('ed25519-test');
  h = await openHsmHarnessOn(hsm);
  s = new Scratch();
});

after(async () => {
  await h.close();
  await h.backend.close();
  s.remove();
  hsm.cleanup();
});

for (const level of ['SOFTWARE', 'HSM'] as const) {
  describe(`ED25519 ${level}`, () => {
    let keyId = '';
    let versionId = '';
    let pubPem = '';

    it('CreateKey makes a sign-only key whose public key is RFC 8410 SPKI', async () => {
      const r = await h.call('CreateKey', { KeySpec: 'ED25519', ProtectionLevel: level });
      assert.equal(r.KeyMetadata.KeyUsage, 'SIGN/VERIFY');
      keyId = r.KeyMetadata.KeyId;
      versionId = await firstVersionOf(h, keyId);
      pubPem = (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey;
      const der = Buffer.from(pubPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      assert.equal(der.length, 44);
      assert.equal(der.subarray(0, 12).toString('hex'), '302a300506032b6570032100');
      await h.refuse('CreateKey', { KeySpec: 'ED25519', KeyUsage: 'ENCRYPT/DECRYPT', ProtectionLevel: level }, 'InvalidParameter.KeyUsage');
    });

    it('AsymmetricSign takes the Message, OpenSSL verifies it; a Digest is refused', async () => {
      const pub = s.file(`${level}.pub.pem`, pubPem);
      for (const len of [0, 1, 100, 4096]) {
        const msg = randomBytes(len);
        const r = await h.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ED25519', Message: msg.toString('base64') });
        const sig = Buffer.from(r.Value, 'base64');
        assert.equal(sig.length, 64);
        const m = s.file(`${level}-${len}.msg`, msg);
        const sf = s.file(`${level}-${len}.sig`, sig);
        // OpenSSL 3.0's pkeyutl cannot read an empty -rawin input ("Could not allocate 0 bytes").
        if (len > 0) {
          const v = opensslOk(['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', m, '-sigfile', sf]);
          assert.ok(v.ok, v.output);
        }
        const ok = await h.call('AsymmetricVerify', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ED25519', Message: msg.toString('base64'), Value: r.Value });
        assert.equal(ok.Value, true);
        const other = len === 0 ? Buffer.from([1]) : Buffer.from(msg.map((x, i) => (i === 0 ? x ^ 1 : x)));
        const bad = await h.call('AsymmetricVerify', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ED25519', Message: other.toString('base64'), Value: r.Value });
        assert.equal(bad.Value, false);
      }
      const e = await h.refuse('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ED25519', Digest: randomBytes(64).toString('base64') }, 'InvalidParameter.Digest');
      assert.match(e.Message, /message itself.*Message/);
      const big = await h.refuse('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ED25519', Message: randomBytes(4097).toString('base64') }, 'InvalidParameter');
      assert.match(big.Message, /4097 bytes.*at most 4096/);
      await h.refuse('AsymmetricSign', { KeyId: keyId, KeyVersionId: versionId, Algorithm: 'ECDSA_SHA_256', Digest: randomBytes(32).toString('base64') }, 'Rejected.Algorithm');
    });

    it('ExportPublicKey writes the PEM, DER, SSH, MINISIGN and SIGNIFY forms, each read by its tool', async () => {
      const out = join(s.dir, `${level}-export.pem`);
      const pem = await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: out });
      assert.equal(readFileSync(out, 'utf8'), pubPem);
      const der = join(s.dir, `${level}-export.der`);
      const d = await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: der, Format: 'DER' });
      assert.equal(d.Fingerprint, pem.Fingerprint);
      assert.equal(opensslOk(['pkey', '-pubin', '-inform', 'DER', '-in', der, '-noout']).ok, true);
      const ssh = join(s.dir, `${level}-export.ssh.pub`);
      await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: ssh, Format: 'SSH' });
      assert.match(execSync(`ssh-keygen -l -f '${ssh}'`, { encoding: 'utf8' }), /^256 SHA256:\S+ keyroom:\S+ \(ED25519\)/);
      const mini = join(s.dir, `${level}-export.minisign.pub`);
      await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: mini, Format: 'MINISIGN' });
      assert.match(readFileSync(mini, 'utf8'), /^untrusted comment: minisign public key [0-9A-F]{16}\nRW[A-Za-z0-9+/]{54}\n$/);
      const sig = join(s.dir, `${level}-export.signify.pub`);
      await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: sig, Format: 'SIGNIFY' });
      assert.equal(readFileSync(sig, 'utf8').split('\n')[1], readFileSync(mini, 'utf8').split('\n')[1]);
      // OPENPGP's certificate names its User ID: without one it is refused, and nothing is written.
      const e = await h.refuse('ExportPublicKey', { KeyId: keyId, KeyVersionId: versionId, OutputFile: join(s.dir, `${level}-x.asc`), Format: 'OPENPGP' }, 'MissingParameter');
      assert.match(e.Message, /--OpenPgpUserId/);
      assert.equal(existsSync(join(s.dir, `${level}-x.asc`)), false);
    });

    it('GenerateCsr: Ed25519 in PKCS#10 (RFC 8410), openssl req -verify', async () => {
      const r = await h.call('GenerateCsr', { KeyId: keyId, Subject: `CN=ed25519 ${level},O=Example` });
      assert.equal(r.Algorithm, 'ED25519');
      const f = s.file(`${level}.csr`, r.Csr);
      const v = opensslOk(['req', '-in', f, '-verify', '-noout', '-text']);
      assert.ok(v.ok, v.output);
      assert.match(v.output, /Signature Algorithm: ED25519/);
      // The AlgorithmIdentifier is the bare OID, parameters absent: 30 05 06 03 2b 65 70.
      const der = Buffer.from(r.Csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      assert.ok(der.includes(Buffer.from('300506032b6570034100', 'hex')), 'signatureAlgorithm without parameters, then a 64-byte BIT STRING');
    });

    it('SignFile raw signs the whole file; the printed openssl command verifies; VerifyFile agrees', async () => {
      const dir = join(s.dir, `files-${level}`);
      mkdirSync(dir);
      const a = join(dir, 'release 1.0.tar.gz');
      const b = join(dir, 'empty.bin');
      writeFileSync(a, randomBytes(3 * 1024 * 1024 + 5));
      writeFileSync(b, Buffer.alloc(0));
      const r = await h.call('SignFile', { KeyId: keyId, Algorithm: 'ED25519', File: [a, b], Manifest: join(dir, 'SHA256SUMS') });
      for (const sig of r.Signatures) {
        assert.match(sig.VerifyCommand, /^openssl pkeyutl -verify -pubin -inkey .* -rawin -in .* -sigfile /);
        // OpenSSL 3.0's pkeyutl cannot read an empty file; Keyroom's own check below covers it.
        if (sig.Size > 0) assert.match(execSync(sig.VerifyCommand, { encoding: 'utf8' }), /Signature Verified Successfully/);
        const v = await h.call('VerifyFile', { KeyId: keyId, Algorithm: 'ED25519', File: sig.File, SignatureFile: sig.SignatureFile });
        assert.equal(v.Value, true);
        assert.equal(v.Digest, sig.Digest);
      }
      const m = opensslOk(['pkeyutl', '-verify', '-pubin', '-inkey', r.PublicKeyFile, '-rawin', '-in', r.Manifest!, '-sigfile', r.ManifestSignatureFile!]);
      assert.ok(m.ok, m.output);
      assert.match(execSync('sha256sum -c SHA256SUMS', { cwd: dir, encoding: 'utf8' }), /release 1\.0\.tar\.gz: OK/);
      // One byte changed: both OpenSSL and VerifyFile refuse.
      const bytes = readFileSync(a);
      bytes[1000]! ^= 0x01;
      writeFileSync(a, bytes);
      assert.equal(opensslOk(['pkeyutl', '-verify', '-pubin', '-inkey', r.PublicKeyFile, '-rawin', '-in', a, '-sigfile', `${a}.sig`]).ok, false);
      assert.equal((await h.call('VerifyFile', { KeyId: keyId, Algorithm: 'ED25519', File: a, SignatureFile: `${a}.sig` })).Value, false);
      // The PEM from outside works too.
      assert.equal((await h.call('VerifyFile', { PublicKey: pubPem, Algorithm: 'ED25519', File: b, SignatureFile: `${b}.sig` })).Value, true);
    });

    it('a raw Ed25519 file over 64 MiB is refused before anything is signed, pointing to the prehashed formats', async () => {
      const dir = join(s.dir, `big-${level}`);
      mkdirSync(dir);
      const big = join(dir, 'big.img');
      writeFileSync(big, '');
      truncateSync(big, 64 * 1024 * 1024 + 1);
      const e = await h.refuse('SignFile', { KeyId: keyId, Algorithm: 'ED25519', File: big }, 'InvalidParameter.InputFile');
      assert.match(e.Message, /64 MiB.*prehashed format.*minisign/);
    });
  });
}
