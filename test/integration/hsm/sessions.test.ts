/**
 * Modules, tokens and sessions on real SoftHSM2 tokens: the default module search and its error,
 * ListTokens against pkcs11-tool, PIN handling, the CKR_* -> KmsError mapping, recovery after the
 * sessions or the library went away, and concurrent operations on one manager.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import { DEFAULT_MODULE_PATHS, Pkcs11Module, resolveModulePath } from '../../../src-main/backends/pkcs11/module';
import { KEYROOM_MECHANISMS, findToken, listTokens } from '../../../src-main/backends/pkcs11/tokens';
import { Pkcs11SessionManager } from '../../../src-main/backends/pkcs11/sessionManager';
import { Pkcs11Backend } from '../../../src-main/backends/pkcs11/pkcs11Backend';
import { ckrName, toKmsError } from '../../../src-main/backends/pkcs11/errors';
import { verifyDigest } from '../../../src-main/crypto/publicKeyOps';
import type { StoredVersion } from '../../../src-main/backends/backend';
import { makeSoftHsm, SOFTHSM_MODULE, type SoftHsm, type SoftHsmToken } from '../../support/softhsm';

let hsm: SoftHsm;
let second: SoftHsmToken;

before(() => {
  hsm = makeSoftHsm('sessions-main');
  second = hsm.addToken('sessions-second', '97531864');
});

after(() => hsm.cleanup());

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, ...includes: RegExp[]): Promise<KmsError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(e instanceof KmsError, `a KmsError, not ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const r of includes) assert.match(e.message, r);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('the PKCS#11 module', () => {
  it('searches the usual SoftHSM2, OpenSC and vendor locations when no path is given', () => {
    for (const p of [
      '/usr/lib/softhsm/libsofthsm2.so',
      '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
      '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
      '/usr/lib/opensc-pkcs11.so',
      '/usr/lib/libeTPkcs11.so',
      '/usr/lib/libykcs11.so',
    ]) {
      assert.ok(DEFAULT_MODULE_PATHS.includes(p), p);
    }
    assert.equal(resolveModulePath(null), SOFTHSM_MODULE, 'SoftHSM2 comes first');
  });

  it('a missing module is Hsm.ModuleNotFound naming every path tried', async () => {
    const tried = ['/nonexistent/a/libpkcs11.so', '/nonexistent/b/opensc-pkcs11.so'];
    const e = await rejectsWith(() => Pkcs11Module.open(null, tried), 'Hsm.ModuleNotFound', /--pkcs11-module/);
    for (const p of tried) assert.ok(e.message.includes(p), p);
    await rejectsWith(() => Pkcs11Module.open('/nonexistent/libvendor.so'), 'Hsm.ModuleNotFound', /\/nonexistent\/libvendor\.so/, /does not exist/);
    await rejectsWith(
      Pkcs11SessionManager.open({ modulePath: '/nonexistent/libvendor.so', pin: Buffer.from('1234') }),
      'Hsm.ModuleNotFound',
      /\/nonexistent\/libvendor\.so/,
    );
  });

  it('a file that is not a PKCS#11 library is Hsm.ModuleNotFound too, with the loader\'s reason', async () => {
    await rejectsWith(() => Pkcs11Module.open(hsm.conf), 'Hsm.ModuleNotFound', /not a loadable PKCS#11 library/);
  });

  it('is shared within the process: two opens, one C_Finalize at the last release', () => {
    const a = Pkcs11Module.open(SOFTHSM_MODULE);
    const b = Pkcs11Module.open(SOFTHSM_MODULE);
    assert.equal(a, b);
    assert.match(a.info().Manufacturer, /SoftHSM/);
    a.release();
    assert.ok(b.p11.C_GetSlotList(true).length >= 1, 'still initialised for the other user');
    b.release();
    assert.equal(b.isInitialised, false);
  });
});

describe('ListTokens', () => {
  it('describes each token like pkcs11-tool -L: slot, label, serial, manufacturer, model, flags, mechanisms', () => {
    const module = Pkcs11Module.open(SOFTHSM_MODULE);
    try {
      const tokens = listTokens(module);
      assert.deepEqual(JSON.parse(JSON.stringify(tokens)), tokens, 'plain JSON');
      const uninitialised = tokens.filter((t) => !t.Flags.TokenInitialized);
      assert.equal(uninitialised.length, 1, 'SoftHSM keeps one free slot');
      const listing = hsm.pkcs11ToolBare(['-L']);
      for (const t of [hsm.token, second]) {
        const d = tokens.find((x) => x.Label === t.label);
        assert.ok(d, t.label);
        assert.equal(d.SerialNumber, t.serial);
        assert.equal(d.Manufacturer, 'SoftHSM project');
        assert.equal(d.Model, 'SoftHSM v2');
        assert.ok(listing.includes(`Slot ${tokens.indexOf(d)} (0x${d.SlotId.toString(16)})`), `${listing}\n${d.SlotId}`);
        assert.ok(listing.includes(`serial num         : ${t.serial}`));
        assert.deepEqual(
          { ...d.Flags },
          {
            TokenInitialized: true, LoginRequired: true, UserPinInitialized: true, UserPinLocked: false, UserPinFinalTry: false, UserPinCountLow: false,
            UserPinToBeChanged: false, WriteProtected: false, ProtectedAuthenticationPath: false, HardwareSlot: false, RemovableDevice: false,
          },
        );
        // SoftHSM 2.6 has every mechanism Keyroom uses but CKM_RSA_AES_KEY_WRAP, and no SM2/SM4.
        assert.deepEqual(d.MissingMechanisms, ['RSA_AES_KEY_WRAP']);
        assert.deepEqual(new Set(d.Mechanisms), new Set(Object.keys(KEYROOM_MECHANISMS).filter((m) => m !== 'RSA_AES_KEY_WRAP')));
        assert.deepEqual(d.VendorMechanisms, []);
        assert.equal(d.FreePrivateMemory, undefined, 'SoftHSM reports no memory figures (CK_UNAVAILABLE_INFORMATION)');
      }
    } finally {
      module.release();
    }
  });

  it('the numbers of KEYROOM_MECHANISMS are pkcs11js\'s where it has them', () => {
    const p = pkcs11js as unknown as Record<string, number | undefined>;
    for (const [name, number] of Object.entries(KEYROOM_MECHANISMS)) {
      const theirs = p[`CKM_${name}`];
      if (theirs !== undefined) assert.equal(number, theirs, name);
    }
  });

  it('chooses a token by label, or the only one; several without a label, or an absent label, are clear errors', async () => {
    const module = Pkcs11Module.open(SOFTHSM_MODULE);
    try {
      assert.equal(findToken(module, { label: 'sessions-second' }).serial, second.serial);
      await rejectsWith(() => findToken(module, {}), 'InvalidParameter', /sessions-main/, /sessions-second/, /--token/);
      await rejectsWith(() => findToken(module, { label: 'no-such-token' }), 'Hsm.TokenNotPresent', /no-such-token/, /CKR_TOKEN_NOT_PRESENT/);
      await rejectsWith(() => findToken(module, { label: 'sessions-main', serial: 'ffffffffffffffff' }), 'Hsm.TokenNotPresent', /ffffffffffffffff/);
    } finally {
      module.release();
    }
    await rejectsWith(
      Pkcs11SessionManager.open({ modulePath: SOFTHSM_MODULE, tokenLabel: 'no-such-token', pin: Buffer.from(hsm.pin) }),
      'Hsm.TokenNotPresent',
      /no-such-token/,
    );
  });
});

describe('the PIN', () => {
  it('a wrong PIN is Hsm.PinIncorrect naming CKR_PIN_INCORRECT and the token\'s counter flag; the PIN is in no message', async () => {
    const wrong = Buffer.from('00000000');
    const e = await rejectsWith(
      Pkcs11SessionManager.open({ modulePath: SOFTHSM_MODULE, tokenLabel: second.label, pin: wrong }),
      'Hsm.PinIncorrect',
      /\(CKR_PIN_INCORRECT\)/,
      // SoftHSM 2.6 never locks the user PIN; it raises CKF_USER_PIN_COUNT_LOW after a failure.
      /CKF_USER_PIN_COUNT_LOW/,
      /sessions-second/,
    );
    assert.ok(!e.message.includes('00000000') && !e.message.includes(second.pin));
    assert.deepEqual(wrong, Buffer.alloc(8), 'the caller\'s PIN buffer is zeroed');
    const module = Pkcs11Module.open(SOFTHSM_MODULE);
    try {
      assert.equal(listTokens(module).find((t) => t.Label === second.label)!.Flags.UserPinCountLow, true);
    } finally {
      module.release();
    }
    // The right PIN then works, and the token clears the flag.
    const pin = Buffer.from(second.pin);
    const m = await Pkcs11SessionManager.open({ modulePath: SOFTHSM_MODULE, tokenLabel: second.label, pin });
    assert.deepEqual(pin, Buffer.alloc(pin.length), 'zeroed once copied');
    const kept = (m as unknown as { pin: Buffer }).pin;
    assert.equal(kept.toString(), second.pin, 'kept for re-login while the manager lives');
    assert.equal(listTokens(m.module).find((t) => t.Label === second.label)!.Flags.UserPinCountLow, false);
    assert.ok(!JSON.stringify(m.token).includes(second.pin));
    await m.close();
    assert.deepEqual(kept, Buffer.alloc(kept.length), 'zeroed on close');
  });

  it('PIN_LOCKED, FINAL_TRY and the other return values map to their codes, each naming its CKR', () => {
    const err = (name: string) => new pkcs11js.Pkcs11Error(`${name}:${(pkcs11js as unknown as Record<string, number>)[name]}`, 0, 'C_Login');
    const ctx = { action: 'log in', tokenLabel: 'T', tokenSerial: 'S' };
    assert.equal(ckrName(err('CKR_PIN_LOCKED')), 'CKR_PIN_LOCKED');
    const cases: [string, string, number?, RegExp?][] = [
      ['CKR_PIN_LOCKED', 'Hsm.PinLocked'],
      ['CKR_PIN_INCORRECT', 'Hsm.PinIncorrect', pkcs11js.CKF_USER_PIN_FINAL_TRY, /CKF_USER_PIN_FINAL_TRY/],
      ['CKR_PIN_INCORRECT', 'Hsm.PinIncorrect', pkcs11js.CKF_USER_PIN_COUNT_LOW, /CKF_USER_PIN_COUNT_LOW/],
      ['CKR_PIN_INCORRECT', 'Hsm.PinIncorrect', pkcs11js.CKF_USER_PIN_LOCKED, /CKF_USER_PIN_LOCKED/],
      ['CKR_TOKEN_NOT_PRESENT', 'Hsm.TokenNotPresent'],
      ['CKR_DEVICE_REMOVED', 'Hsm.DeviceError'],
      ['CKR_MECHANISM_INVALID', 'Hsm.MechanismUnsupported', undefined, /SOFTWARE/],
      ['CKR_CURVE_NOT_SUPPORTED', 'Hsm.MechanismUnsupported'],
      ['CKR_KEY_HANDLE_INVALID', 'Hsm.KeyNotFound', undefined, /behind Keyroom's back/],
      ['CKR_DEVICE_ERROR', 'Hsm.DeviceError'],
      ['CKR_DEVICE_MEMORY', 'Hsm.DeviceError'],
      ['CKR_ENCRYPTED_DATA_INVALID', 'InvalidCiphertext'],
    ];
    for (const [name, code, flags, extra] of cases) {
      const k = toKmsError(err(name), { ...ctx, tokenFlags: flags });
      assert.equal(k.code, code, name);
      assert.ok(k.message.includes(`(${name})`), k.message);
      if (extra) assert.match(k.message, extra);
    }
    const unknown = toKmsError(new pkcs11js.Pkcs11Error('CKR_VENDOR_DEFINED:2147483648', 0, 'C_Sign'), ctx);
    assert.equal(unknown.code, 'Hsm.DeviceError');
    assert.match(unknown.message, /CKR_VENDOR_DEFINED/);
  });
});

describe('sessions', () => {
  let manager: Pkcs11SessionManager;
  let backend: Pkcs11Backend;
  let v: StoredVersion;
  const digest = createHash('sha256').update('session test').digest();

  before(async () => {
    manager = await hsm.openManager(hsm.token, 2);
    backend = new Pkcs11Backend(manager);
    const m = await backend.generate('EC_P256', { exportable: false, keyId: 'k', keyVersionId: 'v1', usage: 'SIGN/VERIFY' });
    v = { keyId: 'k', keyVersionId: 'v1', keySpec: 'EC_P256', material: null, publicKey: m.publicKey, hsmObjectId: m.hsmObjectId };
  });
  after(() => backend.close());

  async function signsAndVerifies(): Promise<void> {
    const sig = await backend.sign(v, 'ECDSA_SHA_256', digest);
    assert.ok(verifyDigest('EC_P256', v.publicKey!, 'ECDSA_SHA_256', digest, sig));
  }

  it('reopens and logs in again after its sessions were closed behind its back (CKR_SESSION_HANDLE_INVALID)', async () => {
    await signsAndVerifies();
    manager.module.p11.C_CloseAllSessions(findToken(manager.module, { label: hsm.label }).slot);
    await signsAndVerifies();
  });

  it('logs in again after a logout behind its back (CKR_USER_NOT_LOGGED_IN)', async () => {
    const p11 = manager.module.p11;
    const s = p11.C_OpenSession(findToken(manager.module, { label: hsm.label }).slot, pkcs11js.CKF_SERIAL_SESSION);
    p11.C_Logout(s);
    p11.C_CloseSession(s);
    await signsAndVerifies();
  });

  it('initialises the library again after C_Finalize (CKR_CRYPTOKI_NOT_INITIALIZED), and after finalise + initialise', async () => {
    manager.module.p11.C_Finalize();
    await signsAndVerifies();
    manager.module.p11.C_Finalize();
    manager.module.p11.C_Initialize();
    await signsAndVerifies();
    await signsAndVerifies();
  });

  it('serialises concurrent operations: 40 signatures, MACs and encryptions with a key generation, on 2 sessions', async () => {
    const mac = await backend.generate('HMAC_256', { exportable: false, keyId: 'm', keyVersionId: 'm1' });
    const mv: StoredVersion = { keyId: 'm', keyVersionId: 'm1', keySpec: 'HMAC_256', material: null, publicKey: null, hsmObjectId: mac.hsmObjectId };
    const aes = await backend.generate('AES_256', { exportable: false, keyId: 'a', keyVersionId: 'a1' });
    const av: StoredVersion = { keyId: 'a', keyVersionId: 'a1', keySpec: 'AES_256', material: null, publicKey: null, hsmObjectId: aes.hsmObjectId };
    const expectedMac = await backend.mac(mv, 'HMAC_SHA_256', Buffer.from('m'));
    // SoftHSM reports no session count (CK_UNAVAILABLE_INFORMATION): the manager's own is watched.
    let maxSessions = 0;
    const watch = setInterval(() => {
      maxSessions = Math.max(maxSessions, manager.openSessions);
    }, 1);
    try {
      const jobs: Promise<void>[] = [backend.generate('RSA_2048', { exportable: false, keyId: 'r', keyVersionId: 'r1' }).then(() => undefined)];
      for (let i = 0; i < 40; i++) {
        if (i % 3 === 0) jobs.push(signsAndVerifies());
        if (i % 3 === 1) jobs.push(backend.mac(mv, 'HMAC_SHA_256', Buffer.from('m')).then((m) => assert.deepEqual(m, expectedMac)));
        if (i % 3 === 2) {
          const iv = randomBytes(12);
          jobs.push(
            backend
              .symmetricEncrypt(av, iv, Buffer.from(`message ${i}`), Buffer.alloc(0))
              .then((box) => backend.symmetricDecrypt(av, iv, box, Buffer.alloc(0)))
              .then((p) => assert.equal(p.toString(), `message ${i}`)),
          );
        }
      }
      await Promise.all(jobs);
    } finally {
      clearInterval(watch);
    }
    assert.ok(maxSessions <= 2, `at most 2 sessions open, saw ${maxSessions}`);
  });

  it('recovers with calls queued: 12 signatures waiting on one session when the sessions vanish', async () => {
    const one = await hsm.openManager(hsm.token, 1);
    const b1 = new Pkcs11Backend(one);
    try {
      await b1.sign(v, 'ECDSA_SHA_256', digest);
      const jobs = Array.from({ length: 12 }, () => b1.sign(v, 'ECDSA_SHA_256', digest));
      one.module.p11.C_CloseAllSessions(findToken(one.module, { label: hsm.label }).slot);
      for (const sig of await Promise.all(jobs)) assert.ok(verifyDigest('EC_P256', v.publicKey!, 'ECDSA_SHA_256', digest, sig));
      assert.ok(one.openSessions <= 1);
    } finally {
      await b1.close();
    }
    await signsAndVerifies(); // the first manager recovers from the same event on its next call
  });

  it('keeps the event loop running while the token generates a key (async C_GenerateKeyPair)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await backend.generate('RSA_3072', { exportable: false, keyId: 'r', keyVersionId: 'r2' });
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'timers fired during the generation');
  });

  it('after close(): operations say so, and a new manager opens cleanly', async () => {
    const m2 = await hsm.openManager(second);
    await m2.close();
    await m2.close();
    await rejectsWith(m2.run('anything', () => 1), 'Hsm.NotConfigured');
    await signsAndVerifies(); // the other manager on the same module is untouched
  });
});
