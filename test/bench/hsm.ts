/**
 * HSM signing throughput on a SoftHSM2 token made for the run, measured side by side:
 *  - bare:    a pkcs11js loop, C_SignInit + C_Sign (synchronous) on one logged-in session;
 *  - bareAsync: the same with C_SignAsync (what the backend calls: the event loop keeps running);
 *  - backend: Pkcs11Backend.sign (session lease, handle cache, DER conversion);
 *  - service: dispatch AsymmetricSign (validation, key lookup, backend, audit entry, commit).
 * For ECDSA P-256, RSA-2048 PKCS#1 v1.5 and RSA-2048 PSS. The goal: service >= 0.8 x bare.
 * `commit` isolates what the keystore adds per call: GenerateMac with an HSM HMAC key through
 * the service vs the backend alone (the MAC itself costs microseconds), i.e. dispatch + SQL +
 * audit entry + COMMIT with synchronous=FULL (fsync).
 *
 * Rounds alternate between the variants and each reports its best round, so other load on the
 * machine hits them alike. Benchmarks are not tests: nothing here asserts a time.
 *
 * Run alone: node --import tsx test/bench/hsm.ts [seconds]
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pkcs11js from 'pkcs11js';
import { dispatch } from '../../src-main/handlers/dispatch';
import { Pkcs11Backend } from '../../src-main/backends/pkcs11/pkcs11Backend';
import type { StoredVersion } from '../../src-main/backends/backend';
import type { KeySpec, SigningAlgorithm } from '../../src-shared/domain/keySpecs';
import { makeSoftHsm, openHsmHarness, objectIdOf, type HsmHarness } from '../support/softhsm';
import { ratePerSecond, ratePerSecondAsync, round } from './measure';

const ROUNDS = 3;

export interface HsmSignBench {
  barePerSec: number;
  bareAsyncPerSec: number;
  backendPerSec: number;
  servicePerSec: number;
  backendVsBare: number;
  serviceVsBare: number;
  serviceVsBareAsync: number;
  /** Milliseconds per call that the service adds to the backend. */
  serviceOverheadMs: number;
}

export interface HsmBenchResult {
  token: string;
  signing: Record<string, HsmSignBench>;
  commit: { macBackendPerSec: number; macServicePerSec: number; serviceOverheadMs: number };
  note: string;
}


async function call(h: HsmHarness, name: Parameters<typeof dispatch>[1], input: Record<string, unknown>) {
  const r = await dispatch(h.session, name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.Code} ${r.error.Message}`);
  return r.value as Record<string, unknown>;
}

const CASES: { spec: KeySpec; algorithm: SigningAlgorithm; name: string }[] = [
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', name: 'EC_P256/ECDSA_SHA_256' },
  { spec: 'RSA_2048', algorithm: 'RSA_PKCS1_SHA_256', name: 'RSA_2048/RSA_PKCS1_SHA_256' },
  { spec: 'RSA_2048', algorithm: 'RSA_PSS_SHA_256', name: 'RSA_2048/RSA_PSS_SHA_256' },
];

function mechanismOf(algorithm: SigningAlgorithm): pkcs11js.Mechanism {
  if (algorithm === 'ECDSA_SHA_256') return { mechanism: pkcs11js.CKM_ECDSA };
  if (algorithm === 'RSA_PKCS1_SHA_256') return { mechanism: pkcs11js.CKM_RSA_PKCS };
  return {
    mechanism: pkcs11js.CKM_RSA_PKCS_PSS,
    parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 } as pkcs11js.RsaPSS,
  };
}

export async function benchHsm(seconds = 1): Promise<HsmBenchResult> {
  const hsm = makeSoftHsm('keyroom-bench');
  const manager = await hsm.openManager();
  const backend = new Pkcs11Backend(manager);
  const h = await openHsmHarness(backend, new Date());
  const per = seconds / ROUNDS;
  try {
    const signing: Record<string, HsmSignBench> = {};
    const keys = new Map<KeySpec, { keyId: string; keyVersionId: string; v: StoredVersion }>();
    for (const { spec, algorithm, name } of CASES) {
      if (!keys.has(spec)) {
        const created = (await call(h, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' })) as { KeyMetadata: { KeyId: string } };
        const keyId = created.KeyMetadata.KeyId;
        const listed = (await call(h, 'ListKeyVersions', { KeyId: keyId })) as { KeyVersions: { KeyVersion: { KeyVersionId: string }[] } };
        const keyVersionId = listed.KeyVersions.KeyVersion[0]!.KeyVersionId;
        const pub = await h.raw((db) => db.get<{ public_key: Buffer }>('SELECT public_key FROM key_versions WHERE key_version_id = ?', [keyVersionId]));
        const v: StoredVersion = {
          keyId, keyVersionId, keySpec: spec, material: null, publicKey: pub!.public_key, hsmObjectId: Buffer.from(await objectIdOf(h, keyVersionId), 'hex'),
        };
        keys.set(spec, { keyId, keyVersionId, v });
      }
      const { keyId, keyVersionId, v } = keys.get(spec)!;
      const digest = createHash('sha256').update('keyroom hsm bench').digest();
      // What CKM_RSA_PKCS signs is DigestInfo || digest: the bare loop signs the same 51 bytes.
      const data = algorithm === 'RSA_PKCS1_SHA_256' ? Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]) : digest;
      const mechanism = mechanismOf(algorithm);
      const out = Buffer.alloc(512);
      const input = { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: algorithm, Digest: digest.toString('base64') };

      // The bare loops run on a session lent by the manager (same token, same login, same key).
      const bare = (async_: boolean) =>
        manager.run('bench', async (s) => {
          s.p11.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_ID, value: v.hsmObjectId! }, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
          const [key] = s.p11.C_FindObjects(s.handle, 1);
          s.p11.C_FindObjectsFinal(s.handle);
          return async_
            ? ratePerSecondAsync(per, async () => {
                s.p11.C_SignInit(s.handle, mechanism, key!);
                await s.p11.C_SignAsync(s.handle, data, out);
              })
            : ratePerSecond(per, () => {
                s.p11.C_SignInit(s.handle, mechanism, key!);
                s.p11.C_Sign(s.handle, data, out);
              });
        });
      // Warm-up: handle cache, JIT, SQLite page cache.
      for (let i = 0; i < 5; i++) {
        await backend.sign(v, algorithm, digest);
        await call(h, 'AsymmetricSign', input);
      }
      const best = { bare: 0, bareAsync: 0, backend: 0, service: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        best.bare = Math.max(best.bare, await bare(false));
        best.bareAsync = Math.max(best.bareAsync, await bare(true));
        best.backend = Math.max(best.backend, await ratePerSecondAsync(per, () => backend.sign(v, algorithm, digest)));
        best.service = Math.max(best.service, await ratePerSecondAsync(per, () => call(h, 'AsymmetricSign', input)));
      }
      signing[name] = {
        barePerSec: round(best.bare, 0),
        bareAsyncPerSec: round(best.bareAsync, 0),
        backendPerSec: round(best.backend, 0),
        servicePerSec: round(best.service, 0),
        backendVsBare: round(best.backend / best.bare),
        serviceVsBare: round(best.service / best.bare),
        serviceVsBareAsync: round(best.service / best.bareAsync),
        serviceOverheadMs: round(1000 / best.service - 1000 / best.backend),
      };
    }

    // What the keystore adds per call, apart from any signing: an HSM MAC (microseconds).
    const mac = (await call(h, 'CreateKey', { KeySpec: 'HMAC_256', ProtectionLevel: 'HSM' })) as { KeyMetadata: { KeyId: string; PrimaryKeyVersion: string } };
    const macVersion = mac.KeyMetadata.PrimaryKeyVersion;
    const mv: StoredVersion = {
      keyId: mac.KeyMetadata.KeyId, keyVersionId: macVersion, keySpec: 'HMAC_256', material: null, publicKey: null, hsmObjectId: Buffer.from(await objectIdOf(h, macVersion), 'hex'),
    };
    const message = Buffer.from('keyroom');
    let macBackend = 0;
    let macService = 0;
    for (let r = 0; r < ROUNDS; r++) {
      macBackend = Math.max(macBackend, await ratePerSecondAsync(per, () => backend.mac(mv, 'HMAC_SHA_256', message)));
      macService = Math.max(macService, await ratePerSecondAsync(per, () => call(h, 'GenerateMac', { KeyId: mv.keyId, Message: message.toString('base64') })));
    }
    const commitMs = 1000 / macService - 1000 / macBackend;
    const slowest = Object.entries(signing).sort((a, b) => a[1].serviceVsBare - b[1].serviceVsBare)[0]!;
    return {
      token: `SoftHSM ${manager.module.info().LibraryVersion}`,
      signing,
      commit: { macBackendPerSec: round(macBackend, 0), macServicePerSec: round(macService, 0), serviceOverheadMs: round(commitMs) },
      note:
        slowest[1].serviceVsBare >= 0.8
          ? 'Every service path is at least 0.8 of the bare pkcs11js loop.'
          : `${slowest[0]}: service ${slowest[1].serviceVsBare} of the bare loop. The service adds ~${round(commitMs, 2)} ms per call ` +
            '(dispatch, SQL, audit entry and a COMMIT with synchronous=FULL, i.e. fsync of the journal and the database): ' +
            `${round((commitMs / (1000 / slowest[1].servicePerSec)) * 100, 0)}% of each service call.`,
    };
  } finally {
    await h.close();
    await backend.close();
    hsm.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  benchHsm(seconds).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
