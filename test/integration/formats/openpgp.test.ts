/**
 * OpenPGP output judged by Debian 12's verifiers: gpg --verify (a fresh homedir), gpgv (a binary
 * keyring) and sqv, for every key spec, and the pitfalls of reference note §1 as cases.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDetached, signaturePacket, subpacket, SUBPACKET, SIGNATURE_TYPE, OPENPGP_HASH, creationTimeSubpacket, issuerFingerprintSubpacket, issuerKeyIdSubpacket } from '../../../src-main/formats/openpgp/signature';
import { certificationPrefix, transferablePublicKey } from '../../../src-main/formats/openpgp/certificate';
import { armor } from '../../../src-main/formats/openpgp/armor';
import { packet, PACKET_TAG } from '../../../src-main/formats/openpgp/packets';
import { publicKeyBody } from '../../../src-main/formats/openpgp/publicKey';
import { v4Fingerprint } from '../../../src-main/formats/openpgp/fingerprint';
import { verifyDetached } from '../../../src-main/formats/openpgp/verify';
import type { FormatKeySpec, Signer } from '../../../src-main/formats/keySpec';
import { testKey, type TestKey } from '../../support/formatKeys';

const dir = mkdtempSync(join(tmpdir(), 'keyroom-openpgp-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, content: string | Buffer): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}

const CREATED = new Date('2026-01-02T03:04:05Z');
const SIGNED_AT = new Date('2026-03-04T05:06:07Z');
const USER_ID = 'Release Signing <release@example.org>';

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

interface Signed {
  keyAsc: string;
  keyBin: string;
  sigAsc: string;
  data: string;
  fingerprint: string;
}

async function signWith(key: TestKey, content: Buffer, sign: Signer = key.sign): Promise<Signed> {
  const publicKey = { spki: key.spki, keySpec: key.spec, created: CREATED };
  const cert = await transferablePublicKey({ ...publicKey, userId: USER_ID, sign: key.sign });
  const hashAlgorithm = OPENPGP_HASH[key.spec];
  const asc = await signDetached({ publicKey, hashAlgorithm, fileHash: createHash(hashAlgorithm).update(content), signatureTime: SIGNED_AT, sign });
  return {
    keyAsc: file('key.asc', cert.armored),
    keyBin: file('key.pgp', cert.binary),
    sigAsc: file('f.asc', asc),
    data: file('f', content),
    fingerprint: cert.fingerprint,
  };
}

function gpgVerify(s: Signed, data = s.data): { ok: boolean; out: string } {
  const home = mkdtempSync(join(dir, 'gnupg-'));
  chmodSync(home, 0o700);
  const imported = run('gpg', ['--homedir', home, '--batch', '--import', s.keyAsc]);
  assert.ok(imported.ok, imported.out);
  return run('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', s.sigAsc, data]);
}

/** gpgv with the keyring gpg --dearmor makes of the armored key (the path must contain '/'). */
function gpgvVerify(s: Signed, data = s.data): { ok: boolean; out: string } {
  const ring = join(dir, `${n++}-dearmored.pgp`);
  const dearmored = run('gpg', ['--batch', '--yes', '--dearmor', '--output', ring, s.keyAsc]);
  assert.ok(dearmored.ok, dearmored.out);
  return run('gpgv', ['--keyring', ring, s.sigAsc, data]);
}

function sqvVerify(s: Signed, data = s.data, keyring = s.keyAsc): { ok: boolean; out: string } {
  return run('sqv', ['--keyring', keyring, s.sigAsc, data]);
}

const SPECS: FormatKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384', 'ED25519'];

describe('OpenPGP signatures verified by gpg, gpgv and sqv', () => {
  for (const spec of SPECS) {
    it(`${spec}: all three verifiers accept, and refuse a changed byte`, async () => {
      const key = testKey(spec);
      const content = randomBytes(3000);
      const s = await signWith(key, content);
      const g = gpgVerify(s);
      assert.ok(g.ok, g.out);
      assert.match(g.out, /\[GNUPG:\] GOODSIG /);
      assert.match(g.out, new RegExp(`\\[GNUPG:\\] VALIDSIG ${s.fingerprint} 2026-03-04`));
      assert.ok(g.out.includes(USER_ID), g.out);
      const v = gpgvVerify(s);
      assert.ok(v.ok, v.out);
      const q = sqvVerify(s);
      assert.ok(q.ok, q.out);
      assert.equal(q.out.trim(), s.fingerprint);
      // The binary keyring Keyroom builds is what gpg --dearmor gives.
      assert.ok(sqvVerify(s, s.data, s.keyBin).ok);

      const changed = Buffer.from(content);
      changed[1234]! ^= 0x01;
      const bad = file('changed', changed);
      const gBad = gpgVerify(s, bad);
      assert.equal(gBad.ok, false);
      assert.match(gBad.out, /BADSIG/);
      assert.equal(gpgvVerify(s, bad).ok, false);
      assert.equal(sqvVerify(s, bad).ok, false);
      // Keyroom's own check agrees with them on the same bytes.
      const keyroom = (file: Buffer) => verifyDetached({ armoredSignature: readFileSync(s.sigAsc, 'utf8'), publicKey: { spki: key.spki, keySpec: spec, created: CREATED }, fileHash: createHash(OPENPGP_HASH[spec]).update(file) });
      assert.deepEqual(keyroom(content), { valid: true, signatureTime: SIGNED_AT });
      assert.equal(keyroom(changed).valid, false);
    });
  }

  it('EC_P256K (secp256k1): gpg and gpgv accept, sqv 1.1 refuses (its backend lacks the curve)', async () => {
    const s = await signWith(testKey('EC_P256K'), randomBytes(100));
    const g = gpgVerify(s);
    assert.ok(g.ok, g.out);
    assert.ok(gpgvVerify(s).ok);
    const q = sqvVerify(s);
    assert.equal(q.ok, false, 'sqv 1.1 accepted secp256k1; the warning in the spec can go');
    assert.match(q.out, /No binding signature/); // the self-certification cannot be checked, so the key is unbound
  });
});

describe('OpenPGP pitfalls (reference note §1)', () => {
  it('sqv refuses a key whose self-certification has no key flags; gpg accepts it, so the flags Keyroom writes matter', async () => {
    const key = testKey('EC_P256');
    const pub = { spki: key.spki, keySpec: key.spec, created: CREATED };
    const body = publicKeyBody(pub);
    const fpr = v4Fingerprint(body);
    const uid = Buffer.from(USER_ID);
    const cert = await signaturePacket({
      publicKey: pub,
      signatureType: SIGNATURE_TYPE.positiveCertification,
      hashAlgorithm: 'sha256',
      // Everything Keyroom writes except SUBPACKET.keyFlags.
      hashed: [creationTimeSubpacket(CREATED), subpacket(SUBPACKET.preferredHashes, Buffer.from([10, 9, 8])), issuerFingerprintSubpacket(fpr)],
      unhashed: [issuerKeyIdSubpacket(fpr)],
      hash: createHash('sha256').update(certificationPrefix(body, uid)),
      sign: key.sign,
    });
    const noFlags = armor('PGP PUBLIC KEY BLOCK', Buffer.concat([packet(PACKET_TAG.publicKey, body), packet(PACKET_TAG.userId, uid), cert]));
    const s = await signWith(key, randomBytes(64));
    const keyNoFlags = file('noflags.asc', noFlags);
    const q = sqvVerify(s, s.data, keyNoFlags);
    assert.equal(q.ok, false);
    assert.match(q.out, /not signing capable|No binding signature|signing/i);
    const gNoFlags = gpgVerify({ ...s, keyAsc: keyNoFlags });
    assert.ok(gNoFlags.ok, gNoFlags.out);
    assert.ok(sqvVerify(s).ok, 'the same signature with the flagged key');
    assert.ok(subpacket(SUBPACKET.keyFlags, Buffer.from([3])).equals(Buffer.from([2, 27, 3])));
  });

  it('gpg 2.2 skips a key whose self-certification names its issuer by fingerprint only (no Key ID subpacket 16), though it exits 0', async () => {
    const key = testKey('EC_P256');
    const pub = { spki: key.spki, keySpec: key.spec, created: CREATED };
    const body = publicKeyBody(pub);
    const fpr = v4Fingerprint(body);
    const uid = Buffer.from(USER_ID);
    const cert = await signaturePacket({
      publicKey: pub,
      signatureType: SIGNATURE_TYPE.positiveCertification,
      hashAlgorithm: 'sha256',
      hashed: [creationTimeSubpacket(CREATED), subpacket(SUBPACKET.keyFlags, Buffer.from([3])), issuerFingerprintSubpacket(fpr)],
      unhashed: [], // Keyroom writes issuerKeyIdSubpacket(fpr) here
      hash: createHash('sha256').update(certificationPrefix(body, uid)),
      sign: key.sign,
    });
    const noKeyId = file('nokeyid.asc', armor('PGP PUBLIC KEY BLOCK', Buffer.concat([packet(PACKET_TAG.publicKey, body), packet(PACKET_TAG.userId, uid), cert])));
    const home = mkdtempSync(join(dir, 'gnupg-'));
    chmodSync(home, 0o700);
    const imported = run('gpg', ['--homedir', home, '--batch', '--import', noKeyId]);
    assert.equal(imported.ok, true);
    assert.match(imported.out, /no user ID - skipped/);
    const s = await signWith(key, randomBytes(64));
    assert.equal(run('gpg', ['--homedir', home, '--batch', '--verify', s.sigAsc, s.data]).ok, false);
    assert.ok(gpgVerify(s).ok, 'the same key as Keyroom writes it');
  });

  it('gpg 2.2 refuses an armored key without its CRC24 line (when the base64 has no = padding); Keyroom always writes it', async () => {
    // gpg reads the END line as base64 unless '=' padding ended the data first ("invalid radix64
    // character 2D"), so the refusal shows on a key of a multiple of 3 octets: vary the User ID.
    const key = testKey('EC_P256');
    let cert: Awaited<ReturnType<typeof transferablePublicKey>> | undefined;
    for (let i = 0; i < 30 && (cert === undefined || cert.binary.length % 3 !== 0); i++) {
      cert = await transferablePublicKey({ spki: key.spki, keySpec: key.spec, created: CREATED, userId: `Release${'s'.repeat(i)} <r@example.org>`, sign: key.sign });
    }
    assert.equal(cert!.binary.length % 3, 0);
    assert.match(cert!.armored, /\n=[A-Za-z0-9+/]{4}\n-----END PGP PUBLIC KEY BLOCK-----\n$/);
    const noCrc = file('nocrc.asc', cert!.armored.replace(/\n=[A-Za-z0-9+/]{4}\n/, '\n'));
    const withCrc = file('crc.asc', cert!.armored);
    const home = mkdtempSync(join(dir, 'gnupg-'));
    chmodSync(home, 0o700);
    const refused = run('gpg', ['--homedir', home, '--batch', '--import', noCrc]);
    assert.equal(refused.ok, false);
    assert.match(refused.out, /invalid radix64 character/);
    assert.ok(run('gpg', ['--homedir', home, '--batch', '--import', withCrc]).ok);
  });

  /**
   * Signs successive small files with one certificate until `wanted(raw signature)` holds, and
   * writes that file, key and signature for the verifiers.
   */
  async function signUntil(key: TestKey, wanted: (raw: Buffer) => boolean, tries: number): Promise<Signed> {
    const publicKey = { spki: key.spki, keySpec: key.spec, created: CREATED };
    const cert = await transferablePublicKey({ ...publicKey, userId: USER_ID, sign: key.sign });
    const hashAlgorithm = OPENPGP_HASH[key.spec];
    for (let i = 0; i < tries; i++) {
      const content = Buffer.from(`release ${i}\n`);
      let raw: Buffer = Buffer.alloc(0);
      const asc = await signDetached({
        publicKey, hashAlgorithm, fileHash: createHash(hashAlgorithm).update(content), signatureTime: SIGNED_AT,
        sign: async (m) => (raw = await key.sign(m)),
      });
      if (wanted(raw)) {
        return { keyAsc: file('key.asc', cert.armored), keyBin: file('key.pgp', cert.binary), sigAsc: file('f.asc', asc), data: file('f', content), fingerprint: cert.fingerprint };
      }
    }
    throw new Error(`no wanted signature in ${tries} tries`);
  }

  function acceptedEverywhere(s: Signed): void {
    const g = gpgVerify(s);
    assert.ok(g.ok, g.out);
    assert.ok(gpgvVerify(s).ok);
    assert.ok(sqvVerify(s).ok);
    const bad = file('bad', Buffer.concat([readFileSync(s.data), Buffer.from('x')]));
    assert.equal(sqvVerify(s, bad).ok, false);
  }

  // About one Ed25519 signature in 256 has a given octet zero; the signed digest changes with the file.
  it('Ed25519: an R with a leading zero octet (a shorter MPI) still verifies everywhere', async () => {
    acceptedEverywhere(await signUntil(testKey('ED25519'), (raw) => raw[0] === 0, 5000));
  });

  it('Ed25519: an S with a leading zero octet (a shorter MPI; verifiers pad it back) still verifies everywhere', async () => {
    acceptedEverywhere(await signUntil(testKey('ED25519'), (raw) => raw[32] === 0, 5000));
  });

  /** r and s magnitudes of a DER ECDSA signature (30 len 02 rlen r 02 slen s). */
  function derParts(der: Buffer): { r: Buffer; s: Buffer } {
    const rLen = der[3]!;
    return { r: der.subarray(4, 4 + rLen), s: der.subarray(6 + rLen) };
  }

  it('ECDSA: an r with the high bit set (DER needs a sign octet, an MPI does not) verifies everywhere', async () => {
    acceptedEverywhere(await signUntil(testKey('EC_P256'), (der) => derParts(der).r.length === 33, 200));
  });

  it('ECDSA: an s with a leading zero octet (a 31-octet value) verifies everywhere', async () => {
    acceptedEverywhere(await signUntil(testKey('EC_P384'), (der) => derParts(der).s.length < 48, 5000));
  });
});
