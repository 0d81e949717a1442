/**
 * SignFile --Format ssh / minisign / signify / openpgp / cosign / jws (and raw beside them),
 * SOFTWARE and HSM keys, each signature checked by the reference verifier with the exact command
 * SignFile printed: `ssh-keygen -Y verify`, `minisign -V`, `signify-openbsd -C`, `sqv`, `openssl`
 * (raw, and cosign's bare signature); JWS by test/support/jwsVerifier.ts (no shared code). One changed byte makes
 * each refuse. The pitfalls as tests: Ed25519 R or S with a leading zero byte (found by searching
 * file contents, Ed25519 being deterministic), ECDSA mpints with the high bit set.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstVersionOf, materialOf, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, openHsmHarnessOn, type SoftHsm } from '../../support/softhsm';
import { Scratch } from '../../support/openssl';
import type { Pkcs11Backend } from '../../../src-main/backends/pkcs11/pkcs11Backend';
import { ed25519Sign } from '../../../src-main/crypto/ed25519';
import { sshsigSignedData, parseSshsig, parseEcdsaSigBody } from '../../../src-main/formats/sshsig/sshsig';
import { createBlake2b512 } from '../../../src-main/crypto/blake2b';
import { verifyDetachedJws } from '../../support/jwsVerifier';

let hsm: SoftHsm;
let h: Harness & { backend: Pkcs11Backend };
let s: Scratch;

before(async () => {
  hsm = makeSoftHsm('formats-test');
  h = await openHsmHarnessOn(hsm);
  s = new Scratch();
});

after(async () => {
  await h.close();
  await h.backend.close();
  s.remove();
  hsm.cleanup();
});

function sh(command: string): { ok: boolean; output: string } {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/**
 * The formats each spec can make, written out here from spec/signatures.md, not from the registry.
 * Ed25519 twice: raw's SHA256SUMS and signify's SHA256 cannot share one --Manifest.
 */
const CAN: [string, string[]][] = [
  ['RSA_3072', ['raw', 'ssh', 'openpgp', 'cosign', 'jws']],
  ['EC_P256', ['raw', 'ssh', 'openpgp', 'cosign', 'jws']],
  ['EC_P384', ['raw', 'ssh', 'openpgp', 'jws']],
  ['ED25519', ['raw', 'ssh', 'minisign', 'openpgp', 'jws']],
  ['ED25519', ['ssh', 'minisign', 'signify']],
];

const OK_OUTPUT: Record<string, RegExp> = {
  raw: /Verified OK|Signature Verified Successfully/,
  ssh: /Good "file" signature for /,
  minisign: /Signature and comment signature verified/,
  signify: /: OK/,
  openpgp: /^[0-9A-F]{40}$/m,
  cosign: /Verified OK/,
};

const USER_ID = 'Release Team <release@example.org>';

/** JWS has no common command-line verifier: the independent one in test/support, with the JWK SignFile wrote. */
async function jwsOk(r: { PublicKeyFiles: string[] }, sig: { File: string; SignatureFile: string }): Promise<boolean> {
  const jwk = JSON.parse(readFileSync(r.PublicKeyFiles.find((p) => p.endsWith('.jwk.json'))!, 'utf8')) as { kty: string };
  return verifyDetachedJws(readFileSync(sig.SignatureFile, 'utf8'), jwk, readFileSync(sig.File));
}

async function newKey(spec: string, level: string): Promise<string> {
  return (await h.call('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', ProtectionLevel: level })).KeyMetadata.KeyId;
}

for (const level of ['SOFTWARE', 'HSM'] as const) {
  describe(`SignFile --Format, ${level} keys`, () => {
    for (const [spec, formats] of CAN) {
      it(`${spec}: ${formats.join(', ')} in one call, each verified by its own tool; one changed byte fails each`, async () => {
        const keyId = await newKey(spec, level);
        const dir = join(s.dir, `${level}-${spec}-${formats.join('-')}`);
        mkdirSync(dir);
        const files = [join(dir, 'app-1.0.tar.gz'), join(dir, 'notes 1.0.txt')];
        writeFileSync(files[0]!, randomBytes(2 * 1024 * 1024 + 7));
        writeFileSync(files[1]!, 'release notes\n');
        const manifest = formats.includes('signify') ? join(dir, 'SHA256') : undefined;
        // signify and raw's manifest cannot share --Manifest: raw signs files only here.
        const userId = formats.includes('openpgp') ? { OpenPgpUserId: USER_ID } : {};
        const r = await h.call('SignFile', { KeyId: keyId, File: files, Format: formats, ...userId, ...(manifest ? { Manifest: manifest } : {}) });
        assert.deepEqual([...new Set(r.Signatures.map((x) => x.Format))], formats);
        assert.equal(r.Signatures.length, formats.length * files.length);
        for (const sig of r.Signatures) {
          if (sig.Format === 'jws') {
            assert.equal(await jwsOk(r, sig), true, sig.SignatureFile);
            continue;
          }
          const v = sh(sig.VerifyCommand);
          assert.ok(v.ok && OK_OUTPUT[sig.Format]!.test(v.output), `${sig.VerifyCommand}\n${v.output}`);
        }
        if (formats.includes('openpgp')) {
          // gpg too, in a fresh home: it imports the certificate with its User ID and accepts the signature.
          const home = join(dir, 'gnupg');
          mkdirSync(home, { mode: 0o700 });
          const asc = r.PublicKeyFiles.find((p) => p.endsWith('.pgp.asc'))!;
          const sig = r.Signatures.find((x) => x.Format === 'openpgp')!;
          const g = sh(`GNUPGHOME=${home} gpg --batch --import ${asc} && GNUPGHOME=${home} gpg --batch --verify ${sig.SignatureFile} '${sig.File}'`);
          assert.ok(g.ok && /Good signature from "Release Team <release@example.org>"/.test(g.output), g.output);
          // ExportPublicKey OPENPGP is the same key: sqv accepts the signature with it.
          const exported = join(dir, 'exported.pgp.asc');
          await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: await firstVersionOf(h, keyId), OutputFile: exported, Format: 'OPENPGP', OpenPgpUserId: USER_ID });
          assert.ok(sh(`sqv --keyring ${exported} ${sig.SignatureFile} '${sig.File}'`).ok);
        }
        if (formats.includes('jws')) {
          const exported = join(dir, 'exported.jwk.json');
          await h.call('ExportPublicKey', { KeyId: keyId, KeyVersionId: await firstVersionOf(h, keyId), OutputFile: exported, Format: 'JWK' });
          assert.equal(readFileSync(exported, 'utf8'), readFileSync(r.PublicKeyFiles.find((p) => p.endsWith('.jwk.json'))!, 'utf8'));
        }
        if (manifest) {
          assert.equal(readFileSync(manifest, 'utf8'), files.map((f) => `SHA256 (${f.slice(dir.length + 1)}) = ${createHash('sha256').update(readFileSync(f)).digest('hex')}\n`).join(''));
        }
        // The audit names each signature's format, file and digest.
        const audit = await h.call('ListAuditEvents', { Operation: 'SignFile', PageSize: 100 });
        const mine = audit.Events.filter((e: { RequestId: string }) => e.RequestId === r.RequestId);
        assert.ok(mine.length >= formats.length, JSON.stringify(mine));
        for (const f of formats) assert.ok(mine.some((e: { Details: Record<string, unknown> }) => e.Details.Format === f && typeof e.Details.Digest === 'string'), f);

        // VerifyFile --Format agrees, with the keystore key and with the PEM from outside.
        const pem = (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: await firstVersionOf(h, keyId) })).PublicKey;
        for (const sig of r.Signatures) {
          const v = await h.call('VerifyFile', { KeyId: keyId, Format: sig.Format, File: sig.File, SignatureFile: sig.SignatureFile });
          assert.equal(v.Value, true, `${sig.Format} ${sig.File}`);
          assert.equal(v.Digest, sig.Digest);
          // An OpenPGP key carries its creation time, which a PEM lacks: refused, not guessed.
          if (sig.Format === 'openpgp') await h.refuse('VerifyFile', { PublicKey: pem, Format: sig.Format, File: sig.File, SignatureFile: sig.SignatureFile }, 'InvalidParameter');
          else if (sig.Format !== 'raw') assert.equal((await h.call('VerifyFile', { PublicKey: pem, Format: sig.Format, File: sig.File, SignatureFile: sig.SignatureFile })).Value, true);
        }
        // A trailing byte on a signature file: Keyroom refuses it, as the reference tools do.
        for (const sig of r.Signatures.filter((x) => x.File === files[1] && x.Format !== 'signify')) {
          const tampered = join(dir, `tampered.${sig.Format}`);
          writeFileSync(tampered, Buffer.concat([readFileSync(sig.SignatureFile), Buffer.from('A')]));
          // OpenPGP armor may sit in other text: Keyroom answers as sqv does, whatever that is.
          const expected = sig.Format === 'openpgp' ? sh(sig.VerifyCommand.replace(sig.SignatureFile, tampered)).ok : false;
          assert.equal((await h.call('VerifyFile', { KeyId: keyId, Format: sig.Format, File: sig.File, SignatureFile: tampered })).Value, expected, sig.Format);
        }

        // One byte changed: every verifier refuses, and so does VerifyFile.
        const bytes = readFileSync(files[0]!);
        bytes[12345]! ^= 0x80;
        writeFileSync(files[0]!, bytes);
        for (const sig of r.Signatures.filter((x) => x.File === files[0])) {
          if (sig.Format === 'jws') assert.equal(await jwsOk(r, sig), false);
          else {
            const v = sh(sig.VerifyCommand);
            assert.equal(v.ok, false, `${sig.Format} accepted a changed file: ${v.output}`);
          }
          assert.equal((await h.call('VerifyFile', { KeyId: keyId, Format: sig.Format, File: sig.File, SignatureFile: sig.SignatureFile })).Value, false, sig.Format);
        }
      });
    }

    it('refusals before anything is signed: a format the key cannot make, signify without a manifest, an empty namespace, a bad User ID, openpgp without its User ID', async () => {
      const ec = await newKey('EC_P256', level);
      const ed = await newKey('ED25519', level);
      const dir = join(s.dir, `${level}-refuse`);
      mkdirSync(dir);
      const f = join(dir, 'a.bin');
      writeFileSync(f, 'a');
      const e1 = await h.refuse('SignFile', { KeyId: ec, File: f, Format: ['ssh', 'minisign'] }, 'Rejected.KeySpec');
      assert.match(e1.Message, /minisign format cannot sign with a EC_P256 key; the formats that can are raw, .*ssh/);
      const e2 = await h.refuse('SignFile', { KeyId: ed, File: f, Format: 'signify' }, 'MissingParameter');
      assert.match(e2.Message, /--Manifest/);
      await h.refuse('SignFile', { KeyId: ed, File: f, Format: 'ssh', SshNamespace: '' }, 'InvalidParameter');
      await h.refuse('SignFile', { KeyId: ed, File: f, Format: 'ssh', OpenPgpUserId: 'just a name' }, 'InvalidParameter');
      const e3 = await h.refuse('SignFile', { KeyId: ed, File: f, Format: ['ssh', 'openpgp'] }, 'MissingParameter');
      assert.match(e3.Message, /--OpenPgpUserId/);
      const e4 = await h.refuse('SignFile', { KeyId: ed, File: f, Format: 'cosign' }, 'Rejected.KeySpec');
      assert.match(e4.Message, /cosign format cannot sign with a ED25519 key/);
      await h.refuse('SignFile', { KeyId: ed, File: f, Format: ['raw', 'signify'], Manifest: join(dir, 'SHA256') }, 'InvalidParameter');
      // An existing output name: nothing is signed, nothing written.
      writeFileSync(`${f}.minisig`, 'there');
      await h.refuse('SignFile', { KeyId: ed, File: f, Format: ['ssh', 'minisign'] }, 'AlreadyExists.File');
      assert.equal(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.trim().split('\n').sort().join(','), 'a.bin,a.bin.minisig');
    });

    it('openpgp twice into one folder: the .pgp.asc of the same key is kept (an EC certification differs each time), another key refused', async () => {
      const keyId = await newKey('EC_P256', level);
      const dir = join(s.dir, `${level}-pgp-again`);
      mkdirSync(dir);
      const [a, b] = [join(dir, 'a.txt'), join(dir, 'b.txt')];
      writeFileSync(a, 'a');
      writeFileSync(b, 'b');
      const r1 = await h.call('SignFile', { KeyId: keyId, File: a, Format: 'openpgp', OpenPgpUserId: USER_ID });
      const asc = r1.PublicKeyFiles[0]!;
      const first = readFileSync(asc, 'utf8');
      const r2 = await h.call('SignFile', { KeyId: keyId, File: b, Format: 'openpgp', OpenPgpUserId: USER_ID });
      assert.equal(readFileSync(asc, 'utf8'), first);
      const v = sh(r2.Signatures[0]!.VerifyCommand);
      assert.ok(v.ok, v.output);
      writeFileSync(asc, first.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA'));
      writeFileSync(join(dir, 'c.txt'), 'c');
      await h.refuse('SignFile', { KeyId: keyId, File: join(dir, 'c.txt'), Format: 'openpgp', OpenPgpUserId: USER_ID }, 'AlreadyExists.File');
    });

    it('ssh with --SshNamespace: ssh-keygen checks the namespace', async () => {
      const keyId = await newKey('ED25519', level);
      const dir = join(s.dir, `${level}-ns`);
      mkdirSync(dir);
      const f = join(dir, 'x.txt');
      writeFileSync(f, 'x');
      const r = await h.call('SignFile', { KeyId: keyId, File: f, Format: 'ssh', SshNamespace: 'release@example.org' });
      const sig = r.Signatures[0]!;
      assert.ok(sh(sig.VerifyCommand).ok, sig.VerifyCommand);
      const wrong = sh(sig.VerifyCommand.replace('-n release@example.org', '-n file'));
      assert.equal(wrong.ok, false);
      assert.equal((await h.call('VerifyFile', { KeyId: keyId, Format: 'ssh', SshNamespace: 'release@example.org', File: f, SignatureFile: sig.SignatureFile })).Value, true);
      assert.equal((await h.call('VerifyFile', { KeyId: keyId, Format: 'ssh', File: f, SignatureFile: sig.SignatureFile })).Value, false);
    });
  });
}

describe('pitfalls', () => {
  it('ECDSA mpints with the high bit set carry a 0x00 octet, and ssh-keygen accepts them', async () => {
    for (const spec of ['EC_P256', 'EC_P384']) {
      const keyId = await newKey(spec, 'SOFTWARE');
      const dir = join(s.dir, `mpint-${spec}`);
      mkdirSync(dir);
      const files = Array.from({ length: 12 }, (_, i) => join(dir, `f${i}`));
      for (const [i, f] of files.entries()) writeFileSync(f, `file ${i}`);
      const r = await h.call('SignFile', { KeyId: keyId, File: files, Format: 'ssh' });
      let highBit = 0;
      for (const sig of r.Signatures) {
        const body = parseSshsig(readFileSync(sig.SignatureFile, 'utf8')).sigBody;
        // The raw mpints: a magnitude with its top bit set must be preceded by 0x00.
        let at = 0;
        for (let k = 0; k < 2; k++) {
          const len = body.readUInt32BE(at);
          const v = body.subarray(at + 4, at + 4 + len);
          if (v[0] === 0) {
            assert.ok(v[1]! & 0x80, 'a 0x00 octet only before a high bit');
            highBit++;
          } else assert.equal(v[0]! & 0x80, 0, 'a positive mpint never starts with the high bit');
          at += 4 + len;
        }
        parseEcdsaSigBody(body);
        assert.ok(sh(sig.VerifyCommand).ok, sig.VerifyCommand);
      }
      assert.ok(highBit > 0, 'among 24 values of r and s, some have the high bit set');
    }
  });

  it('Ed25519 R or S with a leading zero byte: ssh and minisign signatures keep all 64 bytes and verify', async () => {
    const keyId = await newKey('ED25519', 'SOFTWARE');
    const pkcs8 = await materialOf(h, await firstVersionOf(h, keyId));
    const dir = join(s.dir, 'leading-zero');
    mkdirSync(dir);
    // Ed25519 is deterministic: find contents whose SSHSIG and minisign signatures start R or S with 0x00.
    const found: Record<string, string> = {};
    for (let i = 0; i < 5000 && (!found.ssh || !found.minisign); i++) {
      const content = Buffer.from(`content ${i}`);
      if (!found.ssh) {
        const sig = ed25519Sign(pkcs8, sshsigSignedData('file', 'sha512', createHash('sha512').update(content).digest()));
        if (sig[0] === 0 || sig[32] === 0) found.ssh = content.toString();
      }
      if (!found.minisign) {
        const b = createBlake2b512();
        b.update(content);
        const sig = ed25519Sign(pkcs8, b.digest());
        if (sig[0] === 0 || sig[32] === 0) found.minisign = content.toString();
      }
    }
    assert.ok(found.ssh && found.minisign, 'contents with a leading zero byte were found');
    for (const format of ['ssh', 'minisign'] as const) {
      const f = join(dir, `${format}.bin`);
      writeFileSync(f, found[format]!);
      const r = await h.call('SignFile', { KeyId: keyId, File: f, Format: format });
      const sig = r.Signatures[0]!;
      const v = sh(sig.VerifyCommand);
      assert.ok(v.ok, `${sig.VerifyCommand}\n${v.output}`);
      if (format === 'ssh') {
        const body = parseSshsig(readFileSync(sig.SignatureFile, 'utf8')).sigBody;
        assert.equal(body.length, 64);
        assert.ok(body[0] === 0 || body[32] === 0);
      }
    }
  });
});

describe('signatures made by the reference tools, checked by VerifyFile', () => {
  it('ssh-keygen -Y sign (ECDSA P-256 and RSA, sha512 and sha256): true; another namespace or file: false', () => {
    return (async () => {
      const dir = join(s.dir, 'by-ssh-keygen');
      mkdirSync(dir);
      const f = join(dir, 'data.txt');
      writeFileSync(f, 'signed by ssh-keygen\n');
      for (const [type, bits] of [['ecdsa', '256'], ['rsa', '2048']] as const) {
        const key = join(dir, `${type}_key`);
        assert.ok(sh(`ssh-keygen -q -t ${type} -b ${bits} -N '' -f ${key}`).ok);
        const pem = sh(`ssh-keygen -e -m PKCS8 -f ${key}.pub`).output;
        for (const hashalg of ['sha512', 'sha256']) {
          const sig = join(dir, `${type}-${hashalg}.sshsig`);
          const made = sh(`ssh-keygen -Y sign -q -f ${key} -n file -O hashalg=${hashalg} < ${f} > ${sig}`);
          assert.ok(made.ok, made.output);
          assert.equal((await h.call('VerifyFile', { PublicKey: pem, Format: 'ssh', File: f, SignatureFile: sig })).Value, true, `${type} ${hashalg}`);
          assert.equal((await h.call('VerifyFile', { PublicKey: pem, Format: 'ssh', SshNamespace: 'git', File: f, SignatureFile: sig })).Value, false);
        }
      }
    })();
  });
});
