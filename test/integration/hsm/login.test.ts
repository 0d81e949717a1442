/**
 * LoginToken / LogoutToken and ListTokens' LoggedIn on real SoftHSM2 tokens, through dispatch as
 * the app calls them. The session's `pin()` always fails here (as the app's does: "enter the PIN
 * in the Tokens screen"), so every HSM operation that succeeds proves it used the LoginToken
 * login. Also: a cancelled HSM CreateKey destroys what the token generated.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import type { DispatchResult } from '../../../src-shared/contract/api';
import type { OperationOutput } from '../../../src-shared/contract/operations';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { Session } from '../../../src-main/services/session';
import { openHarness, firstVersionOf, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, parseListObjects, type SoftHsm, type SoftHsmToken } from '../../support/softhsm';
import { Scratch, opensslOk } from '../../support/openssl';

const PIN_SCREEN = "Enter the token's PIN in the Tokens screen, then try again.";

let hsm: SoftHsm;
let other: SoftHsmToken;
let h: Harness;
let pinAsked = 0;
let scratch: Scratch;

before(async () => {
  hsm = makeSoftHsm('login-main');
  other = hsm.addToken('login-other', '11223344');
  scratch = new Scratch();
  h = await openHarness({
    hsm: {
      modulePath: hsm.modulePath,
      tokenLabel: hsm.label,
      pin: async () => {
        pinAsked++;
        throw new KmsError('Hsm.NotConfigured', PIN_SCREEN);
      },
    },
  });
});

after(async () => {
  await h.session.dispose();
  await h.close();
  scratch.remove();
  hsm.cleanup();
});

function errorOf(r: DispatchResult, code: string): string {
  assert.equal(r.ok, false, `expected ${code}`);
  if (r.ok) throw new Error('unreachable');
  assert.equal(r.error.Code, code, r.error.Message);
  return r.error.Message;
}

function objectsOn(token?: SoftHsmToken) {
  return parseListObjects(hsm.pkcs11Tool(['--list-objects'], token));
}

describe('LoginToken and LogoutToken', () => {
  it('before any login: ListTokens shows no LoggedIn, and an HSM key asks pin(), which refuses', async () => {
    const tokens = await h.call('ListTokens');
    assert.equal(tokens.LoggedIn, undefined);
    assert.ok(tokens.Tokens.some((t) => t.Label === hsm.label));
    const asked = pinAsked;
    const e = await h.refuse('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }, 'Hsm.NotConfigured');
    assert.equal(e.Message, PIN_SCREEN);
    assert.equal(pinAsked, asked + 1);
  });

  it('a wrong PIN is Hsm.PinIncorrect, never echoed, and keeps nothing', async () => {
    const r = await dispatch(h.session, 'LoginToken', { Pin: '99999999' });
    const message = errorOf(r, 'Hsm.PinIncorrect');
    assert.ok(!message.includes('99999999'));
    // The refusal itself is recorded (refusals.ts); from here on nothing changes.
    const last = await h.raw((db) => db.get<{ request_id: string; result: string }>('SELECT request_id, result FROM audit_log ORDER BY seq DESC LIMIT 1'));
    assert.deepEqual(last, { request_id: r.ok ? '' : r.error.RequestId, result: 'Hsm.PinIncorrect' });
    const before = await h.state();
    assert.equal((await h.call('ListTokens')).LoggedIn, undefined);
    await h.refuse('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }, 'Hsm.NotConfigured');
    errorOf(await dispatch(h.session, 'LoginToken', { Pin: '123' }), 'InvalidParameter');
    errorOf(await dispatch(h.session, 'LoginToken', {}), 'MissingParameter');
    assert.equal(await h.state(), before);
  });

  it('a TokenLabel other than the session\'s token is InvalidParameter.TokenLabel, before any login', async () => {
    const message = errorOf(await dispatch(h.session, 'LoginToken', { Pin: other.pin, TokenLabel: other.label }), 'InvalidParameter.TokenLabel');
    assert.match(message, new RegExp(`"${hsm.label}".*not "${other.label}"`));
    assert.equal((await h.call('ListTokens')).LoggedIn, undefined);
  });

  it('the PIN Buffer is zeroed whether the login succeeds or not', async () => {
    const wrong = Buffer.from('87654321');
    await assert.rejects(h.session.loginToken(wrong), (e: unknown) => e instanceof KmsError && e.code === 'Hsm.PinIncorrect');
    assert.ok(wrong.every((b) => b === 0));
    const right = Buffer.from(hsm.pin);
    const token = await h.session.loginToken(right, hsm.label);
    assert.ok(right.every((b) => b === 0));
    assert.equal(token.serial, hsm.serial);
    await h.session.logoutToken();
    assert.equal(h.session.loggedInToken, undefined);
  });

  let keyId: string;
  let keyVersionId: string;

  it('logs in: the token\'s label, serial and slot; ListTokens shows it; HSM keys work without pin()', async () => {
    const asked = pinAsked;
    const login = await h.call('LoginToken', { Pin: hsm.pin, TokenLabel: hsm.label });
    assert.equal(login.Label, hsm.label);
    assert.equal(login.SerialNumber, hsm.serial);
    assert.equal(typeof login.SlotId, 'number');
    const tokens = await h.call('ListTokens');
    assert.deepEqual(tokens.LoggedIn, { Label: login.Label, SerialNumber: login.SerialNumber, SlotId: login.SlotId });
    assert.ok(tokens.Tokens.some((t) => t.SerialNumber === login.SerialNumber && t.SlotId === login.SlotId));

    const created = await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' });
    keyId = created.KeyMetadata.KeyId;
    keyVersionId = await firstVersionOf(h, keyId);
    assert.equal(pinAsked, asked, 'pin() was not asked: the LoginToken login was used');
    assert.equal(objectsOn().filter((o) => o.label === `keyroom/${keyId}/${keyVersionId}`).length, 2, 'the pair is on the token');

    const digest = createHash('sha256').update('signed after LoginToken').digest();
    const sig = await h.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest.toString('base64') });
    const pem = scratch.file('login.pem', (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId })).PublicKey);
    const v = opensslOk(['dgst', '-sha256', '-verify', pem, '-signature', scratch.file('login.sig', Buffer.from(sig.Value, 'base64')), scratch.file('login.data', 'signed after LoginToken')]);
    assert.ok(v.ok, v.output);
    assert.equal(pinAsked, asked);
  });

  it('a second LoginToken with a wrong PIN is refused and leaves the login in place', async () => {
    errorOf(await dispatch(h.session, 'LoginToken', { Pin: '99999999' }), 'Hsm.PinIncorrect');
    assert.equal((await h.call('ListTokens')).LoggedIn?.SerialNumber, hsm.serial);
    const digest = createHash('sha256').update('still logged in').digest('base64');
    await h.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
    // Logging in again with the right PIN replaces the login; keys keep working.
    await h.call('LoginToken', { Pin: hsm.pin });
    await h.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
  });

  it('a cancelled HSM CreateKey destroys what the token generated and writes nothing', async () => {
    const before = await h.state();
    const objectsBefore = objectsOn().length;
    const OperationId = randomUUID();
    const r = await dispatch(h.session, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM', OperationId }, {
      // Cancelled as generation starts: the token finishes making the pair, then it is destroyed.
      onProgress: (e) => {
        if (e.Phase === 'Generating') void dispatch(h.session, 'CancelOperation', { OperationId });
      },
    });
    assert.match(errorOf(r, 'Cancelled'), /nothing was written/);
    assert.equal(objectsOn().length, objectsBefore, 'no object left on the token');
    assert.equal(await h.state(), before);
  });

  it('logs out: ListTokens shows no login, HSM keys need a login again, and nothing changes', async () => {
    assert.deepEqual({ ...(await h.call('LogoutToken')), RequestId: undefined }, { RequestId: undefined });
    assert.equal((await h.call('ListTokens')).LoggedIn, undefined);
    const asked = pinAsked;
    const digest = createHash('sha256').update('after logout').digest('base64');
    const e = await h.refuse('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest }, 'Hsm.NotConfigured');
    assert.equal(e.Message, PIN_SCREEN);
    assert.equal(pinAsked, asked + 1, 'after logout, the next HSM use goes back to pin()');
    await h.refuse('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }, 'Hsm.NotConfigured');
    // Logging out twice is harmless.
    await h.call('LogoutToken');
    // The token itself still holds the key: logging in again brings it back.
    await h.call('LoginToken', { Pin: hsm.pin });
    await h.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
    await h.call('LogoutToken');
  });
});

describe('LoginToken on a session started without a token label, or without an HSM', () => {
  it('logs in to the token named by TokenLabel', async () => {
    const session = new Session({ keystorePath: `${scratch.dir}/none.db`, hsm: { modulePath: hsm.modulePath, pin: async () => Buffer.from('unused') } });
    try {
      const r = await dispatch(session, 'LoginToken', { Pin: other.pin, TokenLabel: other.label });
      assert.ok(r.ok, JSON.stringify(r));
      const login = r.value as OperationOutput<'LoginToken'>;
      assert.equal(login.Label, other.label);
      assert.equal(login.SerialNumber, other.serial);
      errorOf(await dispatch(session, 'LoginToken', { Pin: other.pin, TokenLabel: 'no-such-token' }), 'Hsm.TokenNotPresent');
      const tokens = await dispatch(session, 'ListTokens', {});
      assert.ok(tokens.ok && (tokens.value as OperationOutput<'ListTokens'>).LoggedIn?.Label === other.label, 'a refused second login keeps the first');
    } finally {
      await session.dispose();
    }
  });

  it('without HSM options: Hsm.NotConfigured, and LogoutToken has nothing to do', async () => {
    const session = new Session({ keystorePath: `${scratch.dir}/none.db` });
    try {
      errorOf(await dispatch(session, 'LoginToken', { Pin: hsm.pin }), 'Hsm.NotConfigured');
      assert.ok((await dispatch(session, 'LogoutToken', {})).ok);
    } finally {
      await session.dispose();
    }
  });
});
