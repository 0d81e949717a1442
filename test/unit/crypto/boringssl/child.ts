/**
 * Runs under ./preload.ts (node:crypto without SM3, SM4, secp256k1, SM2): the providers each
 * module chose, then the software backend end to end through the KMS operations that need the
 * fallbacks. Prints one JSON document for the parent test to judge with real OpenSSL.
 */
import { createHash, getCurves, getHashes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { SM3_PROVIDER } from '../../../../src-main/crypto/sm3';
import { SM4_PROVIDER } from '../../../../src-main/crypto/sm4';
import { ECDH_PROVIDERS } from '../../../../src-main/crypto/ecies';
import { EC_KEYGEN_PROVIDERS } from '../../../../src-main/crypto/ecKeys';
import { ecPointFromSpki } from '../../../../src-main/crypto/keyEncoding';
import { sm2MessageDigest } from '../../../../src-main/crypto/sm2';
import { firstVersionOf, materialOf, openHarness } from '../../../support/kmsHarness';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const spkiOfPem = (pem: string): Buffer => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

async function main(): Promise<void> {
  const simulated = { sm3Listed: getHashes().includes('sm3'), secp256k1Listed: getCurves().includes('secp256k1'), sm3Throws: false };
  try {
    createHash('sm3');
  } catch {
    simulated.sm3Throws = true;
  }
  const h = await openHarness();
  try {
    const message = Buffer.from('release 1.0 artifact');

    // SM4: Encrypt and Decrypt (SM4-GCM on the JS SM4).
    const sm4 = (await h.call('CreateKey', { KeySpec: 'Aliyun_SM4' })).KeyMetadata.KeyId;
    const sealed = await h.call('Encrypt', { KeyId: sm4, Plaintext: message.toString('utf8'), EncryptionContext: { purpose: 'test' } });
    const opened = await h.call('Decrypt', { CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { purpose: 'test' } });

    const asymmetric = async (spec: string, usage: string) => {
      const keyId = (await h.call('CreateKey', { KeySpec: spec, KeyUsage: usage })).KeyMetadata.KeyId;
      const versionId = await firstVersionOf(h, keyId);
      const pem = (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId })).PublicKey;
      return { keyId, versionId, pem, pkcs8: b64(await materialOf(h, versionId)) };
    };

    // secp256k1 and SM2 keys generated without OpenSSL's curves, then signed with.
    const k1 = await asymmetric('EC_P256K', 'SIGN/VERIFY');
    const k1Digest = createHash('sha256').update(message).digest();
    const k1Sig = (await h.call('AsymmetricSign', { KeyId: k1.keyId, KeyVersionId: k1.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(k1Digest) })).Value;
    const k1Verified = (await h.call('AsymmetricVerify', { KeyId: k1.keyId, KeyVersionId: k1.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(k1Digest), Value: k1Sig })).Value;

    const sm2 = await asymmetric('EC_SM2', 'SIGN/VERIFY');
    const sm2Digest = sm2MessageDigest(ecPointFromSpki(spkiOfPem(sm2.pem)), message); // SM3 on the JS SM3
    const sm2Sig = (await h.call('AsymmetricSign', { KeyId: sm2.keyId, KeyVersionId: sm2.versionId, Algorithm: 'SM2DSA', Digest: b64(sm2Digest) })).Value;

    // ECIES on secp256k1 (noble ECDH) and SM2PKE, both ways inside the child.
    const roundTrip = async (key: { keyId: string; versionId: string }, algorithm: string) => {
      const enc = await h.call('AsymmetricEncrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, Plaintext: b64(message) });
      const dec = await h.call('AsymmetricDecrypt', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: algorithm, CiphertextBlob: enc.CiphertextBlob });
      return { ciphertext: enc.CiphertextBlob, plaintext: dec.Plaintext };
    };
    const k1Enc = await asymmetric('EC_P256K', 'ENCRYPT/DECRYPT');
    const sm2Enc = await asymmetric('EC_SM2', 'ENCRYPT/DECRYPT');

    // BYOK: the SM rows and secp256k1 wrapped and unwrapped (a rehearsal) without OpenSSL's SM2, SM4, SM3, secp256k1.
    const byok: Record<string, boolean> = {};
    const rows: [string, string, string][] = [
      ['ALIYUN', 'SM2PKE', 'SM4'],
      ['ALIYUN', 'SM2PKE_SM4_ECB', 'EC_SM2'],
      ['HUAWEI', 'SM2_ENCRYPT', 'EC_SM2'],
      ['HUAWEI', 'RSAES_OAEP_SHA_256', 'SM4'],
      ['AWS', 'RSA_AES_KEY_WRAP_SHA_256', 'EC_P256K'],
      ['AZURE', 'CKM_RSA_AES_KEY_WRAP', 'EC_P256K'],
    ];
    for (const [target, algorithm, spec] of rows) {
      const keyId = (await h.call('CreateKey', { KeySpec: spec, Exportable: true })).KeyMetadata.KeyId;
      const p = await h.call('PrepareRehearsal', { Target: target, WrappingAlgorithm: algorithm, KeySpec: spec });
      const out = mkdtempSync(join(h.dir, 'byok-'));
      await h.call('WrapKeyMaterial', {
        KeyId: keyId, Target: target, WrappingAlgorithm: algorithm, PublicKey: p.PublicKey, OutputDir: out,
        ...(p.KeyEncryptionKeyId ? { KeyEncryptionKeyId: p.KeyEncryptionKeyId } : {}),
      });
      byok[`${target} ${algorithm} ${spec}`] = (await h.call('CheckRehearsal', { RehearsalId: p.RehearsalId, OutputDir: out })).Matches;
    }

    const report = {
      byok,
      simulated,
      providers: { sm3: SM3_PROVIDER, sm4: SM4_PROVIDER, ecdh: ECDH_PROVIDERS, keygen: EC_KEYGEN_PROVIDERS },
      message: b64(message),
      sm4: { blob: sealed.CiphertextBlob, material: b64(await materialOf(h, sealed.KeyVersionId)), decrypted: opened.Plaintext },
      k1Sign: { ...k1, digest: b64(k1Digest), signature: k1Sig, verified: k1Verified },
      sm2Sign: { ...sm2, signature: sm2Sig },
      k1Ecies: { ...k1Enc, ...(await roundTrip(k1Enc, 'ECIES_DH_SHA_1_XOR_HMAC')) },
      sm2Pke: { ...sm2Enc, ...(await roundTrip(sm2Enc, 'SM2PKE')) },
    };
    process.stdout.write(JSON.stringify(report));
  } finally {
    await h.close();
  }
}

await main();
