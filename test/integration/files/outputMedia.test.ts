/**
 * Every kind of output Keyroom writes, onto the default disk, a tmpfs, a FAT32 image (fusefat: no
 * hard links, so the writer takes its placeholder route) and an exFAT image (exfat-fuse): each
 * output verified by OpenSSL (or by opening it, for the backup), each named with its SHA-256 in a
 * committed audit entry, never written over an existing file, and no temporary left behind.
 * The keystore stays on the default disk; the outputs go to the medium, as onto a USB stick.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHarness, materialOf, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import { openssl, opensslOk, Scratch } from '../../support/openssl';
import { mountExfat, mountFat32, mountTmpfs, TEMPORARY, type MountResult } from '../../support/mounts';
import { Session } from '../../../src-main/services/session';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { parseOutputFiles } from '../../../src-main/services/audit/outputRecord';

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

interface Medium {
  name: string;
  mount(): MountResult;
}

const MEDIA: Medium[] = [
  {
    name: 'the default disk',
    mount: () => {
      const dir = mkdtempSync(join(tmpdir(), 'keyroom-disk-'));
      return { dir, unmount: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  { name: 'tmpfs', mount: () => mountTmpfs() },
  { name: 'FAT32 (fusefat)', mount: () => mountFat32() },
  { name: 'exFAT (exfat-fuse)', mount: () => mountExfat() },
];

for (const medium of MEDIA) {
  const probe = medium.mount();
  const skip = 'skip' in probe ? probe.skip : false;
  if (!('skip' in probe)) probe.unmount();

  describe(`every output on ${medium.name}`, { skip }, () => {
    let h: Harness;
    let m: Exclude<MountResult, { skip: string }>;
    let s: Scratch;
    let signKey: string;
    let exportable: string;
    let target: string;
    const kept = new Map<string, string>();

    before(async () => {
      const r = medium.mount();
      assert.ok(!('skip' in r), 'mounted');
      m = r;
      s = new Scratch();
      h = await openHarness();
      signKey = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      exportable = (await h.call('CreateKey', { KeySpec: 'AES_256', Exportable: true })).KeyMetadata.KeyId;
      target = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    });

    after(async () => {
      await h?.close();
      s?.remove();
      m?.unmount();
    });

    /** Every output is recorded: a committed entry names it with the SHA-256 the file has. */
    async function assertRecorded(paths: string[]): Promise<void> {
      const events = await h.call('ListAuditEvents', { PageSize: 100 });
      const recorded = new Map(events.Events.flatMap((e) => parseOutputFiles(e.Details.OutputFiles).map((f) => [f.path, f.sha256] as const)));
      for (const p of paths) assert.equal(recorded.get(p), sha256(p), `${p} is recorded with its SHA-256`);
    }

    it('SignFile with a manifest and base64 signatures: openssl dgst -verify accepts each', async () => {
      const input = join(m.dir, 'release');
      const out = join(m.dir, 'signatures');
      mkdirSync(input);
      mkdirSync(out);
      for (const n of ['a.tar', 'b.tar']) writeFileSync(join(input, n), `release ${n} `.repeat(1000));
      const manifest = join(out, 'SHA256SUMS');
      const r = await h.call('SignFile', { KeyId: signKey, Algorithm: 'ECDSA_SHA_256', File: input, OutputDir: out, Manifest: manifest, SignatureEncoding: 'base64' });
      for (const sig of r.Signatures) {
        assert.ok(opensslOk(['dgst', '-sha256', '-verify', r.PublicKeyFile, '-signature', sig.SignatureFile, sig.File]).ok, sig.File);
        assert.deepEqual(Buffer.from(readFileSync(sig.SignatureFileBase64!, 'utf8').trim(), 'base64'), readFileSync(sig.SignatureFile));
      }
      assert.ok(opensslOk(['dgst', '-sha256', '-verify', r.PublicKeyFile, '-signature', r.ManifestSignatureFile!, manifest]).ok);
      assert.match(readFileSync(manifest, 'utf8'), /^[0-9a-f]{64} {2}\.\.\/release\/a\.tar\n/);
      const written = [r.PublicKeyFile, manifest, r.ManifestSignatureFile!, `${r.ManifestSignatureFile!}.b64`, ...r.Signatures.flatMap((x) => [x.SignatureFile, x.SignatureFileBase64!])];
      await assertRecorded(written);
      for (const p of written) kept.set(p, sha256(p));
      const again = await h.refuse('SignFile', { KeyId: signKey, Algorithm: 'ECDSA_SHA_256', File: input, OutputDir: out, Manifest: manifest, SignatureEncoding: 'base64' }, 'AlreadyExists.File');
      assert.match(again.Message, /never overwrites/);
    });

    it('GenerateCsr: openssl req -verify accepts the file', async () => {
      const file = join(m.dir, 'request.csr');
      const r = await h.call('GenerateCsr', { KeyId: signKey, Subject: 'CN=Release signing,O=Example', OutputFile: file });
      assert.equal(r.Sha256, sha256(file));
      assert.ok(opensslOk(['req', '-in', file, '-verify', '-noout']).ok);
      await assertRecorded([file]);
      kept.set(file, sha256(file));
      await h.refuse('GenerateCsr', { KeyId: signKey, Subject: 'CN=Other', OutputFile: file }, 'AlreadyExists.File');
    });

    it('ExportPublicKey: OpenSSL reads the PEM, and it is the key GetPublicKey gives', async () => {
      const file = join(m.dir, 'sign.pub.pem');
      await h.call('ExportPublicKey', { KeyId: signKey, KeyVersionId: (await h.call('ListKeyVersions', { KeyId: signKey })).KeyVersions.KeyVersion[0]!.KeyVersionId, OutputFile: file });
      const pem = (await h.call('GetPublicKey', { KeyId: signKey, KeyVersionId: (await h.call('ListKeyVersions', { KeyId: signKey })).KeyVersions.KeyVersion[0]!.KeyVersionId })).PublicKey;
      assert.equal(openssl(['pkey', '-pubin', '-in', file]).toString(), pem);
      await assertRecorded([file]);
      kept.set(file, sha256(file));
    });

    it('WrapKeyMaterial for Alibaba (RSA-OAEP) and AWS (RSA + AES key wrap): OpenSSL unwraps the material', async () => {
      const priv = s.file('wrapping.pem');
      openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', priv]);
      const publicPem = openssl(['pkey', '-in', priv, '-pubout']).toString();
      const version = (await h.call('ListKeyVersions', { KeyId: exportable })).KeyVersions.KeyVersion[0]!.KeyVersionId;
      const material = await materialOf(h, version);

      const aliyun = join(m.dir, 'aliyun');
      mkdirSync(aliyun);
      const a = await h.call('WrapKeyMaterial', { KeyId: exportable, Target: 'ALIYUN', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', PublicKey: publicPem, ImportToken: 'dG9rZW4=', OutputDir: aliyun });
      const blob = Buffer.from(readFileSync(join(aliyun, 'EncryptedKeyMaterial.txt'), 'utf8').trim(), 'base64');
      const unwrapped = openssl(['pkeyutl', '-decrypt', '-inkey', priv, '-in', s.file('a.bin', blob), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
      assert.deepEqual(unwrapped, material);

      const aws = join(m.dir, 'aws');
      mkdirSync(aws);
      const w = await h.call('WrapKeyMaterial', { KeyId: exportable, Target: 'AWS', WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', PublicKey: publicPem, OutputDir: aws });
      const bin = readFileSync(join(aws, 'EncryptedKeyMaterial.bin'));
      const kek = openssl(['pkeyutl', '-decrypt', '-inkey', priv, '-in', s.file('k.bin', bin.subarray(0, 256)), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
      const fromAws = openssl(['enc', '-d', '-id-aes256-wrap-pad', '-iv', 'A65959A6', '-K', kek.toString('hex'), '-in', s.file('w.bin', bin.subarray(256))]);
      assert.deepEqual(fromAws, material);

      for (const r of [a, w]) {
        for (const f of r.Files) assert.equal(f.Sha256, sha256(f.File), f.File);
        await assertRecorded(r.Files.map((f) => f.File));
        for (const f of r.Files) kept.set(f.File, sha256(f.File));
      }
      await h.refuse('WrapKeyMaterial', { KeyId: exportable, Target: 'AWS', WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', PublicKey: publicPem, OutputDir: aws }, 'AlreadyExists.File');
    });

    it('ReEncryptFiles: the output decrypts under the destination key', async () => {
      const file = join(m.dir, 'secret.b64');
      const enc = await h.call('Encrypt', { KeyId: exportable, Plaintext: Buffer.from('moved secret').toString('base64') });
      writeFileSync(file, `${enc.CiphertextBlob}\n`);
      const r = await h.call('ReEncryptFiles', { File: [file], DestinationKeyId: target });
      const out = r.Files[0]!;
      assert.equal(out.Sha256, sha256(out.OutputFile));
      const d = await h.call('Decrypt', { CiphertextBlob: readFileSync(out.OutputFile, 'utf8').trim() });
      assert.equal(d.KeyId, target);
      assert.equal(Buffer.from(d.Plaintext, 'base64').toString(), 'moved secret');
      await assertRecorded([out.OutputFile]);
      kept.set(out.OutputFile, sha256(out.OutputFile));
      await h.refuse('ReEncryptFiles', { File: [file], DestinationKeyId: target }, 'AlreadyExists.File');
    });

    it('ExportAuditLog: JSON lines, one per entry, hashed as written', async () => {
      const file = join(m.dir, 'audit.jsonl');
      const r = await h.call('ExportAuditLog', { OutputFile: file });
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
      assert.equal(lines.length, r.Entries);
      assert.deepEqual(lines.map((l) => l.seq), lines.map((_l, i) => i + 1));
      assert.equal(r.Sha256, sha256(file));
      await assertRecorded([file]);
      kept.set(file, sha256(file));
      await h.refuse('ExportAuditLog', { OutputFile: file }, 'AlreadyExists.File');
    });

    it('BackupKeystore: the copy opens with the same passphrase and holds the keys', async () => {
      const file = join(m.dir, 'keystore-backup.db');
      const r = await h.call('BackupKeystore', { OutputFile: file });
      assert.equal(r.Sha256, sha256(file));
      await assertRecorded([file]);
      kept.set(file, sha256(file));
      // Opened from a copy on the default disk: SQLite's locks are not what this test is about.
      const copy = s.file('backup-copy.db', readFileSync(file));
      const session = new Session({ keystorePath: copy, creator: 'tester' });
      await session.unlock(Buffer.from(PASSPHRASE));
      try {
        const keys = await dispatch(session, 'ListKeys', {});
        assert.ok(keys.ok);
        assert.equal((keys.value as { Keys: { Key: unknown[] } }).Keys.Key.length, 3);
      } finally {
        await session.lock();
      }
      await h.refuse('BackupKeystore', { OutputFile: file }, 'AlreadyExists.File');
    });

    it('left every existing file as it was, and no temporary anywhere on the medium', () => {
      assert.ok(kept.size >= 15, `${kept.size} outputs written`);
      for (const [p, hash] of kept) assert.equal(sha256(p), hash, `${p} unchanged by the refused second attempt`);
      const leftovers = allFiles(m.dir).filter((p) => TEMPORARY.test(p.split('/').pop()!));
      assert.deepEqual(leftovers, []);
      for (const p of kept.keys()) assert.ok(statSync(p).size > 0, `${p} is not an empty placeholder`);
    });
  });
}
