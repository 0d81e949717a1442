/** Encrypt/Decrypt, the CiphertextBlob, EncryptionContext, data keys and MACs. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';
import { openHarness, materialOf, type Harness } from '../../support/kmsHarness';
import { HEADER_BYTES, TAG_BYTES } from '../../../src-main/crypto/ciphertextBlob';
import { canonicalEncryptionContext } from '../../../src-shared/encryptionContext';
import { openssl } from '../../support/openssl';
import { dispatch } from '../../../src-main/handlers/dispatch';

describe('Encrypt and Decrypt', () => {
  let h: Harness;
  let aes: string;
  let sm4: string;
  before(async () => {
    h = await openHarness();
    aes = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    sm4 = (await h.call('CreateKey', { KeySpec: 'Aliyun_SM4' })).KeyMetadata.KeyId;
  });
  after(() => h.close());

  it('round-trips text with AES-256-GCM and SM4-GCM; contexts compare as sets of pairs', async () => {
    for (const keyId of [aes, sm4]) {
      const text = 'Schlüssel 密钥 🔑';
      const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: text, EncryptionContext: { b: '2', a: '1' } });
      const dec = await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: '{"a":"1","b":"2"}' });
      assert.equal(dec.Plaintext, text);
      assert.equal(dec.KeyId, keyId);
      assert.equal(dec.KeyVersionId, enc.KeyVersionId);
      await h.refuse('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, 'InvalidCiphertext');
      await h.refuse('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '1', b: '3' } }, 'InvalidCiphertext');
      await h.refuse('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '1' } }, 'InvalidCiphertext');
    }
    const tenantA = await h.call('Encrypt', { KeyId: aes, Plaintext: 'a', EncryptionContext: '{"__proto__":"tenant-A"}' });
    await h.refuse('Decrypt', { CiphertextBlob: tenantA.CiphertextBlob }, 'InvalidCiphertext');
    await h.refuse('Decrypt', { CiphertextBlob: tenantA.CiphertextBlob, EncryptionContext: '{"__proto__":"tenant-B"}' }, 'InvalidCiphertext');
    assert.equal((await h.call('Decrypt', { CiphertextBlob: tenantA.CiphertextBlob, EncryptionContext: '{"__proto__":"tenant-A"}' })).Plaintext, 'a');
  });

  it('an AES ciphertext blob decrypts with OpenSSL\'s GCM given the documented layout (independent check)', async () => {
    const ctx = { project: 'keyroom' };
    const enc = await h.call('Encrypt', { KeyId: aes, Plaintext: 'layout check', EncryptionContext: ctx });
    const blob = Buffer.from(enc.CiphertextBlob, 'base64');
    const key = await materialOf(h, enc.KeyVersionId);
    const header = blob.subarray(0, HEADER_BYTES);
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(34, 46));
    d.setAAD(Buffer.concat([header, Buffer.from(canonicalEncryptionContext(ctx))]));
    d.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    const out = Buffer.concat([d.update(blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES)), d.final()]);
    assert.equal(out.toString(), 'layout check');
    assert.equal(blob[0], 1);
    assert.equal(blob.subarray(1, 17).toString('hex'), aes.replace(/-/g, ''));
  });

  it('fails to decrypt when any single byte of the blob changes', async () => {
    for (const keyId of [aes, sm4]) {
      const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: 'tamper me' });
      const blob = Buffer.from(enc.CiphertextBlob, 'base64');
      for (let i = 0; i < blob.length; i++) {
        const bad = Buffer.from(blob);
        bad[i]! ^= 0x01;
        const before = await h.state();
        const res = await dispatch(h.session, 'Decrypt', { CiphertextBlob: bad.toString('base64') });
        assert.equal(res.ok, false, `byte ${i} changed and it still decrypted`);
        if (!res.ok) assert.ok(['InvalidCiphertext', 'NotFound.Key', 'NotFound.KeyVersion'].includes(res.error.Code), res.error.Code);
        assert.equal(await h.state(), before);
      }
      await h.refuse('Decrypt', { CiphertextBlob: blob.subarray(0, 40).toString('base64') }, 'InvalidCiphertext');
    }
    await h.refuse('Decrypt', { CiphertextBlob: 'not base64!' }, 'InvalidParameter');
  });

  it('refuses bad contexts and keys that cannot encrypt', async () => {
    await h.refuse('Encrypt', { KeyId: aes, Plaintext: 'x', EncryptionContext: '["a"]' }, 'InvalidParameter.EncryptionContext');
    await h.refuse('Encrypt', { KeyId: aes, Plaintext: 'x', EncryptionContext: { a: 1 } }, 'InvalidParameter.EncryptionContext');
    await h.refuse('Encrypt', { KeyId: aes, Plaintext: 'x', EncryptionContext: { a: { b: 'c' } } }, 'InvalidParameter.EncryptionContext');
    await h.refuse('Encrypt', { KeyId: aes, Plaintext: 'x', EncryptionContext: '{bad json' }, 'InvalidParameter.EncryptionContext');
    await h.refuse('Encrypt', { KeyId: aes, Plaintext: 'x', EncryptionContext: { k: 'v'.repeat(8200) } }, 'InvalidParameter.EncryptionContext');
    await h.refuse('Encrypt', { KeyId: aes, Plaintext: 'x'.repeat(6145) }, 'InvalidParameter');
    const hmac = (await h.call('CreateKey', { KeySpec: 'HMAC_256' })).KeyMetadata.KeyId;
    await h.refuse('Encrypt', { KeyId: hmac, Plaintext: 'x' }, 'Rejected.KeyUsage');
    const rsa = (await h.call('CreateKey', { KeySpec: 'RSA_2048' })).KeyMetadata.KeyId;
    await h.refuse('Encrypt', { KeyId: rsa, Plaintext: 'x' }, 'Rejected.KeyUsage');
    const ext = (await h.call('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    await h.refuse('Encrypt', { KeyId: ext, Plaintext: 'x' }, 'Rejected.KeyState');
  });
});

describe('GenerateDataKey', () => {
  let h: Harness;
  let aes: string;
  before(async () => {
    h = await openHarness();
    aes = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
  });
  after(() => h.close());

  it('returns a data key in plaintext and under the CMK; Decrypt gives the same base64 back', async () => {
    const dk = await h.call('GenerateDataKey', { KeyId: aes, EncryptionContext: { use: 'disk' } });
    assert.equal(Buffer.from(dk.Plaintext, 'base64').length, 32);
    const back = await h.call('Decrypt', { CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { use: 'disk' } });
    assert.equal(back.Plaintext, dk.Plaintext);
    // The data key works as an AES-256 key for OpenSSL, as a caller would use it.
    const keyHex = Buffer.from(dk.Plaintext, 'base64').toString('hex');
    const ct = openssl(['enc', '-aes-256-cbc', '-K', keyHex, '-iv', '00'.repeat(16)], Buffer.from('bulk data'));
    assert.equal(openssl(['enc', '-d', '-aes-256-cbc', '-K', keyHex, '-iv', '00'.repeat(16)], ct).toString(), 'bulk data');
  });

  it('honours KeySpec and NumberOfBytes (1-1024); WithoutPlaintext returns no plaintext', async () => {
    assert.equal(Buffer.from((await h.call('GenerateDataKey', { KeyId: aes, KeySpec: 'AES_128' })).Plaintext, 'base64').length, 16);
    assert.equal(Buffer.from((await h.call('GenerateDataKey', { KeyId: aes, NumberOfBytes: 1024 })).Plaintext, 'base64').length, 1024);
    assert.equal(Buffer.from((await h.call('GenerateDataKey', { KeyId: aes, NumberOfBytes: '1' })).Plaintext, 'base64').length, 1);
    await h.refuse('GenerateDataKey', { KeyId: aes, NumberOfBytes: 0 }, 'InvalidParameter.NumberOfBytes');
    await h.refuse('GenerateDataKey', { KeyId: aes, NumberOfBytes: 1025 }, 'InvalidParameter.NumberOfBytes');
    await h.refuse('GenerateDataKey', { KeyId: aes, KeySpec: 'AES_512' }, 'InvalidParameter.KeySpec');
    const w = await h.call('GenerateDataKeyWithoutPlaintext', { KeyId: aes });
    assert.ok(!('Plaintext' in w));
    const back = await h.call('Decrypt', { CiphertextBlob: w.CiphertextBlob });
    assert.equal(Buffer.from(back.Plaintext, 'base64').length, 32);
  });
});

describe('GenerateMac and VerifyMac', () => {
  let h: Harness;
  before(async () => (h = await openHarness()));
  after(() => h.close());

  it('computes HMAC-SHA-256/384/512 that an independent HMAC agrees with', async () => {
    const message = Buffer.from('release 1.2.3');
    for (const [spec, alg, hash] of [
      ['HMAC_256', 'HMAC_SHA_256', 'sha256'],
      ['HMAC_384', 'HMAC_SHA_384', 'sha384'],
      ['HMAC_512', 'HMAC_SHA_512', 'sha512'],
    ] as const) {
      const keyId = (await h.call('CreateKey', { KeySpec: spec })).KeyMetadata.KeyId;
      const mac = await h.call('GenerateMac', { KeyId: keyId, Message: message.toString('base64') });
      assert.equal(mac.MacAlgorithm, alg);
      const key = await materialOf(h, mac.KeyVersionId);
      const hexKey = key.toString('hex');
      const expected = openssl(['dgst', `-${hash}`, '-mac', 'HMAC', '-macopt', `hexkey:${hexKey}`, '-binary'], message);
      assert.equal(mac.Mac, expected.toString('base64'));
      assert.equal(createHmac(hash, key).update(message).digest('base64'), mac.Mac);
      const ok = await h.call('VerifyMac', { KeyId: keyId, Message: message.toString('base64'), Mac: mac.Mac });
      assert.equal(ok.MacValid, true);
      const bad = Buffer.from(mac.Mac, 'base64');
      bad[0]! ^= 1;
      assert.equal((await h.call('VerifyMac', { KeyId: keyId, Message: message.toString('base64'), Mac: bad.toString('base64') })).MacValid, false);
      await h.refuse('GenerateMac', { KeyId: keyId, Message: message.toString('base64'), MacAlgorithm: alg === 'HMAC_SHA_256' ? 'HMAC_SHA_512' : 'HMAC_SHA_256' }, 'Rejected.Algorithm');
    }
    const aes = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
    await h.refuse('GenerateMac', { KeyId: aes, Message: 'AA==' }, 'Rejected.KeyUsage');
    const hm = (await h.call('CreateKey', { KeySpec: 'HMAC_256' })).KeyMetadata.KeyId;
    await h.refuse('GenerateMac', { KeyId: hm, Message: Buffer.alloc(4097).toString('base64') }, 'InvalidParameter');
  });
});
