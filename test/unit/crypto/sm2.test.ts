import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ECPrivateKey } from '@peculiar/asn1-ecc';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { isKmsError, type ErrorCode } from '../../../src-shared/errors';
import {
  SM2_DEFAULT_ID,
  _SM2_TABLE_FROM_USE,
  _sm2EncryptWithNonces,
  _sm2SignDigestWithNonces,
  sm2CipherDerToRaw,
  sm2CipherRawToDer,
  sm2Decrypt,
  sm2Encrypt,
  sm2MessageDigest,
  sm2PublicKeyFromPrivate,
  sm2SignDigest,
  sm2VerifyDigest,
  sm2Za,
} from '../../../src-main/crypto/sm2';

const H = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const big = (b: Uint8Array): bigint => BigInt(`0x${hex(b) || '0'}`);
const bytes32 = (v: bigint): Buffer => H(v.toString(16).padStart(64, '0'));

const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
const modN = (v: bigint): bigint => ((v % N) + N) % N;
function invN(a: bigint): bigint {
  // Fermat: n is prime, so a^(n-2) = a^-1 mod n.
  let result = 1n;
  let b = modN(a);
  for (let e = N - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % N;
    b = (b * b) % N;
  }
  return result;
}

// Signature example on the *recommended* curve: GM/T 0003.5-2012 / GB/T 32918.5 Annex A, also
// OpenSSL test/sm2_internal_test.c (its "gm_group" case). GB/T 32918.2's own annex uses a test curve.
const ANNEX = {
  d: H('3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8'),
  pub: H(`04 09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
             CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13`),
  message: Buffer.from('message digest'),
  za: H('B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3'),
  e: H('F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640'),
  k: 0x59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21n,
  r: 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3',
  s: 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
  // Encryption example (GM/T 0003.5-2012 / GB/T 32918.5 Annex C, same key and k), message
  // "encryption standard". The DER is what OpenSSL's sm2_internal_test.c expects byte for byte.
  plaintext: Buffer.from('encryption standard'),
  rawCiphertext: H(`04 04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73
                       E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0
                       59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766
                       21886CA989CA9C7D58087307CA93092D651EFA`),
  derCiphertext: H(`307C 0220 04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73
                         022100 E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0
                         0420 59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766
                         0413 21886CA989CA9C7D58087307CA93092D651EFA`),
};

// ---- hand-made DER, only to build malformed inputs the implementation must refuse.
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const b = H(n.toString(16).padStart(n > 0xff ? 4 : 2, '0'));
  return Buffer.concat([Buffer.of(0x80 | b.length), b]);
}
const tlv = (tag: number, content: Buffer): Buffer => Buffer.concat([Buffer.of(tag), derLength(content.length), content]);
function intContent(v: bigint): Buffer {
  let h = v.toString(16);
  if (h.length % 2) h = `0${h}`;
  if (Number.parseInt(h[0]!, 16) >= 8) h = `00${h}`;
  return H(h);
}
const derSig = (r: Buffer, s: Buffer): Buffer => tlv(0x30, Buffer.concat([tlv(0x02, r), tlv(0x02, s)]));
function sigParts(der: Buffer): { r: Buffer; s: Buffer } {
  assert.equal(der[0], 0x30);
  let off = 2;
  const rLen = der[off + 1]!;
  const r = der.subarray(off + 2, off + 2 + rLen);
  off += 2 + rLen;
  const s = der.subarray(off + 2, off + 2 + der[off + 1]!);
  return { r, s };
}

function throwsCode(fn: () => unknown, code: ErrorCode, message?: string): void {
  assert.throws(fn, (e: unknown) => isKmsError(e) && e.code === code, message);
}

// ---- sm-crypto (no bundled types): the functions used here.
interface SmCryptoSm2 {
  doEncrypt(msg: number[], publicKeyHex: string, cipherMode: 0 | 1): string;
  doDecrypt(data: string, privateKeyHex: string, cipherMode: 0 | 1, options: { output: 'array' }): number[];
  doSignature(msg: number[], privateKeyHex: string, options: { hash: true; der: true; publicKey?: string; userId?: string }): string;
  doVerifySignature(msg: number[], sigHex: string, publicKeyHex: string, options: { hash: true; der: true; userId?: string }): boolean;
}
const smCrypto = createRequire(import.meta.url)('sm-crypto') as { sm2: SmCryptoSm2 };

// ---- openssl, in a temp dir per suite.
interface OpensslKey {
  dir: string;
  keyPem: string;
  pubPem: string;
  d: Buffer;
  pub: Buffer;
}

function openssl(args: string[], cwd: string): Buffer {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeOpensslKey(): OpensslKey {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyroom-sm2-'));
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'key.pem'], dir);
  openssl(['pkey', '-in', 'key.pem', '-pubout', '-out', 'pub.pem'], dir);
  const sec1 = openssl(['ec', '-in', 'key.pem', '-outform', 'DER'], dir);
  const spki = openssl(['pkey', '-pubin', '-in', 'pub.pem', '-outform', 'DER'], dir);
  const ecKey = AsnConvert.parse(sec1, ECPrivateKey);
  const d = Buffer.from(ecKey.privateKey.buffer);
  const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  assert.equal(info.algorithm.parameters && hex(new Uint8Array(info.algorithm.parameters)), '06082a811ccf5501822d'); // 1.2.156.10197.1.301
  return {
    dir,
    keyPem: path.join(dir, 'key.pem'),
    pubPem: path.join(dir, 'pub.pem'),
    d: Buffer.concat([Buffer.alloc(32 - d.length), d]),
    pub: Buffer.from(info.subjectPublicKey),
  };
}

/** `openssl dgst -sm3 -verify`; true only on "Verified OK". */
function opensslVerify(key: OpensslKey, message: Buffer, signature: Buffer, distid = '1234567812345678'): boolean {
  writeFileSync(path.join(key.dir, 'msg'), message);
  writeFileSync(path.join(key.dir, 'sig'), signature);
  const res = spawnSync(
    'openssl',
    ['dgst', '-sm3', '-verify', key.pubPem, '-sigopt', `distid:${distid}`, '-signature', 'sig', 'msg'],
    { cwd: key.dir, encoding: 'utf8' },
  );
  return res.status === 0 && res.stdout.includes('Verified OK');
}

function opensslSign(key: OpensslKey, message: Buffer): Buffer {
  writeFileSync(path.join(key.dir, 'msg'), message);
  openssl(['dgst', '-sm3', '-sign', key.keyPem, '-sigopt', 'distid:1234567812345678', '-out', 'sig', 'msg'], key.dir);
  return readFileSync(path.join(key.dir, 'sig'));
}

function opensslDecrypt(key: OpensslKey, ciphertext: Buffer): Buffer {
  writeFileSync(path.join(key.dir, 'ct'), ciphertext);
  openssl(['pkeyutl', '-decrypt', '-inkey', key.keyPem, '-in', 'ct', '-out', 'pt'], key.dir);
  return readFileSync(path.join(key.dir, 'pt'));
}

function opensslEncrypt(key: OpensslKey, plaintext: Buffer): Buffer {
  writeFileSync(path.join(key.dir, 'pt'), plaintext);
  openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', key.pubPem, '-in', 'pt', '-out', 'ct'], key.dir);
  return readFileSync(path.join(key.dir, 'ct'));
}

function randomPrivateKey(): Buffer {
  for (;;) {
    const d = randomBytes(32);
    const v = big(d);
    if (v >= 1n && v <= N - 2n) return d;
  }
}

describe('sm2 known answers (GB/T 32918 / GM/T 0003.5 annex, recommended curve)', () => {
  it('derives the annex public key, Z_A and e', () => {
    assert.equal(hex(sm2PublicKeyFromPrivate(ANNEX.d)), hex(ANNEX.pub));
    assert.equal(hex(sm2Za(ANNEX.pub)), hex(ANNEX.za));
    assert.equal(hex(sm2Za(ANNEX.pub, SM2_DEFAULT_ID)), hex(ANNEX.za));
    assert.equal(hex(sm2MessageDigest(ANNEX.pub, ANNEX.message)), hex(ANNEX.e));
    assert.equal(Buffer.from(SM2_DEFAULT_ID).toString('latin1'), '1234567812345678');
  });

  it('signs with the annex k to exactly the annex (r, s), in DER', () => {
    const sig = _sm2SignDigestWithNonces(ANNEX.d, ANNEX.e, [ANNEX.k]);
    assert.equal(hex(sig).toUpperCase(), `3046022100${ANNEX.r}022100${ANNEX.s}`);
    assert.equal(sm2VerifyDigest(ANNEX.pub, ANNEX.e, sig), true);
  });

  it('rejects the annex signature with its r or s missing the 00 sign byte (a negative INTEGER)', () => {
    // Both annex r and s have the top bit set, so their DER INTEGERs need a leading 00.
    const r = H(ANNEX.r);
    const s = H(ANNEX.s);
    const pad = (b: Buffer): Buffer => Buffer.concat([Buffer.of(0), b]);
    assert.equal(sm2VerifyDigest(ANNEX.pub, ANNEX.e, derSig(pad(r), pad(s))), true);
    assert.equal(sm2VerifyDigest(ANNEX.pub, ANNEX.e, derSig(r, pad(s))), false);
    assert.equal(sm2VerifyDigest(ANNEX.pub, ANNEX.e, derSig(pad(r), s)), false);
  });

  it('encrypts with the annex k to exactly the annex ciphertext (DER as OpenSSL writes it, and raw)', () => {
    const der = _sm2EncryptWithNonces(ANNEX.pub, ANNEX.plaintext, 'der', [ANNEX.k]);
    assert.equal(hex(der), hex(ANNEX.derCiphertext));
    const raw = _sm2EncryptWithNonces(ANNEX.pub, ANNEX.plaintext, 'c1c3c2', [ANNEX.k]);
    assert.equal(hex(raw), hex(ANNEX.rawCiphertext));
    assert.deepEqual(sm2Decrypt(ANNEX.d, ANNEX.derCiphertext), ANNEX.plaintext);
    assert.deepEqual(sm2Decrypt(ANNEX.d, ANNEX.rawCiphertext), ANNEX.plaintext);
    assert.equal(hex(sm2CipherDerToRaw(ANNEX.derCiphertext)), hex(ANNEX.rawCiphertext));
    assert.equal(hex(sm2CipherRawToDer(ANNEX.rawCiphertext)), hex(ANNEX.derCiphertext));
  });
});

describe('sm2 signature nonce rules (GB/T 32918.2 §6.1 A5/A6)', () => {
  // x1 of [k]G is the x of the "public key" of k.
  const x1Of = (k: bigint): bigint => big(sm2PublicKeyFromPrivate(bytes32(k)).subarray(1, 33));
  const d = ANNEX.d;
  const dInt = big(d);
  const kBad = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefn;
  const kGood = ANNEX.k;

  function assertRetried(e: Buffer): void {
    const retried = _sm2SignDigestWithNonces(d, e, [kBad, kGood]);
    assert.equal(hex(retried), hex(_sm2SignDigestWithNonces(d, e, [kGood])));
    assert.equal(sm2VerifyDigest(ANNEX.pub, e, retried), true);
    // Without a second nonce the rejected one must not be used.
    throwsCode(() => _sm2SignDigestWithNonces(d, e, [kBad]), 'Internal');
  }

  it('rejects k when r = 0', () => assertRetried(bytes32(modN(-x1Of(kBad)))));
  it('rejects k when r + k = n', () => assertRetried(bytes32(modN(-kBad - x1Of(kBad)))));
  it('rejects k when s = 0', () => assertRetried(bytes32(modN(kBad * invN(dInt) - x1Of(kBad)))));

  it('rejects the degenerate t = 0 and [s]G + [t]P = O, even with a digest crafted to match', () => {
    const d = randomPrivateKey(); // a fresh key, so the first uses are table-less and later ones precomputed
    const pub = sm2PublicKeyFromPrivate(d);
    const dI = big(d);
    const r = 0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefn;
    // t = r + s = 0 (B5): with s = n - r, [s]G + [0]P = [s]G, so e = r - x([s]G) would pass B7.
    const s0 = N - r;
    const eT0 = bytes32(modN(r - x1Of(s0)));
    // [s]G + [r + s]P = O when s(1 + d) = -r d. Infinity has no x1; an implementation that
    // reads it as x1 = 0 would accept e = r.
    const sInf = modN(-r * dI * invN(1n + dI));
    for (let use = 1; use <= _SM2_TABLE_FROM_USE + 1; use++) {
      assert.equal(sm2VerifyDigest(pub, eT0, derSig(intContent(r), intContent(s0))), false, `t = 0, use ${use}`);
      assert.equal(sm2VerifyDigest(pub, bytes32(r), derSig(intContent(r), intContent(sInf))), false, `O, use ${use}`);
    }
  });

  it('uses a fresh random nonce per signature', () => {
    const a = sm2SignDigest(d, ANNEX.e);
    const b = sm2SignDigest(d, ANNEX.e);
    assert.notEqual(hex(a), hex(b));
    assert.equal(sm2VerifyDigest(ANNEX.pub, ANNEX.e, a), true);
    assert.equal(sm2VerifyDigest(ANNEX.pub, ANNEX.e, b), true);
  });
});

describe('sm2 against openssl', () => {
  let key: OpensslKey;
  before(() => {
    key = makeOpensslKey();
  });
  after(() => rmSync(key.dir, { recursive: true, force: true }));

  it('derives the same public key from d as openssl', () => {
    assert.equal(hex(sm2PublicKeyFromPrivate(key.d)), hex(key.pub));
  });

  it('signs here -> openssl dgst -sm3 -verify with distid 1234567812345678 passes', () => {
    for (const message of [Buffer.from('keyroom release 1.0'), randomBytes(1000), Buffer.alloc(0)]) {
      const sig = sm2SignDigest(key.d, sm2MessageDigest(key.pub, message));
      assert.equal(opensslVerify(key, message, sig), true);
      // Control: the same check fails for another ID, another message, another signature.
      assert.equal(opensslVerify(key, message, sig, 'ALICE123@YAHOO.COM'), false);
      assert.equal(opensslVerify(key, Buffer.concat([message, Buffer.of(0)]), sig), false);
    }
  });

  it('signs with a non-default ID that openssl accepts under that distid', () => {
    const id = Buffer.from('ALICE123@YAHOO.COM');
    const message = Buffer.from('message digest');
    const sig = sm2SignDigest(key.d, sm2MessageDigest(key.pub, message, id));
    assert.equal(opensslVerify(key, message, sig, 'ALICE123@YAHOO.COM'), true);
    assert.equal(opensslVerify(key, message, sig), false);
  });

  it('verifies openssl signatures here, on the first use of a key and on later (precomputed) uses', () => {
    const fresh = makeOpensslKey(); // a key this process has never seen
    try {
      const sigs = [0, 1, 2].map((i) => {
        const message = randomBytes(50 + i);
        return { message, sig: opensslSign(fresh, message) };
      });
      for (let i = 0; i < 2 * _SM2_TABLE_FROM_USE; i++) {
        const { message, sig } = sigs[i % sigs.length]!;
        const e = sm2MessageDigest(fresh.pub, message);
        assert.equal(sm2VerifyDigest(fresh.pub, e, sig), true, `use ${i}`);
        const tampered = Buffer.from(e);
        tampered[31] = tampered[31]! ^ 1;
        assert.equal(sm2VerifyDigest(fresh.pub, tampered, sig), false, `use ${i}`);
      }
    } finally {
      rmSync(fresh.dir, { recursive: true, force: true });
    }
  });

  it('rejects tampered digests and signatures, and non-canonical DER', () => {
    const message = Buffer.from('tamper me');
    const e = sm2MessageDigest(key.pub, message);
    const sig = opensslSign(key, message);
    assert.equal(sm2VerifyDigest(key.pub, e, sig), true);

    for (let i = 0; i < e.length; i++) {
      const bad = Buffer.from(e);
      bad[i] = bad[i]! ^ 0x40;
      assert.equal(sm2VerifyDigest(key.pub, bad, sig), false, `digest byte ${i}`);
    }
    for (let i = 0; i < sig.length; i++) {
      const bad = Buffer.from(sig);
      bad[i] = bad[i]! ^ 0x01;
      assert.equal(sm2VerifyDigest(key.pub, e, bad), false, `signature byte ${i}`);
    }
    const { r, s } = sigParts(sig);
    const rInt = big(r);
    const sInt = big(s);
    const cases: Record<string, Buffer> = {
      'trailing zero byte': Buffer.concat([sig, Buffer.of(0)]),
      'trailing junk': Buffer.concat([sig, H('0500')]),
      'truncated': sig.subarray(0, sig.length - 1),
      'non-minimal r': derSig(Buffer.concat([Buffer.of(0), r]), s),
      'non-minimal s': derSig(r, Buffer.concat([Buffer.of(0), s])),
      'long-form sequence length': Buffer.concat([Buffer.of(0x30, 0x81, sig[1]!), sig.subarray(2)]),
      'indefinite length': Buffer.concat([Buffer.of(0x30, 0x80), sig.subarray(2), Buffer.of(0, 0)]),
      'r = 0': derSig(intContent(0n), s),
      's = 0': derSig(r, intContent(0n)),
      'r = n': derSig(intContent(N), s),
      's = n': derSig(r, intContent(N)),
      'r + n': derSig(intContent(rInt + N), s),
      's + n': derSig(r, intContent(sInt + N)),
      'negative r': derSig(Buffer.concat([Buffer.of(0xff), r.subarray(r[0] === 0 ? 1 : 0)]), s),
      'swapped r and s': derSig(s, r),
      'third integer': tlv(0x30, Buffer.concat([tlv(0x02, r), tlv(0x02, s), tlv(0x02, Buffer.of(1))])),
      'raw r||s': Buffer.concat([bytes32(rInt), bytes32(sInt)]),
      'empty': Buffer.alloc(0),
    };
    for (const [name, bad] of Object.entries(cases)) {
      assert.equal(sm2VerifyDigest(key.pub, e, bad), false, name);
    }
    // The rebuilt canonical form is still accepted, so the cases above fail for their defect.
    assert.equal(sm2VerifyDigest(key.pub, e, derSig(intContent(rInt), intContent(sInt))), true);
  });

  it('rejects a redundant leading zero on an r or s below 2^255 (33 bytes, within the size cap)', () => {
    const e = sm2MessageDigest(key.pub, Buffer.from('minimal integers'));
    let sig = sm2SignDigest(key.d, e);
    // About 1 in 4 signatures has both r and s below 2^255, i.e. 32-byte minimal INTEGERs.
    while (sigParts(sig).r.length !== 32 || sigParts(sig).s.length !== 32) sig = sm2SignDigest(key.d, e);
    const { r, s } = sigParts(sig);
    assert.equal(sm2VerifyDigest(key.pub, e, derSig(r, s)), true);
    assert.equal(sm2VerifyDigest(key.pub, e, derSig(Buffer.concat([Buffer.of(0), r]), s)), false);
    assert.equal(sm2VerifyDigest(key.pub, e, derSig(r, Buffer.concat([Buffer.of(0), s]))), false);
  });

  it('refuses DER SM2Cipher coordinates that are not field elements', () => {
    const der = sm2Encrypt(key.pub, Buffer.from('coordinates'));
    const raw = sm2CipherDerToRaw(der);
    const rest = Buffer.concat([tlv(0x04, raw.subarray(65, 97)), tlv(0x04, raw.subarray(97))]);
    const y = tlv(0x02, intContent(big(raw.subarray(33, 65))));
    const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
    for (const x of [P, P + 1n, (1n << 256n) + 5n]) {
      const bad = tlv(0x30, Buffer.concat([tlv(0x02, intContent(x)), y, rest]));
      throwsCode(() => sm2CipherDerToRaw(bad), 'InvalidCiphertext', `x = ${x.toString(16)}`);
      throwsCode(() => sm2Decrypt(key.d, bad), 'InvalidCiphertext', `x = ${x.toString(16)}`);
    }
    // The same builder with the real x is accepted, so the failures above are about x.
    const good = tlv(0x30, Buffer.concat([tlv(0x02, intContent(big(raw.subarray(1, 33)))), y, rest]));
    assert.deepEqual(good, der);
  });

  it("rejects Node's crypto.sign on an SM2-curve key (plain ECDSA, the kms.md trap)", () => {
    const message = Buffer.from('not sm2');
    const ecdsa = nodeSign('sm3', message, createPrivateKey(readFileSync(key.keyPem)));
    assert.equal(sm2VerifyDigest(key.pub, sm2MessageDigest(key.pub, message), ecdsa), false);
  });

  it('refuses wrong-length digests and invalid public keys with errors, not false', () => {
    const sig = sm2SignDigest(key.d, sm2MessageDigest(key.pub, Buffer.from('x')));
    throwsCode(() => sm2VerifyDigest(key.pub, Buffer.alloc(31), sig), 'InvalidParameter.Digest');
    throwsCode(() => sm2VerifyDigest(key.pub, Buffer.alloc(48), sig), 'InvalidParameter.Digest');
    throwsCode(() => sm2SignDigest(key.d, Buffer.alloc(33)), 'InvalidParameter.Digest');
    const offCurve = Buffer.from(key.pub);
    offCurve[64] = offCurve[64]! ^ 1;
    throwsCode(() => sm2VerifyDigest(offCurve, Buffer.alloc(32), sig), 'InvalidParameter');
    throwsCode(() => sm2Za(offCurve), 'InvalidParameter');
    throwsCode(() => sm2Encrypt(offCurve, Buffer.from('x')), 'InvalidParameter');
    throwsCode(() => sm2VerifyDigest(key.pub.subarray(1), Buffer.alloc(32), sig), 'InvalidParameter');
  });

  it('encrypts here -> openssl pkeyutl -decrypt recovers it', () => {
    for (const plaintext of [Buffer.from('k'), randomBytes(32), randomBytes(100), randomBytes(1000)]) {
      assert.deepEqual(opensslDecrypt(key, sm2Encrypt(key.pub, plaintext)), plaintext);
    }
    // Raw output converted to DER is what openssl reads too.
    const plaintext = randomBytes(40);
    assert.deepEqual(opensslDecrypt(key, sm2CipherRawToDer(sm2Encrypt(key.pub, plaintext, 'c1c3c2'))), plaintext);
  });

  it('encodes a C1 with a short x coordinate as a minimal INTEGER that openssl reads', () => {
    // Find k with x1 < 2^247 (about 1 in 512), so the DER XCoordinate is at most 31 bytes.
    let k = 0n;
    for (;;) {
      const candidate = randomPrivateKey();
      const c1 = sm2PublicKeyFromPrivate(candidate);
      if (c1[1] !== 0 || c1[2]! >= 0x80) continue;
      k = big(candidate);
      break;
    }
    const plaintext = Buffer.from('short x');
    const der = _sm2EncryptWithNonces(key.pub, plaintext, 'der', [k]);
    assert.equal(der[2], 0x02);
    assert.ok(der[3]! <= 31, `XCoordinate length ${der[3]}`);
    assert.deepEqual(opensslDecrypt(key, der), plaintext);
    assert.deepEqual(sm2Decrypt(key.d, der), plaintext);
    const raw = sm2CipherDerToRaw(der);
    assert.equal(raw.length, 65 + 32 + plaintext.length);
    assert.deepEqual(sm2CipherRawToDer(raw), der);
  });

  it('decrypts openssl pkeyutl -encrypt output here, as DER and as raw C1C3C2', () => {
    for (const plaintext of [Buffer.from('y'), randomBytes(32), randomBytes(500)]) {
      const der = opensslEncrypt(key, plaintext);
      assert.equal(der[0], 0x30);
      assert.deepEqual(sm2Decrypt(key.d, der), plaintext);
      const raw = sm2CipherDerToRaw(der);
      assert.equal(raw[0], 0x04);
      assert.deepEqual(sm2Decrypt(key.d, raw), plaintext);
      assert.deepEqual(sm2CipherRawToDer(raw), der);
    }
  });

  it('turns every single-byte change of a ciphertext into InvalidCiphertext', () => {
    const der = sm2Encrypt(key.pub, Buffer.from('sixteen byte msg'));
    const raw = sm2CipherDerToRaw(der);
    for (const [name, ct] of [['der', der], ['raw', raw]] as const) {
      for (let i = 0; i < ct.length; i++) {
        const bad = Buffer.from(ct);
        bad[i] = bad[i]! ^ 0x01;
        throwsCode(() => sm2Decrypt(key.d, bad), 'InvalidCiphertext', `${name} byte ${i}`);
      }
    }
  });

  it('refuses malformed ciphertext encodings with InvalidCiphertext', () => {
    const der = sm2Encrypt(key.pub, Buffer.from('payload'));
    const raw = sm2CipherDerToRaw(der);
    const cases: Record<string, Buffer> = {
      'DER + trailing byte': Buffer.concat([der, Buffer.of(0)]),
      'DER truncated': der.subarray(0, der.length - 1),
      'raw truncated C2 (empty)': raw.subarray(0, 97),
      'raw shorter than C1||C3': raw.subarray(0, 90),
      'compressed C1': Buffer.concat([Buffer.of(0x02 | (raw[64]! & 1)), raw.subarray(1, 33), raw.subarray(65)]),
      'C1 at infinity': Buffer.concat([Buffer.of(0x00), raw.subarray(65)]),
      'C1 = (0, 0)': Buffer.concat([Buffer.of(0x04), Buffer.alloc(64), raw.subarray(65)]),
      'C1 x = p': Buffer.concat([Buffer.of(0x04), H('fffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffff'), raw.subarray(33)]),
      'empty': Buffer.alloc(0),
      'garbage': randomBytes(120),
    };
    if (cases.garbage![0] === 0x04 || cases.garbage![0] === 0x30) cases.garbage![0] = 0x55;
    for (const [name, ct] of Object.entries(cases)) {
      throwsCode(() => sm2Decrypt(key.d, ct), 'InvalidCiphertext', name);
    }
    throwsCode(() => sm2CipherDerToRaw(Buffer.concat([der, Buffer.of(0)])), 'InvalidCiphertext');
    throwsCode(() => sm2CipherRawToDer(raw.subarray(0, 97)), 'InvalidCiphertext');
    // A different key cannot decrypt (C3 mismatch), and says so in the same way.
    throwsCode(() => sm2Decrypt(randomPrivateKey(), der), 'InvalidCiphertext', 'wrong key');
  });
});

describe('sm2 against sm-crypto (independent pure-JS implementation)', () => {
  const d = randomPrivateKey();
  const pub = Buffer.from(sm2PublicKeyFromPrivate(d));
  const pubHex = hex(pub); // 04 || x || y; only sm-crypto's *ciphertexts* drop the 04

  it('sm-crypto doEncrypt (cipherMode 1 = C1C3C2, hex without 04) -> decrypt here', () => {
    for (const plaintext of [randomBytes(1), randomBytes(33), randomBytes(300)]) {
      const ctHex = smCrypto.sm2.doEncrypt(Array.from(plaintext), pubHex, 1);
      assert.deepEqual(sm2Decrypt(d, H(`04${ctHex}`)), plaintext);
    }
  });

  it('encrypt here (raw) -> sm-crypto doDecrypt', () => {
    for (const plaintext of [randomBytes(1), randomBytes(33), randomBytes(300)]) {
      const raw = sm2Encrypt(pub, plaintext, 'c1c3c2');
      const out = smCrypto.sm2.doDecrypt(hex(raw.subarray(1)), hex(d), 1, { output: 'array' });
      assert.deepEqual(Buffer.from(out), plaintext);
    }
  });

  it('signatures verify both ways (default ID and a custom one)', () => {
    const message = randomBytes(77);
    const theirs = H(smCrypto.sm2.doSignature(Array.from(message), hex(d), { hash: true, der: true, publicKey: hex(pub) }));
    assert.equal(sm2VerifyDigest(pub, sm2MessageDigest(pub, message), theirs), true);
    const ours = sm2SignDigest(d, sm2MessageDigest(pub, message));
    assert.equal(smCrypto.sm2.doVerifySignature(Array.from(message), hex(ours), hex(pub), { hash: true, der: true }), true);
    const id = 'keyroom@example.org';
    const custom = sm2SignDigest(d, sm2MessageDigest(pub, message, Buffer.from(id)));
    assert.equal(smCrypto.sm2.doVerifySignature(Array.from(message), hex(custom), hex(pub), { hash: true, der: true, userId: id }), true);
    assert.equal(smCrypto.sm2.doVerifySignature(Array.from(message), hex(custom), hex(pub), { hash: true, der: true }), false);
  });
});

describe('sm2 parameter checks and round trips', () => {
  it('refuses private keys outside [1, n-2] or not 32 bytes', () => {
    for (const bad of [bytes32(0n), bytes32(N - 1n), bytes32(N), Buffer.alloc(32, 0xff), Buffer.alloc(31, 1), Buffer.alloc(33, 1)]) {
      throwsCode(() => sm2PublicKeyFromPrivate(bad), 'InvalidParameter');
      throwsCode(() => sm2SignDigest(bad, ANNEX.e), 'InvalidParameter');
      throwsCode(() => sm2Decrypt(bad, ANNEX.derCiphertext), 'InvalidParameter');
    }
    assert.equal(sm2PublicKeyFromPrivate(bytes32(N - 2n)).length, 65);
  });

  it('refuses an empty plaintext and an over-long ID', () => {
    throwsCode(() => sm2Encrypt(ANNEX.pub, Buffer.alloc(0)), 'InvalidParameter');
    throwsCode(() => sm2Za(ANNEX.pub, Buffer.alloc(8192)), 'InvalidParameter');
    assert.equal(sm2Za(ANNEX.pub, Buffer.alloc(8191, 0x41)).length, 32);
    assert.equal(sm2Za(ANNEX.pub, Buffer.alloc(0)).length, 32);
  });

  it('accepts a compressed public key with the same meaning', () => {
    const compressed = Buffer.concat([Buffer.of(0x02 | (ANNEX.pub[64]! & 1)), ANNEX.pub.subarray(1, 33)]);
    assert.equal(hex(sm2Za(compressed)), hex(ANNEX.za));
    const sig = _sm2SignDigestWithNonces(ANNEX.d, ANNEX.e, [ANNEX.k]);
    assert.equal(sm2VerifyDigest(compressed, ANNEX.e, sig), true);
  });

  it('round-trips random keys and messages, verifying each signature repeatedly', () => {
    for (let i = 0; i < 5; i++) {
      const d = randomPrivateKey();
      const pub = sm2PublicKeyFromPrivate(d);
      const e = sm2MessageDigest(pub, randomBytes(i * 10));
      const sig = sm2SignDigest(d, e);
      for (let use = 1; use <= _SM2_TABLE_FROM_USE + 1; use++) {
        assert.equal(sm2VerifyDigest(pub, e, sig), true);
        assert.equal(sm2VerifyDigest(pub, sm2MessageDigest(pub, Buffer.of(use)), sig), false);
      }
      const plaintext = randomBytes(1 + i * 31);
      assert.deepEqual(sm2Decrypt(d, sm2Encrypt(pub, plaintext)), plaintext);
      assert.deepEqual(sm2Decrypt(d, sm2Encrypt(pub, plaintext, 'c1c3c2')), plaintext);
    }
  });
});
