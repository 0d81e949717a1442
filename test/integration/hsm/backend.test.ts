/**
 * The PKCS#11 backend on a real SoftHSM2 token, driven directly: every HSM spec generated in the
 * token, every operation done there, every output checked by OpenSSL or pkcs11-tool.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { Pkcs11Backend } from '../../../src-main/backends/pkcs11/pkcs11Backend';
import type { Pkcs11SessionManager } from '../../../src-main/backends/pkcs11/sessionManager';
import type { NewMaterial, StoredVersion } from '../../../src-main/backends/backend';
import { KmsError } from '../../../src-shared/errors';
import type { KeySpec, KeyUsage } from '../../../src-shared/domain/keySpecs';
import { makeSoftHsm, parseListObjects, type SoftHsm } from '../../support/softhsm';
import { Scratch, openssl, opensslOk } from '../../support/openssl';

let hsm: SoftHsm;
let manager: Pkcs11SessionManager;
let backend: Pkcs11Backend;
let scratch: Scratch;

before(async () => {
  hsm = makeSoftHsm('backend-test');
  manager = await hsm.openManager();
  backend = new Pkcs11Backend(manager);
  scratch = new Scratch();
});

after(async () => {
  await backend.close();
  scratch.remove();
  hsm.cleanup();
});

let n = 0;
async function make(spec: KeySpec, opts: { exportable?: boolean; usage?: KeyUsage } = {}): Promise<{ v: StoredVersion; m: NewMaterial }> {
  n++;
  const keyId = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const keyVersionId = `11111111-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const m = await backend.generate(spec, { exportable: opts.exportable ?? false, keyId, keyVersionId, usage: opts.usage });
  assert.equal(m.material, null, 'no key material leaves the token');
  assert.ok(m.hsmObjectId && m.hsmObjectId.length === 16, 'a 16-byte CKA_ID');
  assert.equal(m.tokenSerial, hsm.serial);
  return { v: { keyId, keyVersionId, keySpec: spec, material: null, publicKey: m.publicKey, hsmObjectId: m.hsmObjectId }, m };
}

/** CKA_* attributes of the version's objects of one class, read in the token. */
async function attributes(id: Buffer, cls: number, types: number[]): Promise<Map<number, Buffer>> {
  return manager.run('read attributes', (s) => {
    s.p11.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_ID, value: id }, { type: pkcs11js.CKA_CLASS, value: cls }]);
    const found = s.p11.C_FindObjects(s.handle, 2);
    s.p11.C_FindObjectsFinal(s.handle);
    assert.equal(found.length, 1, 'one object of that class with that CKA_ID');
    const out = s.p11.C_GetAttributeValue(s.handle, found[0]!, types.map((type) => ({ type })));
    return new Map(out.map((a) => [a.type, a.value]));
  });
}

const bool = (b: Buffer | undefined) => b?.[0] === 1;

function pemOf(der: Buffer): string {
  return openssl(['pkey', '-pubin', '-inform', 'DER', '-outform', 'PEM'], der).toString();
}

/** The public key pkcs11-tool exports for this CKA_ID (DER SPKI). */
function pkcs11ToolPublicKey(id: Buffer): Buffer {
  const out = scratch.file(`pub-${id.toString('hex')}.der`);
  hsm.pkcs11Tool(['--read-object', '--type', 'pubkey', '--id', id.toString('hex'), '-o', out]);
  return scratch.read(`pub-${id.toString('hex')}.der`);
}

/** EC_POINT and EC_PARAMS of the public key object, as pkcs11-tool --list-objects prints them. */
function pkcs11ToolListing(id: Buffer): { ecPoint?: string; ecParams?: string } {
  const out = hsm.pkcs11Tool(['--list-objects', '--type', 'pubkey']);
  const blocks = out.split(/\n(?=\S)/);
  const mine = blocks.find((b) => new RegExp(`ID:\\s+${id.toString('hex')}`, 'i').test(b));
  assert.ok(mine, 'pkcs11-tool lists the public key');
  return { ecPoint: /EC_POINT:\s+([0-9a-f]+)/i.exec(mine)?.[1]?.toLowerCase(), ecParams: /EC_PARAMS:\s+([0-9a-f]+)/i.exec(mine)?.[1]?.toLowerCase() };
}

async function expectCode(p: Promise<unknown>, code: string, includes?: RegExp): Promise<KmsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KmsError, `a KmsError, not ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (includes) assert.match(e.message, includes);
    assert.ok(!e.message.includes(hsm.pin), 'the PIN is never in a message');
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('AES_256 in the token', () => {
  let v: StoredVersion;
  before(async () => {
    ({ v } = await make('AES_256'));
  });

  it('is a sensitive, never-extractable token object with the right flags and label', async () => {
    const a = await attributes(v.hsmObjectId!, pkcs11js.CKO_SECRET_KEY, [
      pkcs11js.CKA_TOKEN, pkcs11js.CKA_PRIVATE, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_NEVER_EXTRACTABLE,
      pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_SIGN, pkcs11js.CKA_WRAP, pkcs11js.CKA_LABEL, pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_VALUE_LEN,
    ]);
    assert.equal(bool(a.get(pkcs11js.CKA_TOKEN)), true);
    assert.equal(bool(a.get(pkcs11js.CKA_PRIVATE)), true);
    assert.equal(bool(a.get(pkcs11js.CKA_SENSITIVE)), true);
    assert.equal(bool(a.get(pkcs11js.CKA_EXTRACTABLE)), false);
    assert.equal(bool(a.get(pkcs11js.CKA_NEVER_EXTRACTABLE)), true);
    assert.equal(bool(a.get(pkcs11js.CKA_ENCRYPT)), true);
    assert.equal(bool(a.get(pkcs11js.CKA_DECRYPT)), true);
    assert.equal(bool(a.get(pkcs11js.CKA_SIGN)), false);
    assert.equal(bool(a.get(pkcs11js.CKA_WRAP)), false);
    assert.equal(a.get(pkcs11js.CKA_LABEL)!.toString(), `keyroom/${v.keyId}/${v.keyVersionId}`);
    assert.equal(a.get(pkcs11js.CKA_KEY_TYPE)!.readUInt32LE(0), pkcs11js.CKK_AES);
    assert.equal(a.get(pkcs11js.CKA_VALUE_LEN)!.readUInt32LE(0), 32);
  });

  it('refuses to give out CKA_VALUE', async () => {
    await assert.rejects(
      manager.run('read the value', (s) => {
        s.p11.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_ID, value: v.hsmObjectId! }]);
        const [key] = s.p11.C_FindObjects(s.handle, 1);
        s.p11.C_FindObjectsFinal(s.handle);
        return s.p11.C_GetAttributeValue(s.handle, key!, [{ type: pkcs11js.CKA_VALUE }]);
      }),
      (e: unknown) => e instanceof KmsError && /CKR_ATTRIBUTE_SENSITIVE/.test(e.message),
    );
  });

  it('encrypts and decrypts AES-256-GCM with a 12-byte IV, a 16-byte tag and the AAD', async () => {
    for (const size of [0, 1, 15, 16, 17, 1000, 6144]) {
      const iv = randomBytes(12);
      const aad = Buffer.from(`header-${size}`);
      const plaintext = randomBytes(size);
      const box = await backend.symmetricEncrypt(v, iv, plaintext, aad);
      assert.equal(box.ciphertext.length, size);
      assert.equal(box.tag.length, 16);
      const back = await backend.symmetricDecrypt(v, iv, box, aad);
      assert.deepEqual(back, plaintext, `size ${size}`);
    }
  });

  it('gives InvalidCiphertext for a changed ciphertext, tag, IV or AAD, and keeps working', async () => {
    const iv = randomBytes(12);
    const aad = Buffer.from('context');
    const box = await backend.symmetricEncrypt(v, iv, Buffer.from('attack at dawn'), aad);
    const flip = (b: Buffer, i = 0) => {
      const c = Buffer.from(b);
      c[i]! ^= 1;
      return c;
    };
    await expectCode(backend.symmetricDecrypt(v, iv, { ciphertext: flip(box.ciphertext, 3), tag: box.tag }, aad), 'InvalidCiphertext');
    await expectCode(backend.symmetricDecrypt(v, iv, { ciphertext: box.ciphertext, tag: flip(box.tag, 15) }, aad), 'InvalidCiphertext');
    await expectCode(backend.symmetricDecrypt(v, flip(iv), box, aad), 'InvalidCiphertext');
    await expectCode(backend.symmetricDecrypt(v, iv, box, Buffer.from('contexT')), 'InvalidCiphertext');
    await expectCode(backend.symmetricDecrypt(v, iv, { ciphertext: box.ciphertext, tag: box.tag.subarray(0, 12) }, aad), 'InvalidCiphertext');
    assert.equal((await backend.symmetricDecrypt(v, iv, box, aad)).toString(), 'attack at dawn');
  });

  it('refuses MAC, signing and asymmetric decryption with an AES key', async () => {
    await expectCode(backend.mac(v, 'HMAC_SHA_256', Buffer.from('x')), 'Hsm.MechanismUnsupported');
    await expectCode(backend.sign(v, 'ECDSA_SHA_256', Buffer.alloc(32)), 'Hsm.MechanismUnsupported');
  });
});

describe('HMAC keys in the token', () => {
  for (const [spec, algorithm, bytes, mech] of [
    ['HMAC_256', 'HMAC_SHA_256', 32, pkcs11js.CKM_SHA256_HMAC],
    ['HMAC_384', 'HMAC_SHA_384', 48, pkcs11js.CKM_SHA384_HMAC],
    ['HMAC_512', 'HMAC_SHA_512', 64, pkcs11js.CKM_SHA512_HMAC],
  ] as const) {
    it(`${spec}: a ${bytes}-byte generic secret that computes ${algorithm}, checked by the token's own C_Verify`, async () => {
      const { v } = await make(spec);
      const a = await attributes(v.hsmObjectId!, pkcs11js.CKO_SECRET_KEY, [
        pkcs11js.CKA_KEY_TYPE, pkcs11js.CKA_VALUE_LEN, pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE,
      ]);
      assert.equal(a.get(pkcs11js.CKA_KEY_TYPE)!.readUInt32LE(0), pkcs11js.CKK_GENERIC_SECRET);
      assert.equal(a.get(pkcs11js.CKA_VALUE_LEN)!.readUInt32LE(0), bytes);
      assert.equal(bool(a.get(pkcs11js.CKA_SIGN)), true);
      assert.equal(bool(a.get(pkcs11js.CKA_ENCRYPT)), false);
      assert.equal(bool(a.get(pkcs11js.CKA_SENSITIVE)), true);
      assert.equal(bool(a.get(pkcs11js.CKA_EXTRACTABLE)), false);

      const message = Buffer.from('the quick brown fox');
      const mac = await backend.mac(v, algorithm, message);
      assert.equal(mac.length, bytes);
      assert.deepEqual(await backend.mac(v, algorithm, message), mac, 'deterministic');
      assert.notDeepEqual(await backend.mac(v, algorithm, Buffer.from('the quick brown fox.')), mac);
      assert.equal((await backend.mac(v, algorithm, Buffer.alloc(0))).length, bytes);

      const verify = (msg: Buffer, tag: Buffer) =>
        manager.run('verify', (s) => {
          s.p11.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_ID, value: v.hsmObjectId! }]);
          const [key] = s.p11.C_FindObjects(s.handle, 1);
          s.p11.C_FindObjectsFinal(s.handle);
          s.p11.C_VerifyInit(s.handle, { mechanism: mech }, key!);
          return s.p11.C_Verify(s.handle, msg, tag);
        });
      assert.equal(await verify(message, mac), true);
      const flipped = Buffer.from(mac);
      flipped[0]! ^= 0x80;
      await assert.rejects(verify(message, flipped), /CKR_SIGNATURE_INVALID/);
    });
  }
});

describe('RSA keys in the token', () => {
  let v: StoredVersion;
  before(async () => {
    ({ v } = await make('RSA_2048'));
  });

  it('builds a SubjectPublicKeyInfo that OpenSSL reads and that equals pkcs11-tool\'s export', () => {
    const text = openssl(['pkey', '-pubin', '-inform', 'DER', '-noout', '-text'], v.publicKey!).toString();
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Exponent: 65537/);
    assert.deepEqual(pkcs11ToolPublicKey(v.hsmObjectId!), v.publicKey);
  });

  it('keeps the private key sensitive and never extractable; the public key is a token object too', async () => {
    const priv = await attributes(v.hsmObjectId!, pkcs11js.CKO_PRIVATE_KEY, [
      pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_ALWAYS_SENSITIVE, pkcs11js.CKA_NEVER_EXTRACTABLE, pkcs11js.CKA_TOKEN, pkcs11js.CKA_PRIVATE,
      pkcs11js.CKA_SIGN, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_UNWRAP,
    ]);
    for (const t of [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_ALWAYS_SENSITIVE, pkcs11js.CKA_NEVER_EXTRACTABLE, pkcs11js.CKA_TOKEN, pkcs11js.CKA_PRIVATE]) {
      assert.equal(bool(priv.get(t)), true, `attribute 0x${t.toString(16)}`);
    }
    assert.equal(bool(priv.get(pkcs11js.CKA_EXTRACTABLE)), false);
    assert.equal(bool(priv.get(pkcs11js.CKA_UNWRAP)), false);
    // Usage unknown to generate(): both usages of an RSA key are allowed.
    assert.equal(bool(priv.get(pkcs11js.CKA_SIGN)), true);
    assert.equal(bool(priv.get(pkcs11js.CKA_DECRYPT)), true);
    const pub = await attributes(v.hsmObjectId!, pkcs11js.CKO_PUBLIC_KEY, [pkcs11js.CKA_TOKEN, pkcs11js.CKA_MODULUS_BITS]);
    assert.equal(bool(pub.get(pkcs11js.CKA_TOKEN)), true);
  });

  it('signs RSA_PSS_SHA_256 (salt 32) and RSA_PKCS1_SHA_256 as `openssl dgst -verify` expects', async () => {
    const pem = scratch.file('rsa.pem', pemOf(v.publicKey!));
    const data = scratch.file('rsa-data', randomBytes(1000));
    const digest = createHash('sha256').update(scratch.read('rsa-data')).digest();
    const pss = await backend.sign(v, 'RSA_PSS_SHA_256', digest);
    assert.equal(pss.length, 256);
    const pssSig = scratch.file('rsa.pss.sig', pss);
    const ok = opensslOk(['dgst', '-verify', pem, '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1', '-signature', pssSig, data]);
    assert.ok(ok.ok, ok.output);
    // Salt length exactly 32: OpenSSL with an explicit 32 agrees, with 20 it refuses.
    assert.ok(opensslOk(['dgst', '-verify', pem, '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-signature', pssSig, data]).ok);
    assert.ok(!opensslOk(['dgst', '-verify', pem, '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:20', '-signature', pssSig, data]).ok);

    const pkcs1 = await backend.sign(v, 'RSA_PKCS1_SHA_256', digest);
    const pkcs1Sig = scratch.file('rsa.pkcs1.sig', pkcs1);
    const ok1 = opensslOk(['dgst', '-verify', pem, '-sha256', '-signature', pkcs1Sig, data]);
    assert.ok(ok1.ok, ok1.output);
    assert.deepEqual(await backend.sign(v, 'RSA_PKCS1_SHA_256', digest), pkcs1, 'PKCS#1 v1.5 is deterministic');
    const other = scratch.file('rsa-other', 'not the data');
    assert.ok(!opensslOk(['dgst', '-verify', pem, '-sha256', '-signature', pkcs1Sig, other]).ok);
  });

  it('decrypts RSAES_OAEP_SHA_256 and RSAES_OAEP_SHA_1 made by `openssl pkeyutl`', async () => {
    const pem = scratch.file('rsa-enc.pem', pemOf(v.publicKey!));
    for (const [algorithm, md] of [['RSAES_OAEP_SHA_256', 'sha256'], ['RSAES_OAEP_SHA_1', 'sha1']] as const) {
      for (const size of [1, 32, algorithm === 'RSAES_OAEP_SHA_256' ? 190 : 214]) {
        const plaintext = randomBytes(size);
        const ct = openssl(
          ['pkeyutl', '-encrypt', '-pubin', '-inkey', pem, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`],
          plaintext,
        );
        assert.deepEqual(await backend.asymmetricDecrypt(v, algorithm, ct), plaintext, `${algorithm} ${size}`);
      }
      const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pem, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`], Buffer.from('x'));
      const bad = Buffer.from(ct);
      bad[100]! ^= 1;
      await expectCode(backend.asymmetricDecrypt(v, algorithm, bad), 'InvalidCiphertext');
      await expectCode(backend.asymmetricDecrypt(v, algorithm, ct.subarray(1)), 'InvalidCiphertext');
      // Made with the other hash: the padding does not check out.
      const otherMd = md === 'sha1' ? 'sha256' : 'sha1';
      const other = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pem, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${otherMd}`, '-pkeyopt', `rsa_mgf1_md:${otherMd}`], Buffer.from('x'));
      await expectCode(backend.asymmetricDecrypt(v, algorithm, other), 'InvalidCiphertext');
    }
  });

  it('a signing-only key (usage given) cannot decrypt, and RSA_3072 signs too', async () => {
    const { v: signer } = await make('RSA_3072', { usage: 'SIGN/VERIFY' });
    const priv = await attributes(signer.hsmObjectId!, pkcs11js.CKO_PRIVATE_KEY, [pkcs11js.CKA_SIGN, pkcs11js.CKA_DECRYPT]);
    assert.equal(bool(priv.get(pkcs11js.CKA_SIGN)), true);
    assert.equal(bool(priv.get(pkcs11js.CKA_DECRYPT)), false);
    const pem = scratch.file('rsa3072.pem', pemOf(signer.publicKey!));
    const data = scratch.file('rsa3072-data', 'release.tar.gz contents');
    const sig = await backend.sign(signer, 'RSA_PSS_SHA_256', createHash('sha256').update(scratch.read('rsa3072-data')).digest());
    assert.equal(sig.length, 384);
    const ok = opensslOk(['dgst', '-verify', pem, '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1', '-signature', scratch.file('rsa3072.sig', sig), data]);
    assert.ok(ok.ok, ok.output);
    const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pem, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha1', '-pkeyopt', 'rsa_mgf1_md:sha1'], Buffer.from('x'));
    await expectCode(backend.asymmetricDecrypt(signer, 'RSAES_OAEP_SHA_1', ct), 'Hsm.MechanismUnsupported', /CKR_KEY_FUNCTION_NOT_PERMITTED|CKR_KEY_TYPE_INCONSISTENT/);
  });
});

describe('EC keys in the token', () => {
  for (const [spec, curve, algorithm, md, bits] of [
    ['EC_P256', 'prime256v1', 'ECDSA_SHA_256', 'sha256', 256],
    ['EC_P256K', 'secp256k1', 'ECDSA_SHA_256', 'sha256', 256],
    ['EC_P384', 'secp384r1', 'ECDSA_SHA_384', 'sha384', 384],
  ] as const) {
    it(`${spec}: public key equals pkcs11-tool's, and ${algorithm} signatures verify with openssl`, async () => {
      const { v } = await make(spec, { usage: 'SIGN/VERIFY' });
      const text = openssl(['pkey', '-pubin', '-inform', 'DER', '-noout', '-text'], v.publicKey!).toString();
      assert.match(text, new RegExp(`Public-Key: \\(${bits} bit\\)`));
      assert.match(text, new RegExp(`ASN1 OID: ${curve}`));
      if (spec === 'EC_P384') {
        // pkcs11-tool (OpenSC 0.23 with OpenSSL 3) cannot export P-384 public keys ("cannot create
        // EVP_PKEY"); its --list-objects shows the point and the curve, which must be the SPKI's.
        const pub = pkcs11ToolListing(v.hsmObjectId!);
        assert.equal(pub.ecParams, '06052b81040022');
        const spkiPoint = v.publicKey!.subarray(v.publicKey!.length - 97).toString('hex');
        assert.equal(pub.ecPoint, `0461${spkiPoint}`);
      } else {
        assert.deepEqual(pkcs11ToolPublicKey(v.hsmObjectId!), v.publicKey);
      }
      const priv = await attributes(v.hsmObjectId!, pkcs11js.CKO_PRIVATE_KEY, [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_SIGN, pkcs11js.CKA_DERIVE]);
      assert.equal(bool(priv.get(pkcs11js.CKA_SENSITIVE)), true);
      assert.equal(bool(priv.get(pkcs11js.CKA_EXTRACTABLE)), false);
      assert.equal(bool(priv.get(pkcs11js.CKA_DERIVE)), false);

      const pem = scratch.file(`${spec}.pem`, pemOf(v.publicKey!));
      for (let i = 0; i < 8; i++) {
        const data = scratch.file(`${spec}-data-${i}`, randomBytes(100 + i));
        const digest = createHash(md).update(scratch.read(`${spec}-data-${i}`)).digest();
        const sig = await backend.sign(v, algorithm, digest);
        assert.equal(sig[0], 0x30, 'DER SEQUENCE');
        const ok = opensslOk(['dgst', '-verify', pem, `-${md}`, '-signature', scratch.file(`${spec}-${i}.sig`, sig), data]);
        assert.ok(ok.ok, ok.output);
      }
    });
  }

  it('refuses ECIES and SM2 operations in the token with Hsm.MechanismUnsupported, naming the SOFTWARE alternative', async () => {
    const { v } = await make('EC_P256', { usage: 'ENCRYPT/DECRYPT' });
    const priv = await attributes(v.hsmObjectId!, pkcs11js.CKO_PRIVATE_KEY, [pkcs11js.CKA_SIGN, pkcs11js.CKA_DERIVE]);
    assert.equal(bool(priv.get(pkcs11js.CKA_SIGN)), false);
    assert.equal(bool(priv.get(pkcs11js.CKA_DERIVE)), true);
    await expectCode(backend.asymmetricDecrypt(v, 'ECIES_DH_SHA_1_XOR_HMAC', randomBytes(100)), 'Hsm.MechanismUnsupported', /SOFTWARE/);
    await expectCode(backend.sign(v, 'SM2DSA', randomBytes(32)), 'Hsm.MechanismUnsupported', /SOFTWARE/);
  });
});

describe('specs and mechanisms the token lacks', () => {
  for (const spec of ['SM4', 'EC_SM2'] as const) {
    it(`${spec}: Hsm.MechanismUnsupported at generation, saying a SOFTWARE key is the alternative, and nothing made`, async () => {
      const before = hsm.pkcs11Tool(['--list-objects']);
      const e = await expectCode(backend.generate(spec, { exportable: false, keyId: 'k', keyVersionId: 'v' }), 'Hsm.MechanismUnsupported', /SOFTWARE/);
      assert.match(e.message, /backend-test/);
      assert.equal(hsm.pkcs11Tool(['--list-objects']), before);
    });
  }
});

describe('Exportable keys', () => {
  it('are EXTRACTABLE (to leave only wrapped) and still SENSITIVE', async () => {
    for (const [spec, cls] of [['AES_256', pkcs11js.CKO_SECRET_KEY], ['RSA_2048', pkcs11js.CKO_PRIVATE_KEY], ['EC_P256', pkcs11js.CKO_PRIVATE_KEY]] as const) {
      const { v } = await make(spec, { exportable: true });
      const a = await attributes(v.hsmObjectId!, cls, [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_NEVER_EXTRACTABLE]);
      assert.equal(bool(a.get(pkcs11js.CKA_SENSITIVE)), true, spec);
      assert.equal(bool(a.get(pkcs11js.CKA_EXTRACTABLE)), true, spec);
      assert.equal(bool(a.get(pkcs11js.CKA_NEVER_EXTRACTABLE)), false, spec);
      const listed = parseListObjects(hsm.pkcs11Tool(['--list-objects'])).filter((o) => o.id === v.hsmObjectId!.toString('hex'));
      const secret = listed.find((o) => !o.kind.startsWith('Public'));
      assert.ok(secret, spec);
      assert.ok(secret.access.includes('sensitive'), `${spec}: ${secret.access.join(', ')}`);
      assert.ok(secret.access.includes('extractable'), `${spec}: ${secret.access.join(', ')}`);
    }
  });
});

describe('pkcs11-tool --list-objects', () => {
  it('shows every non-exportable private and secret object as sensitive and never extractable, labelled keyroom/<KeyId>/<KeyVersionId>', async () => {
    const mine = [await make('AES_256'), await make('HMAC_256'), await make('EC_P384')];
    const listed = parseListObjects(hsm.pkcs11Tool(['--list-objects']));
    for (const { v } of mine) {
      const objects = listed.filter((o) => o.id === v.hsmObjectId!.toString('hex'));
      assert.ok(objects.length >= 1, `objects of ${v.keySpec}`);
      for (const o of objects) {
        assert.equal(o.label, `keyroom/${v.keyId}/${v.keyVersionId}`);
        if (o.kind.startsWith('Public')) continue;
        assert.ok(o.access.includes('sensitive'), `${v.keySpec}: ${o.access.join(', ')}`);
        assert.ok(o.access.includes('never extractable'), `${v.keySpec}: ${o.access.join(', ')}`);
      }
    }
  });
});

describe('objects gone from the token', () => {
  it('destroy() removes every object with the CKA_ID, and a second destroy is harmless', async () => {
    const { v } = await make('EC_P256');
    const hex = v.hsmObjectId!.toString('hex');
    assert.equal(parseListObjects(hsm.pkcs11Tool(['--list-objects'])).filter((o) => o.id === hex).length, 2);
    await backend.destroy(v);
    assert.equal(parseListObjects(hsm.pkcs11Tool(['--list-objects'])).filter((o) => o.id === hex).length, 0);
    await backend.destroy(v);
    await expectCode(backend.sign(v, 'ECDSA_SHA_256', randomBytes(32)), 'Hsm.KeyNotFound', new RegExp(hex));
  });

  it('a key deleted behind Keyroom\'s back (pkcs11-tool --delete-object) gives Hsm.KeyNotFound, even with its handle cached', async () => {
    const { v } = await make('EC_P256', { usage: 'SIGN/VERIFY' });
    await backend.sign(v, 'ECDSA_SHA_256', randomBytes(32)); // caches the handle
    hsm.pkcs11Tool(['--delete-object', '--type', 'privkey', '--id', v.hsmObjectId!.toString('hex')]);
    const e = await expectCode(backend.sign(v, 'ECDSA_SHA_256', randomBytes(32)), 'Hsm.KeyNotFound', /behind Keyroom's back/);
    assert.match(e.message, /backend-test/);
  });

  it('a version whose CKA_ID was never on this token gives Hsm.KeyNotFound', async () => {
    const { v } = await make('AES_256');
    const ghost = { ...v, hsmObjectId: randomBytes(16) };
    await expectCode(backend.symmetricEncrypt(ghost, randomBytes(12), Buffer.from('x'), Buffer.alloc(0)), 'Hsm.KeyNotFound');
  });

  it('a version made on another token (its serial recorded) gives Hsm.TokenNotPresent, not KeyNotFound', async () => {
    const { v } = await make('AES_256');
    const elsewhere = { ...v, tokenSerial: '0123456789abcdef' };
    await expectCode(backend.symmetricEncrypt(elsewhere, randomBytes(12), Buffer.from('x'), Buffer.alloc(0)), 'Hsm.TokenNotPresent', /0123456789abcdef/);
    const here = { ...v, tokenSerial: hsm.serial };
    await backend.symmetricEncrypt(here, randomBytes(12), Buffer.from('x'), Buffer.alloc(0));
  });
});
