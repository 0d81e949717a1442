/**
 * SignFile and VerifyFile on real files, judged by OpenSSL: every algorithm with SOFTWARE keys and
 * (where SoftHSM holds the spec) HSM keys, each signature checked by running the exact
 * `openssl dgst -verify` command SignFile prints; manifests checked by `sha256sum -c` /
 * `sha384sum -c` (SM3SUMS line by line with `openssl dgst -sm3`) and their signatures by OpenSSL;
 * the GM/T 0003.5 SM2 example through VerifyFile with a public key PEM. Then refusals, each of
 * which leaves no file behind, a failure part-way through a batch, progress and cancel.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DigestSigningAlgorithm, KeySpec, SigningAlgorithm } from '../../../src-shared/domain/keySpecs';
import { SoftwareBackend } from '../../../src-main/backends/software/softwareBackend';
import type { StoredVersion } from '../../../src-main/backends/backend';
import { ecSpkiFromPoint, spkiToPem } from '../../../src-main/crypto/keyEncoding';
import { signFiles } from '../../../src-main/services/ceremony/sign/signFiles';
import type { OperationControl, ProgressUpdate } from '../../../src-main/services/operationControl';
import { openHarness, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, openHsmHarnessOn, type SoftHsm } from '../../support/softhsm';
import { opensslOk } from '../../support/openssl';

const CASES: [KeySpec, DigestSigningAlgorithm][] = [
  ['RSA_2048', 'RSA_PSS_SHA_256'],
  ['RSA_3072', 'RSA_PKCS1_SHA_256'],
  ['EC_P256', 'ECDSA_SHA_256'],
  ['EC_P256K', 'ECDSA_SHA_256'],
  ['EC_P384', 'ECDSA_SHA_384'],
  ['EC_SM2', 'SM2DSA'],
];
const SUMS = { RSA_PSS_SHA_256: 'SHA256SUMS', RSA_PKCS1_SHA_256: 'SHA256SUMS', ECDSA_SHA_256: 'SHA256SUMS', ECDSA_SHA_384: 'SHA384SUMS', SM2DSA: 'SM3SUMS' } as const;

/** Three artifacts, one of them a few MiB, with a space in a name. */
function artifacts(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'app-1.0.tar.gz'), join(dir, 'app 1.0 notes.txt'), join(dir, 'checksums-input.bin')];
  writeFileSync(files[0]!, randomBytes(5 * 1024 * 1024 + 3));
  writeFileSync(files[1]!, 'Release notes: ✓ 密钥\n');
  writeFileSync(files[2]!, Buffer.alloc(0));
  return files;
}

async function signAndCheck(h: Harness, keyId: string, algorithm: DigestSigningAlgorithm, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  const files = artifacts(dir);
  const manifest = join(dir, SUMS[algorithm]);
  const r = await h.call('SignFile', { KeyId: keyId, Algorithm: algorithm, File: files, Manifest: manifest, SignatureEncoding: 'base64', ...extra });
  assert.equal(r.Signatures.length, 3);
  for (const [i, s] of r.Signatures.entries()) {
    assert.equal(s.File, files[i]);
    assert.equal(s.SignatureFile, `${files[i]}.sig`);
    assert.equal(Buffer.from(readFileSync(s.SignatureFileBase64!, 'utf8').trim(), 'base64').toString('hex'), readFileSync(s.SignatureFile).toString('hex'));
    // The exact command SignFile printed, run by the shell.
    const out = execSync(s.VerifyCommand, { encoding: 'utf8' });
    assert.equal(out.trim(), 'Verified OK', s.VerifyCommand);
    if (algorithm !== 'SM2DSA') assert.equal(s.Digest, createHash(algorithm === 'ECDSA_SHA_384' ? 'sha384' : 'sha256').update(readFileSync(files[i]!)).digest('hex'));
  }
  // The public key written is GetPublicKey's.
  const versions = await h.call('ListKeyVersions', { KeyId: keyId });
  assert.equal(readFileSync(r.PublicKeyFile, 'utf8'), (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versions.KeyVersions.KeyVersion[0]!.KeyVersionId })).PublicKey);

  // The manifest, as the coreutils read it, and its signature.
  assert.equal(r.Manifest, manifest);
  if (algorithm === 'SM2DSA') {
    for (const line of readFileSync(manifest, 'utf8').trim().split('\n')) {
      const [hex, name] = [line.slice(0, 64), line.slice(66)];
      assert.equal(execFileSync('openssl', ['dgst', '-sm3', '-r', join(dir, name)], { encoding: 'utf8' }).split(' ')[0], hex, name);
    }
  } else {
    const tool = algorithm === 'ECDSA_SHA_384' ? 'sha384sum' : 'sha256sum';
    assert.match(execFileSync(tool, ['-c', basename(manifest)], { cwd: dir, encoding: 'utf8' }), /app 1\.0 notes\.txt: OK/);
  }
  const digest = { RSA_PSS_SHA_256: '-sha256', RSA_PKCS1_SHA_256: '-sha256', ECDSA_SHA_256: '-sha256', ECDSA_SHA_384: '-sha384', SM2DSA: '-sm3' }[algorithm];
  const opts = algorithm === 'RSA_PSS_SHA_256' ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1'] : algorithm === 'SM2DSA' ? ['-sigopt', `distid:${(extra.UserId as string | undefined) ?? '1234567812345678'}`] : [];
  const v = opensslOk(['dgst', digest, '-verify', r.PublicKeyFile, ...opts, '-signature', r.ManifestSignatureFile!, manifest]);
  assert.ok(v.ok, v.output);

  // VerifyFile agrees, with the key and with the PEM; a changed file or signature does not verify.
  const pem = readFileSync(r.PublicKeyFile, 'utf8');
  const byKey = await h.call('VerifyFile', { KeyId: keyId, Algorithm: algorithm, File: files[0], SignatureFile: `${files[0]}.sig`, ...(extra.UserId ? { UserId: extra.UserId } : {}) });
  assert.equal(byKey.Value, true);
  const byPem = await h.call('VerifyFile', { PublicKey: pem, Algorithm: algorithm, File: files[1], SignatureFile: `${files[1]}.sig`, ...(extra.UserId ? { UserId: extra.UserId } : {}) });
  assert.equal(byPem.Value, true);
  const wrong = await h.call('VerifyFile', { PublicKey: pem, Algorithm: algorithm, File: files[0], SignatureFile: `${files[1]}.sig`, ...(extra.UserId ? { UserId: extra.UserId } : {}) });
  assert.equal(wrong.Value, false);
  const sig = readFileSync(`${files[0]}.sig`);
  writeFileSync(join(dir, 'trailing.sig'), Buffer.concat([sig, Buffer.of(0)]));
  assert.equal((await h.call('VerifyFile', { PublicKey: pem, Algorithm: algorithm, File: files[0], SignatureFile: join(dir, 'trailing.sig'), ...(extra.UserId ? { UserId: extra.UserId } : {}) })).Value, false, 'trailing bytes');
}

describe('SignFile / VerifyFile, SOFTWARE keys', () => {
  let h: Harness;
  const keys = new Map<KeySpec, string>();
  before(async () => {
    h = await openHarness();
    for (const spec of new Set(CASES.map(([s]) => s))) keys.set(spec, (await h.call('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId);
  });
  after(() => h.close());

  for (const [spec, algorithm] of CASES) {
    it(`${spec} ${algorithm}: three files and a manifest, each verified by OpenSSL`, () => signAndCheck(h, keys.get(spec)!, algorithm, join(h.dir, `${spec}-${algorithm}`)));
  }

  it('SM2 with another distinguishing ID (UserId), verified with OpenSSL\'s distid', () =>
    signAndCheck(h, keys.get('EC_SM2')!, 'SM2DSA', join(h.dir, 'sm2-alice'), { UserId: 'ALICE123@YAHOO.COM' }));

  it('the GM/T 0003.5 SM2 example (known key, ID, message, r, s) verifies through VerifyFile with a PEM', async () => {
    const point = Buffer.from('0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13', 'hex');
    const pem = spkiToPem(ecSpkiFromPoint('SM2', point));
    const der = Buffer.from(
      '3046' + '022100F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3' + '022100B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
      'hex',
    );
    const dir = join(h.dir, 'gmt');
    mkdirSync(dir);
    writeFileSync(join(dir, 'm'), 'message digest');
    writeFileSync(join(dir, 'm.sig'), der);
    // The annex on the recommended curve signs with the default ID, 1234567812345678.
    const input = { PublicKey: pem, Algorithm: 'SM2DSA', File: join(dir, 'm'), SignatureFile: join(dir, 'm.sig') };
    const r = await h.call('VerifyFile', input);
    assert.equal(r.Value, true);
    assert.equal(r.Digest, 'f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640', 'e = SM3(Z_A || M) of the annex');
    assert.equal((await h.call('VerifyFile', { ...input, UserId: 'ALICE123@YAHOO.COM' })).Value, false, 'another ID');
    // Non-canonical DER (a long-form length) of the same r, s is refused.
    writeFileSync(join(dir, 'long.sig'), Buffer.concat([Buffer.from('308146', 'hex'), der.subarray(2)]));
    assert.equal((await h.call('VerifyFile', { ...input, SignatureFile: join(dir, 'long.sig') })).Value, false);
  });

  it('signs every file of a folder (not hidden files, not its own signatures) into an output folder', async () => {
    const dir = join(h.dir, 'release');
    const files = artifacts(dir);
    writeFileSync(join(dir, '.hidden'), 'x');
    writeFileSync(join(dir, 'old.sig'), 'x');
    const out = join(h.dir, 'release-sigs');
    mkdirSync(out);
    const r = await h.call('SignFile', { KeyId: keys.get('EC_P256')!, Algorithm: 'ECDSA_SHA_256', File: dir, OutputDir: out });
    assert.deepEqual(r.Signatures.map((s) => s.File), [...files].sort());
    assert.deepEqual(readdirSync(out).sort(), [...files.map((f) => `${basename(f)}.sig`), `${keys.get('EC_P256')}.pub.pem`].sort());
    for (const s of r.Signatures) assert.equal(execSync(s.VerifyCommand, { encoding: 'utf8' }).trim(), 'Verified OK');
    // Signing the same folder again into the same place: the signatures exist, nothing is written.
    await h.refuse('SignFile', { KeyId: keys.get('EC_P256')!, Algorithm: 'ECDSA_SHA_256', File: dir, OutputDir: out }, 'AlreadyExists.File');
  });

  it('records each signature in the audit log: file, size, digest, key version; never content', async () => {
    const events = await h.call('ListAuditEvents', { Operation: 'SignFile', KeyId: keys.get('EC_P384')! });
    assert.equal(events.TotalCount, 4, 'three files and the manifest');
    const e = events.Events.find((x) => String(x.Details.File).endsWith('app-1.0.tar.gz'))!;
    assert.equal(e.Details.Size, 5 * 1024 * 1024 + 3);
    assert.match(String(e.Details.Digest), /^[0-9a-f]{96}$/);
    assert.ok(e.KeyVersionId);
  });

  describe('refusals leave no file behind', () => {
    const ec = () => keys.get('EC_P256')!;
    function fresh(name: string): { dir: string; files: string[] } {
      const dir = join(h.dir, `refused-${name}`);
      return { dir, files: artifacts(dir) };
    }
    const listing = (dir: string) => readdirSync(dir).sort();

    it('a missing file, an empty folder, a FIFO-free check of a folder named twice', async () => {
      const { dir, files } = fresh('missing');
      const before = listing(dir);
      await h.refuse('SignFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_256', File: [files[0], join(dir, 'nope.bin')] }, 'InvalidParameter.InputFile');
      const empty = join(h.dir, 'empty-folder');
      mkdirSync(empty);
      assert.match((await h.refuse('SignFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_256', File: empty }, 'InvalidParameter.InputFile')).Message, /no file to sign/);
      await h.refuse('SignFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_256', File: [dir, files[0]] }, 'InvalidParameter.InputFile');
      assert.deepEqual(listing(dir), before);
    });
    it('an algorithm that does not fit the key, a disabled key, a UserId for a non-SM2 algorithm, a manifest of the wrong hash', async () => {
      const { dir, files } = fresh('mismatch');
      const before = listing(dir);
      await h.refuse('SignFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_384', File: files }, 'Rejected.Algorithm');
      await h.refuse('SignFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_256', File: files, UserId: 'x' }, 'InvalidParameter');
      await h.refuse('SignFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_256', File: files, Manifest: join(dir, 'SM3SUMS') }, 'InvalidParameter.OutputFile');
      const off = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      await h.call('DisableKey', { KeyId: off });
      await h.refuse('SignFile', { KeyId: off, Algorithm: 'ECDSA_SHA_256', File: files }, 'Rejected.KeyState');
      const aes = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
      await h.refuse('SignFile', { KeyId: aes, Algorithm: 'ECDSA_SHA_256', File: files }, 'Rejected.KeyUsage');
      assert.deepEqual(listing(dir), before);
    });
    it('VerifyFile: a malformed input is an error, not false', async () => {
      const { dir, files } = fresh('verify');
      writeFileSync(join(dir, 'x.sig'), 'x');
      await h.refuse('VerifyFile', { KeyId: ec(), Algorithm: 'ECDSA_SHA_256', File: join(dir, 'missing'), SignatureFile: join(dir, 'x.sig') }, 'InvalidParameter.InputFile');
      await h.refuse('VerifyFile', { PublicKey: 'not a pem', Algorithm: 'ECDSA_SHA_256', File: files[0], SignatureFile: join(dir, 'x.sig') }, 'InvalidParameter.PublicKey');
      await h.refuse('VerifyFile', { Algorithm: 'ECDSA_SHA_256', File: files[0], SignatureFile: join(dir, 'x.sig') }, 'MissingParameter');
      const rsaPem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], { encoding: 'utf8' });
      const rsaPub = execFileSync('openssl', ['pkey', '-pubout'], { input: rsaPem, encoding: 'utf8' });
      await h.refuse('VerifyFile', { PublicKey: rsaPub, Algorithm: 'ECDSA_SHA_256', File: files[0], SignatureFile: join(dir, 'x.sig') }, 'Rejected.Algorithm');
      assert.equal((await h.call('VerifyFile', { PublicKey: rsaPub, Algorithm: 'RSA_PSS_SHA_256', File: files[0], SignatureFile: join(dir, 'x.sig') })).Value, false);
    });
  });

  it('a failure part-way through a batch (the key stops signing) writes nothing and audits nothing', async () => {
    // The real software backend, told to fail on its second signature, as a token pulled out would.
    let signs = 0;
    const real = new SoftwareBackend();
    const failing = Object.assign(Object.create(real) as SoftwareBackend, {
      sign: (v: StoredVersion, a: SigningAlgorithm, d: Uint8Array) => (++signs === 2 ? Promise.reject(new Error('CKR_DEVICE_REMOVED')) : real.sign(v, a, d)),
    });
    const h2 = await openHarness({ backends: { SOFTWARE: failing } });
    try {
      const keyId = (await h2.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      const dir = join(h2.dir, 'batch');
      const files = artifacts(dir);
      const before = listing(dir);
      const stateBefore = await h2.state();
      await assert.rejects(signFiles(h2.session.kms, { KeyId: keyId, Algorithm: 'ECDSA_SHA_256', File: files, Manifest: join(dir, 'SHA256SUMS') }, 'req', { signal: new AbortController().signal, progress: () => undefined }));
      assert.deepEqual(listing(dir), before, 'no signature, manifest or key file left');
      assert.equal(await h2.state(), stateBefore, 'no audit entry');
    } finally {
      await h2.close();
    }
    function listing(dir: string) {
      return readdirSync(dir).sort();
    }
  });

  it('reports progress per file and stops on cancel with nothing written', async () => {
    const dir = join(h.dir, 'progress');
    const files = artifacts(dir);
    const events: ProgressUpdate[] = [];
    const control: OperationControl = { signal: new AbortController().signal, progress: (u) => events.push(u) };
    await signFiles(h.session.kms, { KeyId: keys.get('EC_P256')!, Algorithm: 'ECDSA_SHA_256', File: files }, 'req-progress', control);
    const hashing = events.filter((e) => e.Phase === 'Hashing');
    assert.ok(hashing.some((e) => e.Item === 'app-1.0.tar.gz' && e.Done! > 0));
    for (let i = 1; i < hashing.length; i++) assert.ok(hashing[i]!.Done! >= hashing[i - 1]!.Done!, 'Done never goes back');
    assert.equal(hashing.at(-1)!.Done, hashing.at(-1)!.Total);
    assert.ok(events.some((e) => e.Phase === 'Signing'));

    const dir2 = join(h.dir, 'cancelled');
    const files2 = artifacts(dir2);
    const ac = new AbortController();
    const before = readdirSync(dir2).sort();
    const run = signFiles(h.session.kms, { KeyId: keys.get('EC_P256')!, Algorithm: 'ECDSA_SHA_256', File: files2 }, 'req-cancel', {
      signal: ac.signal,
      progress: (u) => {
        if (u.Phase === 'Hashing' && u.Done! > 0) ac.abort();
      },
    });
    await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'Cancelled');
    assert.deepEqual(readdirSync(dir2).sort(), before);
  });
});

describe('SignFile, HSM keys on SoftHSM (the digest is signed inside the token)', () => {
  let hsm: SoftHsm;
  let h: Harness;
  before(async () => {
    hsm = makeSoftHsm('sign-test');
    h = await openHsmHarnessOn(hsm);
  });
  after(async () => {
    await h.close();
    hsm.cleanup();
  });
  for (const [spec, algorithm] of CASES.filter(([s]) => s !== 'EC_SM2')) {
    it(`${spec} ${algorithm}`, async () => {
      const keyId = (await h.call('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' })).KeyMetadata.KeyId;
      await signAndCheck(h, keyId, algorithm, join(h.dir, `hsm-${spec}-${algorithm}`));
    });
  }
});
