/**
 * The KMS service with ProtectionLevel HSM keys on a real SoftHSM2 token, driven through
 * dispatch like every front door: CreateKey for every HSM spec, every operation, the key
 * lifecycle on the token, and each error with the keystore unchanged. OpenSSL and pkcs11-tool
 * judge the outputs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { Pkcs11Backend } from '../../../src-main/backends/pkcs11/pkcs11Backend';
import { Pkcs11SessionManager } from '../../../src-main/backends/pkcs11/sessionManager';
import type { KeySpec, KeyUsage } from '../../../src-shared/domain/keySpecs';
import {
  makeSoftHsm,
  objectIdOf,
  openHsmHarness,
  openHsmHarnessOn,
  parseListObjects,
  SOFTHSM_MODULE,
  type HsmHarness,
  type SoftHsm,
} from '../../support/softhsm';
import { Scratch, openssl, opensslOk } from '../../support/openssl';

let hsm: SoftHsm;
let h: HsmHarness & { backend: Pkcs11Backend };
let scratch: Scratch;

before(async () => {
  hsm = makeSoftHsm('service-test');
  h = await openHsmHarnessOn(hsm);
  scratch = new Scratch();
});

after(async () => {
  await h.close();
  await h.backend.close();
  scratch.remove();
  hsm.cleanup();
});

interface Made {
  keyId: string;
  keyVersionId: string;
  objectId: string;
}

async function create(spec: KeySpec, usage?: KeyUsage, extra: Record<string, unknown> = {}): Promise<Made> {
  const r = await h.call('CreateKey', { KeySpec: spec, ProtectionLevel: 'HSM', ...(usage ? { KeyUsage: usage } : {}), ...extra });
  assert.equal(r.KeyMetadata.ProtectionLevel, 'HSM');
  assert.equal(r.KeyMetadata.KeySpec, spec);
  const versions = await h.call('ListKeyVersions', { KeyId: r.KeyMetadata.KeyId });
  const keyVersionId = versions.KeyVersions.KeyVersion[0]!.KeyVersionId;
  return { keyId: r.KeyMetadata.KeyId, keyVersionId, objectId: await objectIdOf(h, keyVersionId) };
}

function listed(objectId: string) {
  return parseListObjects(hsm.pkcs11Tool(['--list-objects'])).filter((o) => o.id === objectId);
}

async function publicPem(k: Made): Promise<string> {
  const r = await h.call('GetPublicKey', { KeyId: k.keyId, KeyVersionId: k.keyVersionId });
  return r.PublicKey;
}

describe('CreateKey with ProtectionLevel HSM', () => {
  it('makes every HSM spec in the token: no material in the keystore, the CKA_ID and the token serial recorded', async () => {
    for (const [spec, usage] of [
      ['AES_256', undefined],
      ['HMAC_256', undefined],
      ['HMAC_384', undefined],
      ['HMAC_512', undefined],
      ['RSA_2048', 'SIGN/VERIFY'],
      ['RSA_3072', 'ENCRYPT/DECRYPT'],
      ['EC_P256', 'SIGN/VERIFY'],
      ['EC_P256K', 'SIGN/VERIFY'],
      ['EC_P384', 'SIGN/VERIFY'],
    ] as const) {
      const k = await create(spec, usage);
      const row = await h.raw((db) =>
        db.get<{ material: Buffer | null; hsm_object_id: Buffer; token_serial: string | null }>(
          'SELECT v.material, v.hsm_object_id, k.token_serial FROM key_versions v JOIN keys k ON k.key_id = v.key_id WHERE v.key_version_id = ?',
          [k.keyVersionId],
        ),
      );
      assert.equal(row?.material, null, `${spec}: no material in the keystore`);
      assert.equal(row?.hsm_object_id.length, 16);
      assert.equal(row?.token_serial, hsm.serial, `${spec}: the keystore records the token serial`);
      const objects = listed(k.objectId);
      assert.equal(objects.length, spec.startsWith('AES') || spec.startsWith('HMAC') ? 1 : 2, spec);
      for (const o of objects) {
        assert.equal(o.label, `keyroom/${k.keyId}/${k.keyVersionId}`);
        if (o.kind.startsWith('Public')) continue;
        assert.ok(o.access.includes('sensitive') && o.access.includes('never extractable'), `${spec}: ${o.access.join(', ')}`);
      }
    }
  });

  it('RSA_4096 too (one key: SoftHSM takes a second or two)', async () => {
    const k = await create('RSA_4096', 'SIGN/VERIFY');
    const pem = scratch.file('rsa4096.pem', await publicPem(k));
    const data = scratch.file('rsa4096.data', 'artifact');
    const digest = createHash('sha256').update('artifact').digest();
    const sig = await h.call('AsymmetricSign', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: 'RSA_PSS_SHA_256', Digest: digest.toString('base64') });
    const ok = opensslOk(['dgst', '-verify', pem, '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1', '-signature', scratch.file('rsa4096.sig', Buffer.from(sig.Value, 'base64')), data]);
    assert.ok(ok.ok, ok.output);
    assert.match(openssl(['pkey', '-pubin', '-in', pem, '-noout', '-text']).toString(), /Public-Key: \(4096 bit\)/);
  });

  it('an Exportable HSM key is EXTRACTABLE (to leave only wrapped) and still SENSITIVE', async () => {
    const k = await create('AES_256', undefined, { Exportable: true });
    const [o] = listed(k.objectId);
    assert.ok(o);
    assert.ok(o.access.includes('sensitive'), o.access.join(', '));
    assert.ok(o.access.includes('extractable') && !o.access.includes('never extractable'), o.access.join(', '));
    const d = await h.call('DescribeKey', { KeyId: k.keyId });
    assert.equal(d.KeyMetadata.Exportable, true);
  });

  it('EC_SM2 and SM4 with HSM are refused by a token without those mechanisms (Hsm.MechanismUnsupported), naming SOFTWARE, nothing made', async () => {
    const before = hsm.pkcs11Tool(['--list-objects']);
    for (const spec of ['EC_SM2', 'SM4']) {
      const e = await h.refuse('CreateKey', { KeySpec: spec, ProtectionLevel: 'HSM' }, 'Hsm.MechanismUnsupported');
      assert.match(e.Message, /SOFTWARE/);
    }
    assert.equal(hsm.pkcs11Tool(['--list-objects']), before);
  });

  it('EC keys for ECIES encryption are refused in the HSM (the KDF needs the raw ECDH secret), keystore unchanged', async () => {
    const before = hsm.pkcs11Tool(['--list-objects']);
    for (const spec of ['EC_P256', 'EC_P256K']) {
      const e = await h.refuse('CreateKey', { KeySpec: spec, KeyUsage: 'ENCRYPT/DECRYPT', ProtectionLevel: 'HSM' }, 'Hsm.MechanismUnsupported');
      assert.match(e.Message, /SOFTWARE/);
    }
    assert.equal(hsm.pkcs11Tool(['--list-objects']), before);
  });
});

describe('operations inside the token, through the service', () => {
  it('AsymmetricSign with every algorithm verifies with `openssl dgst -verify`; GetPublicKey equals pkcs11-tool\'s export', async () => {
    for (const [spec, algorithm, md] of [
      ['RSA_2048', 'RSA_PSS_SHA_256', 'sha256'],
      ['RSA_2048', 'RSA_PKCS1_SHA_256', 'sha256'],
      ['EC_P256', 'ECDSA_SHA_256', 'sha256'],
      ['EC_P256K', 'ECDSA_SHA_256', 'sha256'],
      ['EC_P384', 'ECDSA_SHA_384', 'sha384'],
    ] as const) {
      const k = await create(spec, 'SIGN/VERIFY');
      const pem = await publicPem(k);
      const pemFile = scratch.file(`${k.keyId}.pem`, pem);
      if (spec !== 'EC_P384') {
        // (pkcs11-tool of OpenSC 0.23 cannot export P-384 keys; backend.test.ts compares its point instead.)
        const der = scratch.file(`${k.keyId}.p11.der`);
        hsm.pkcs11Tool(['--read-object', '--type', 'pubkey', '--id', k.objectId, '-o', der]);
        assert.equal(openssl(['pkey', '-pubin', '-inform', 'DER', '-in', der]).toString(), openssl(['pkey', '-pubin', '-in', pemFile]).toString(), spec);
      }
      const data = scratch.file(`${k.keyId}.data`, randomBytes(300));
      const digest = createHash(md).update(scratch.read(`${k.keyId}.data`)).digest();
      const r = await h.call('AsymmetricSign', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: algorithm, Digest: digest.toString('base64') });
      const sig = scratch.file(`${k.keyId}.${algorithm}.sig`, Buffer.from(r.Value, 'base64'));
      const pss = algorithm === 'RSA_PSS_SHA_256' ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1'] : [];
      const ok = opensslOk(['dgst', '-verify', pemFile, `-${md}`, ...pss, '-signature', sig, data]);
      assert.ok(ok.ok, `${spec} ${algorithm}: ${ok.output}`);
      const v = await h.call('AsymmetricVerify', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: algorithm, Digest: digest.toString('base64'), Value: r.Value });
      assert.equal(v.Value, true);
    }
  });

  it('Encrypt / Decrypt with AES-256-GCM in the token; a changed blob or context is InvalidCiphertext with nothing changed', async () => {
    const k = await create('AES_256');
    const ctx = { purpose: 'test', order: '1' };
    const e = await h.call('Encrypt', { KeyId: k.keyId, Plaintext: 'secret words', EncryptionContext: ctx });
    const d = await h.call('Decrypt', { CiphertextBlob: e.CiphertextBlob, EncryptionContext: { order: '1', purpose: 'test' } });
    assert.equal(d.Plaintext, 'secret words');
    const empty = await h.call('Encrypt', { KeyId: k.keyId, Plaintext: '' });
    assert.equal((await h.call('Decrypt', { CiphertextBlob: empty.CiphertextBlob })).Plaintext, '');
    const blob = Buffer.from(e.CiphertextBlob, 'base64');
    blob[blob.length - 20]! ^= 1;
    await h.refuse('Decrypt', { CiphertextBlob: blob.toString('base64'), EncryptionContext: ctx }, 'InvalidCiphertext');
    await h.refuse('Decrypt', { CiphertextBlob: e.CiphertextBlob, EncryptionContext: { purpose: 'other', order: '1' } }, 'InvalidCiphertext');
    const dk = await h.call('GenerateDataKey', { KeyId: k.keyId });
    assert.equal((await h.call('Decrypt', { CiphertextBlob: dk.CiphertextBlob })).Plaintext, dk.Plaintext);
  });

  it('GenerateMac / VerifyMac with HMAC keys in the token; a flipped MAC does not verify', async () => {
    for (const [spec, algorithm, bytes] of [['HMAC_256', 'HMAC_SHA_256', 32], ['HMAC_384', 'HMAC_SHA_384', 48], ['HMAC_512', 'HMAC_SHA_512', 64]] as const) {
      const k = await create(spec);
      const message = Buffer.from(`message for ${spec}`).toString('base64');
      const g = await h.call('GenerateMac', { KeyId: k.keyId, Message: message });
      assert.equal(g.MacAlgorithm, algorithm);
      assert.equal(Buffer.from(g.Mac, 'base64').length, bytes);
      assert.equal((await h.call('VerifyMac', { KeyId: k.keyId, Message: message, Mac: g.Mac })).MacValid, true);
      const flipped = Buffer.from(g.Mac, 'base64');
      flipped[bytes - 1]! ^= 1;
      assert.equal((await h.call('VerifyMac', { KeyId: k.keyId, Message: message, Mac: flipped.toString('base64') })).MacValid, false);
    }
  });

  it('AsymmetricDecrypt in the token of what `openssl pkeyutl` (OAEP SHA-256 and SHA-1) and AsymmetricEncrypt made', async () => {
    const k = await create('RSA_2048', 'ENCRYPT/DECRYPT');
    const pem = scratch.file('oaep.pem', await publicPem(k));
    for (const [algorithm, md] of [['RSAES_OAEP_SHA_256', 'sha256'], ['RSAES_OAEP_SHA_1', 'sha1']] as const) {
      const plaintext = randomBytes(48);
      const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pem, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`], plaintext);
      const r = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: algorithm, CiphertextBlob: ct.toString('base64') });
      assert.equal(r.Plaintext, plaintext.toString('base64'), algorithm);
      const enc = await h.call('AsymmetricEncrypt', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: algorithm, Plaintext: plaintext.toString('base64') });
      const back = await h.call('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: algorithm, CiphertextBlob: enc.CiphertextBlob });
      assert.equal(back.Plaintext, plaintext.toString('base64'));
      const bad = Buffer.from(ct);
      bad[7]! ^= 1;
      await h.refuse('AsymmetricDecrypt', { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: algorithm, CiphertextBlob: bad.toString('base64') }, 'InvalidCiphertext');
    }
  });
});

describe('key lifecycle on the token', () => {
  it('CreateKeyVersion makes new objects in the token: a new primary for AES (old ciphertext still decrypts), a new pair for EC', async () => {
    const aes = await create('AES_256');
    const old = await h.call('Encrypt', { KeyId: aes.keyId, Plaintext: 'before rotation' });
    const nv = await h.call('CreateKeyVersion', { KeyId: aes.keyId });
    const newId = await objectIdOf(h, nv.KeyVersion.KeyVersionId);
    assert.notEqual(newId, aes.objectId);
    assert.equal(listed(newId)[0]?.label, `keyroom/${aes.keyId}/${nv.KeyVersion.KeyVersionId}`);
    const fresh = await h.call('Encrypt', { KeyId: aes.keyId, Plaintext: 'after rotation' });
    assert.equal(fresh.KeyVersionId, nv.KeyVersion.KeyVersionId);
    assert.equal((await h.call('Decrypt', { CiphertextBlob: old.CiphertextBlob })).Plaintext, 'before rotation');
    assert.equal((await h.call('Decrypt', { CiphertextBlob: fresh.CiphertextBlob })).Plaintext, 'after rotation');

    const ec = await create('EC_P256', 'SIGN/VERIFY');
    const v2 = await h.call('CreateKeyVersion', { KeyId: ec.keyId });
    const ecId = await objectIdOf(h, v2.KeyVersion.KeyVersionId);
    assert.equal(listed(ecId).length, 2, 'a new key pair');
    assert.notEqual(await publicPem({ ...ec, keyVersionId: v2.KeyVersion.KeyVersionId }), await publicPem(ec));
    const digest = createHash('sha256').update('v2').digest('base64');
    const s = await h.call('AsymmetricSign', { KeyId: ec.keyId, KeyVersionId: v2.KeyVersion.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
    assert.equal((await h.call('AsymmetricVerify', { KeyId: ec.keyId, KeyVersionId: v2.KeyVersion.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest, Value: s.Value })).Value, true);
  });

  it('ScheduleKeyDeletion: once DeleteDate has passed and the keystore reopens, every version\'s objects are destroyed on the token', async () => {
    const k = await create('RSA_2048', 'SIGN/VERIFY');
    const v2 = await h.call('CreateKeyVersion', { KeyId: k.keyId });
    const id2 = await objectIdOf(h, v2.KeyVersion.KeyVersionId);
    assert.equal(listed(k.objectId).length, 2);
    assert.equal(listed(id2).length, 2);
    const s = await h.call('ScheduleKeyDeletion', { KeyId: k.keyId, PendingWindowInDays: 7 });
    h.clock.now = new Date(Date.parse(s.DeleteDate) - 60_000);
    await h.reopen();
    assert.equal(listed(k.objectId).length, 2, 'not before DeleteDate');
    h.clock.now = new Date(Date.parse(s.DeleteDate) + 60_000);
    await h.reopen();
    assert.equal(listed(k.objectId).length, 0, 'objects of version 1 destroyed');
    assert.equal(listed(id2).length, 0, 'objects of version 2 destroyed');
    await h.refuse('DescribeKey', { KeyId: k.keyId }, 'NotFound.Key');
    const audit = await h.raw((db) => db.all<{ operation: string }>("SELECT operation FROM audit_log WHERE key_id = ? AND operation = 'DestroyKey'", [k.keyId]));
    assert.equal(audit.length, 1, 'the destruction is in the audit log');
  });

  it('a key whose token object was deleted behind Keyroom\'s back: Hsm.KeyNotFound, keystore unchanged', async () => {
    const k = await create('EC_P256', 'SIGN/VERIFY');
    const input = { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: randomBytes(32).toString('base64') };
    await h.call('AsymmetricSign', input);
    hsm.pkcs11Tool(['--delete-object', '--type', 'privkey', '--id', k.objectId]);
    const e = await h.refuse('AsymmetricSign', input, 'Hsm.KeyNotFound');
    assert.match(e.Message, /behind Keyroom's back/);
    assert.ok(e.Message.includes(k.objectId), 'names the CKA_ID');

    const aes = await create('AES_256');
    const blob = await h.call('Encrypt', { KeyId: aes.keyId, Plaintext: 'x' });
    hsm.pkcs11Tool(['--delete-object', '--type', 'secrkey', '--id', aes.objectId]);
    await h.refuse('Decrypt', { CiphertextBlob: blob.CiphertextBlob }, 'Hsm.KeyNotFound');
    await h.refuse('Encrypt', { KeyId: aes.keyId, Plaintext: 'y' }, 'Hsm.KeyNotFound');
  });
});

describe('a token that cannot be reached: each error with the keystore unchanged', () => {
  /** A harness whose HSM backend connects on first use, as a front door configures it. */
  async function lazyHarness(opts: { modulePath?: string; tokenLabel?: string; pin?: string }): Promise<HsmHarness> {
    const backend = new Pkcs11Backend(() =>
      Pkcs11SessionManager.open({ modulePath: opts.modulePath ?? SOFTHSM_MODULE, tokenLabel: opts.tokenLabel ?? hsm.label, pin: Buffer.from(opts.pin ?? hsm.pin) }),
    );
    const lazy = await openHsmHarness(backend);
    // The keystore has something in it, and software keys work without the token.
    const sw = await lazy.call('CreateKey', { KeySpec: 'AES_256' });
    await lazy.call('Encrypt', { KeyId: sw.KeyMetadata.KeyId, Plaintext: 'software key' });
    return lazy;
  }

  it('a wrong PIN: Hsm.PinIncorrect, nothing made on the token or in the keystore', async () => {
    // This process is already logged in to the token (the other harness), where C_Login would
    // accept any PIN: the manager checks it against the one the token accepted. (The token's own
    // verdict, with its CKF_USER_PIN_COUNT_LOW flag, is in sessions.test.ts.)
    const lazy = await lazyHarness({ pin: '11111111' });
    try {
      const before = hsm.pkcs11Tool(['--list-objects']);
      const e = await lazy.refuse('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' }, 'Hsm.PinIncorrect');
      assert.match(e.Message, /CKR_PIN_INCORRECT/);
      assert.ok(!e.Message.includes('11111111'));
      assert.equal(hsm.pkcs11Tool(['--list-objects']), before);
    } finally {
      await lazy.close();
    }
  });

  it('an absent token: Hsm.TokenNotPresent naming the label', async () => {
    const lazy = await lazyHarness({ tokenLabel: 'usb-hsm-in-the-safe' });
    try {
      const e = await lazy.refuse('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }, 'Hsm.TokenNotPresent');
      assert.match(e.Message, /usb-hsm-in-the-safe/);
    } finally {
      await lazy.close();
    }
  });

  it('a missing module: Hsm.ModuleNotFound naming the path tried', async () => {
    const lazy = await lazyHarness({ modulePath: '/opt/vendor/lib/libmissing-pkcs11.so' });
    try {
      const e = await lazy.refuse('CreateKey', { KeySpec: 'HMAC_256', ProtectionLevel: 'HSM' }, 'Hsm.ModuleNotFound');
      assert.match(e.Message, /\/opt\/vendor\/lib\/libmissing-pkcs11\.so/);
    } finally {
      await lazy.close();
    }
  });

  it('the same lazy backend with the right PIN makes and uses HSM keys', async () => {
    const lazy = await lazyHarness({});
    try {
      const r = await lazy.call('CreateKey', { KeySpec: 'HMAC_256', ProtectionLevel: 'HSM' });
      const g = await lazy.call('GenerateMac', { KeyId: r.KeyMetadata.KeyId, Message: 'aGk=' });
      assert.equal((await lazy.call('VerifyMac', { KeyId: r.KeyMetadata.KeyId, Message: 'aGk=', Mac: g.Mac })).MacValid, true);
    } finally {
      await lazy.close();
      await (lazy.backend as Pkcs11Backend).close();
    }
  });
});

describe('what the token holds', () => {
  it('reads CKA_EXTRACTABLE false and CKA_SENSITIVE true on every non-exportable private and secret object Keyroom made', async () => {
    const manager = await h.backend.sessionManager();
    const rows = await h.raw((db) =>
      db.all<{ hsm_object_id: Buffer; exportable: number }>('SELECT v.hsm_object_id, k.exportable FROM key_versions v JOIN keys k ON k.key_id = v.key_id WHERE v.hsm_object_id IS NOT NULL'),
    );
    assert.ok(rows.length > 10);
    let checked = 0;
    await manager.run('read attributes', (s) => {
      for (const row of rows) {
        s.p11.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_ID, value: row.hsm_object_id }]);
        const objects = s.p11.C_FindObjects(s.handle, 4);
        s.p11.C_FindObjectsFinal(s.handle);
        for (const o of objects) {
          const [cls] = s.p11.C_GetAttributeValue(s.handle, o, [{ type: pkcs11js.CKA_CLASS }]);
          if (cls!.value.readUInt32LE(0) === pkcs11js.CKO_PUBLIC_KEY) continue;
          const [sensitive, extractable] = s.p11.C_GetAttributeValue(s.handle, o, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
          assert.equal(sensitive!.value[0], 1);
          assert.equal(extractable!.value[0], row.exportable);
          checked++;
        }
      }
    });
    assert.ok(checked > 10, `${checked} objects checked`);
  });
});
