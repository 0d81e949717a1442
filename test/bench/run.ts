/**
 * `npm run bench`: ratios measured side by side in one run, printed as one JSON document.
 * - start-up of the built `keyroom` command (--help, ListKeys) beside bare Node and the KDF;
 * - unlock: opening the keystore vs the KDF it must pay (PBKDF2-HMAC-SHA512, 256,000 iterations);
 * - ListKeys over 10,000 keys: paging through the service vs a bare SELECT on the same file;
 * - the freshness check (older pages spliced in): unlock, ListKeys and a write with it and without;
 * - sign/verify per second for each asymmetric spec: Keyroom's software backend (the crypto path
 *   every AsymmetricSign takes) and the full service call (with its audit entry and fsync), beside
 *   `openssl speed` and beside Node's own OpenSSL in this process.
 * - SM3, SM4-GCM and secp256k1 ECIES on the fallbacks Electron's BoringSSL needs, beside OpenSSL;
 * - SignFile on a 1 GiB file: digest throughput vs `openssl dgst`, and the signing process's peak RSS;
 * - HSM signatures (ECDSA P-256, RSA-2048) through the service and the backend beside a bare
 *   pkcs11js loop on the same SoftHSM2 token.
 * Benchmarks are not tests: nothing here asserts a time. `npm run bench -- --only startup` runs one
 * section (see SECTIONS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, pbkdf2Sync, randomUUID, sign as nodeSign, verify as nodeVerify, createPrivateKey, createPublicKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Session } from '../../src-main/services/session';
import { dispatch } from '../../src-main/handlers/dispatch';
import { SoftwareBackend } from '../../src-main/backends/software/softwareBackend';
import { verifyDigest } from '../../src-main/crypto/publicKeyOps';
import { insertKey, insertVersion } from '../../src-main/keystore/repository';
import { KEY_SPEC_INFO, SIGNING_DIGEST, type KeySpec, type DigestSigningAlgorithm } from '../../src-shared/domain/keySpecs';
import type { StoredVersion } from '../../src-main/backends/backend';
import { opensslSpeed } from './opensslSpeed';
import { ratePerSecond, ratePerSecondAsync, round } from './measure';
import { benchSm2 } from './sm2';
import { benchHsm } from './hsm';
import { benchFallbacks } from './fallbacks';
import { benchOutputWriter } from './outputWriter';
import { benchDigestFile } from './digest';
import { benchSignFile } from './signFile';
import { benchStartup } from './startup';
import { benchFreshness } from './freshness';

const SECONDS = Number(process.env.KEYROOM_BENCH_SECONDS ?? 1);
const PASS = 'benchmark passphrase';


async function call(session: Session, name: Parameters<typeof dispatch>[1], input: Record<string, unknown>) {
  const r = await dispatch(session, name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.Code} ${r.error.Message}`);
  return r.value as Record<string, unknown>;
}

async function benchUnlock(dir: string) {
  const path = join(dir, 'unlock.db');
  const s = new Session({ keystorePath: path });
  await call(s, 'InitKeystore', { Passphrase: PASS });
  await s.lock();
  const runs = 3;
  let unlockMs = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await s.unlock(Buffer.from(PASS));
    unlockMs += performance.now() - t;
    await s.lock();
  }
  let kdfMs = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    pbkdf2Sync(PASS, 'salt-of-16-bytes', 256_000, 32, 'sha512');
    kdfMs += performance.now() - t;
  }
  return { unlockMs: round(unlockMs / runs, 1), pbkdf2Sha512_256kMs: round(kdfMs / runs, 1), ratio: round(unlockMs / kdfMs) };
}

async function benchListKeys(dir: string, count = 10_000) {
  const path = join(dir, 'list.db');
  const s = new Session({ keystorePath: path });
  await call(s, 'InitKeystore', { Passphrase: PASS });
  const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  // Setup, not measured: 10,000 AES keys in one transaction.
  await s.kms.keystore.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const keyId = randomUUID();
      const v = randomUUID();
      await insertKey(tx, {
        key_id: keyId, key_spec: 'AES_256', key_usage: 'ENCRYPT/DECRYPT', origin: 'Aliyun_KMS', protection_level: 'SOFTWARE',
        description: '', creation_date: created, creator: 'bench', key_state: 'Enabled', primary_key_version: v, delete_date: null,
        material_expire_time: null, exportable: 0, rotation_status: 'Disabled', rotation_interval: null, last_rotation_date: created,
        material_binding: null, token_serial: null,
      });
      await insertVersion(tx, { key_version_id: v, key_id: keyId, creation_date: created, seq: 1, material: Buffer.alloc(32, i & 0xff), public_key: null, hsm_object_id: null });
    }
  });
  let t = performance.now();
  let seen = 0;
  for (let page = 1; ; page++) {
    const r = (await call(s, 'ListKeys', { PageNumber: page, PageSize: 100 })) as { Keys: { Key: unknown[] } };
    seen += r.Keys.Key.length;
    if (r.Keys.Key.length < 100) break;
  }
  const serviceMs = performance.now() - t;
  t = performance.now();
  const rows = await s.kms.keystore.read((db) => db.all('SELECT key_id FROM keys ORDER BY creation_date, key_id'));
  const bareMs = performance.now() - t;
  await s.lock();
  return { keys: seen, bareRows: rows.length, pagedMs: round(serviceMs, 1), bareSelectMs: round(bareMs, 1), ratio: round(serviceMs / bareMs, 1) };
}

const SPECS: { spec: KeySpec; algorithm: DigestSigningAlgorithm; openssl?: string }[] = [
  { spec: 'RSA_2048', algorithm: 'RSA_PKCS1_SHA_256', openssl: 'rsa2048' },
  { spec: 'RSA_2048', algorithm: 'RSA_PSS_SHA_256', openssl: 'rsa2048' },
  { spec: 'RSA_3072', algorithm: 'RSA_PSS_SHA_256', openssl: 'rsa3072' },
  { spec: 'RSA_4096', algorithm: 'RSA_PSS_SHA_256', openssl: 'rsa4096' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', openssl: 'ecdsap256' },
  { spec: 'EC_P256K', algorithm: 'ECDSA_SHA_256' },
  { spec: 'EC_P384', algorithm: 'ECDSA_SHA_384', openssl: 'ecdsap384' },
  { spec: 'EC_SM2', algorithm: 'SM2DSA', openssl: 'sm2' },
];

async function benchSigning(dir: string) {
  const backend = new SoftwareBackend();
  const session = new Session({ keystorePath: join(dir, 'sign.db') });
  await call(session, 'InitKeystore', { Passphrase: PASS });
  const out: Record<string, unknown> = {};
  for (const { spec, algorithm, openssl } of SPECS) {
    const m = await backend.generate(spec);
    const v: StoredVersion = { keyId: 'bench', keyVersionId: 'bench', keySpec: spec, material: m.material, publicKey: m.publicKey, hsmObjectId: null };
    const digest = createHash(SIGNING_DIGEST[algorithm].digest).update('keyroom bench').digest();
    const sig = await backend.sign(v, algorithm, digest);
    const signPerSec = await ratePerSecondAsync(SECONDS, () => backend.sign(v, algorithm, digest));
    const verifyPerSec = ratePerSecond(SECONDS, () => verifyDigest(spec, m.publicKey!, algorithm, digest, sig));
    // Through the whole service: dispatch, key lookup, backend, audit entry, commit (fsync).
    const key = (await call(session, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' })) as { KeyMetadata: { KeyId: string } };
    const versions = (await call(session, 'ListKeyVersions', { KeyId: key.KeyMetadata.KeyId })) as { KeyVersions: { KeyVersion: { KeyVersionId: string }[] } };
    const input = { KeyId: key.KeyMetadata.KeyId, KeyVersionId: versions.KeyVersions.KeyVersion[0]!.KeyVersionId, Algorithm: algorithm, Digest: digest.toString('base64') };
    const serviceSignPerSec = await ratePerSecondAsync(SECONDS, () => call(session, 'AsymmetricSign', input));
    // Node's OpenSSL in this process (hashes a short message itself: an upper bound, not a like-for-like).
    let nodeSignPerSec: number | undefined;
    let nodeVerifyPerSec: number | undefined;
    if (KEY_SPEC_INFO[spec].curve !== 'SM2') {
      const pk = createPrivateKey({ key: m.material!, format: 'der', type: 'pkcs8' });
      const opts = algorithm === 'RSA_PSS_SHA_256' ? { key: pk, padding: 6, saltLength: 32 } : pk;
      nodeSignPerSec = ratePerSecond(SECONDS, () => nodeSign(SIGNING_DIGEST[algorithm].digest, Buffer.from('keyroom bench'), opts));
      const pub = createPublicKey(pk);
      const vopts = algorithm === 'RSA_PSS_SHA_256' ? { key: pub, padding: 6, saltLength: 32 } : pub;
      const nodeSig = nodeSign(SIGNING_DIGEST[algorithm].digest, Buffer.from('keyroom bench'), opts);
      nodeVerifyPerSec = ratePerSecond(SECONDS, () => nodeVerify(SIGNING_DIGEST[algorithm].digest, Buffer.from('keyroom bench'), vopts, nodeSig));
    }
    const ref = openssl ? opensslSpeed(openssl, SECONDS) : undefined;
    out[`${spec}/${algorithm}`] = {
      signPerSec: round(signPerSec, 0),
      verifyPerSec: round(verifyPerSec, 0),
      serviceSignPerSec: round(serviceSignPerSec, 0),
      nodeOpensslSignPerSec: nodeSignPerSec === undefined ? null : round(nodeSignPerSec, 0),
      opensslSpeedSignPerSec: ref ? round(ref.signPerSec, 0) : null,
      opensslSpeedVerifyPerSec: ref ? round(ref.verifyPerSec, 0) : null,
      signRatioVsOpensslSpeed: ref ? round(signPerSec / ref.signPerSec) : null,
      verifyRatioVsOpensslSpeed: ref ? round(verifyPerSec / ref.verifyPerSec) : null,
      signRatioVsNodeOpenssl: nodeSignPerSec ? round(signPerSec / nodeSignPerSec) : null,
      nodeOpensslVerifyPerSec: nodeVerifyPerSec === undefined ? null : round(nodeVerifyPerSec, 0),
      verifyRatioVsNodeOpenssl: nodeVerifyPerSec ? round(verifyPerSec / nodeVerifyPerSec) : null,
      // Issue 14: software RSA at >= 0.8x Node's own OpenSSL with the same key (which Node keeps parsed).
      goal: spec.startsWith('RSA') ? '>= 0.8x Node OpenSSL, sign and verify' : null,
    };
  }
  await session.lock();
  return out;
}

/**
 * The sections, in the order a full run takes them. `npm run bench -- --only startup,signing`
 * runs the named ones alone (each still side by side with its own reference).
 */
const SECTIONS = {
  // The built command's start-up beside `node -e 0` (first, before the heavy runs below).
  startup: (dir: string) => benchStartup(dir),
  unlock: (dir: string) => benchUnlock(dir),
  listKeys10k: (dir: string) => benchListKeys(dir),
  // The freshness check per open and per operation: with / without, beside the goal (1.05).
  freshnessCheck: (dir: string) => benchFreshness(dir),
  signing: (dir: string) => benchSigning(dir),
  // Why SM2 runs on @noble/curves: the same loops with sm-crypto, and openssl speed sm2.
  sm2ImplementationChoice: () => benchSm2(SECONDS),
  // The JS / noble paths Electron's BoringSSL falls back to, beside OpenSSL (ratio < 1 = slower).
  boringsslFallbacks: async () => benchFallbacks(SECONDS),
  // DigestFile (streamed, with progress and cancellation) vs `openssl dgst` on a 256 MiB file.
  digestFile: (dir: string) => benchDigestFile(dir),
  // SignFile on 1 GiB: digest throughput vs `openssl dgst` (start-up subtracted), and peak RSS.
  signFile: (dir: string) => benchSignFile(dir),
  // HSM keys on a SoftHSM2 token: service (with its audit commit) and backend vs bare pkcs11js.
  hsm: () => benchHsm(SECONDS),
  // The output writer (stage with fsync and read-back, publish, read-back) vs writeFile + fsync.
  outputWriter: (dir: string) => benchOutputWriter(dir),
} satisfies Record<string, (dir: string) => Promise<unknown>>;

/** The sections `--only a,b` names (all without it); an unknown name stops the run. */
function chosenSections(argv: readonly string[]): (keyof typeof SECTIONS)[] {
  const i = argv.indexOf('--only');
  if (i < 0) return Object.keys(SECTIONS) as (keyof typeof SECTIONS)[];
  const names = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes a comma-separated list of sections: ${Object.keys(SECTIONS).join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  return names as (keyof typeof SECTIONS)[];
}

async function main() {
  const sections = chosenSections(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-bench-'));
  try {
    const result: Record<string, unknown> = {
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version, openssl: process.versions.openssl },
      secondsPerMeasurement: SECONDS,
    };
    for (const name of sections) result[name] = await SECTIONS[name](dir);
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
