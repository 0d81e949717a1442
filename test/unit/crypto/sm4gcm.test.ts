import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKmsError } from '../../../src-shared/errors';
import {
  SM4_GCM_MAX_PLAINTEXT_LENGTH,
  sm4GcmDecrypt,
  sm4GcmEncrypt,
} from '../../../src-main/crypto/sm4gcm';

const H = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 8998 Appendix A.1 (SM4-GCM). Checked against the RFC text and against
// `referenceSm4Gcm` below, which shares no code with the implementation under test.
const RFC8998 = {
  key: H('0123456789ABCDEFFEDCBA9876543210'),
  iv: H('00001234567800000000ABCD'),
  aad: H('FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2'),
  plaintext: H(`AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
                EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA`),
  ciphertext: H(`17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735
                 D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D`),
  tag: H('83DE3541E4C2B58177E065A9BF7B62EC'),
};

// ---- An independent SM4-GCM: sm-crypto's pure-JS SM4 block + the bit-by-bit GHASH of
// SP 800-38D §6.3 Algorithm 1, with inc32 done literally. Slow and obvious on purpose.
type SmCryptoSm4 = {
  encrypt(input: number[], key: number[], options: { padding: 'none'; output: 'array' }): number[];
};
const smCrypto = createRequire(import.meta.url)('sm-crypto') as { sm4: SmCryptoSm4 };

function sm4Block(key: Uint8Array, block: Uint8Array): Buffer {
  return Buffer.from(smCrypto.sm4.encrypt(Array.from(block), Array.from(key), { padding: 'none', output: 'array' }));
}

/** X · Y in GF(2^128), SP 800-38D §6.3 Algorithm 1, bits numbered from the left. */
function gfMul(x: bigint, y: bigint): bigint {
  const R = 0xe1n << 120n;
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

function referenceGhash(h: Buffer, data: Buffer): bigint {
  const hInt = BigInt(`0x${h.toString('hex')}`);
  let y = 0n;
  for (let off = 0; off < data.length; off += 16) {
    y = gfMul(y ^ BigInt(`0x${data.subarray(off, off + 16).toString('hex')}`), hInt);
  }
  return y;
}

const pad16 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((16 - (b.length % 16)) % 16)]);

function referenceSm4Gcm(key: Buffer, iv: Buffer, plaintext: Buffer, aad: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const h = sm4Block(key, Buffer.alloc(16));
  const j0 = Buffer.concat([iv, H('00000001')]);
  const ciphertext = Buffer.alloc(plaintext.length);
  const cb = Buffer.from(j0);
  for (let off = 0; off < plaintext.length; off += 16) {
    cb.writeUInt32BE((cb.readUInt32BE(12) + 1) >>> 0, 12); // inc32
    const ks = sm4Block(key, cb);
    for (let i = off; i < Math.min(off + 16, plaintext.length); i++) ciphertext[i] = plaintext[i]! ^ ks[i - off]!;
  }
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64BE(BigInt(aad.length * 8), 0);
  lengths.writeBigUInt64BE(BigInt(plaintext.length * 8), 8);
  const s = referenceGhash(h, Buffer.concat([pad16(aad), pad16(ciphertext), lengths]));
  const tag = Buffer.from(s.toString(16).padStart(32, '0'), 'hex');
  const ekj0 = sm4Block(key, j0);
  for (let i = 0; i < 16; i++) tag[i] = tag[i]! ^ ekj0[i]!;
  return { ciphertext, tag };
}

function assertInvalidCiphertext(fn: () => unknown, message?: string): void {
  assert.throws(fn, (e: unknown) => isKmsError(e) && e.code === 'InvalidCiphertext', message);
}

function assertInvalidParameter(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => isKmsError(e) && e.code === 'InvalidParameter');
}

describe('sm4gcm', () => {
  it('encrypts the RFC 8998 A.1 vector', () => {
    const { ciphertext, tag } = sm4GcmEncrypt(RFC8998.key, RFC8998.iv, RFC8998.plaintext, RFC8998.aad);
    assert.equal(ciphertext.toString('hex'), RFC8998.ciphertext.toString('hex'));
    assert.equal(tag.toString('hex'), RFC8998.tag.toString('hex'));
  });

  it('decrypts the RFC 8998 A.1 vector', () => {
    const pt = sm4GcmDecrypt(RFC8998.key, RFC8998.iv, RFC8998.ciphertext, RFC8998.tag, RFC8998.aad);
    assert.deepEqual(pt, RFC8998.plaintext);
  });

  it('the independent reference reproduces RFC 8998 A.1 (so it can judge other inputs)', () => {
    const { ciphertext, tag } = referenceSm4Gcm(RFC8998.key, RFC8998.iv, RFC8998.plaintext, RFC8998.aad);
    assert.deepEqual(ciphertext, RFC8998.ciphertext);
    assert.deepEqual(tag, RFC8998.tag);
  });

  it('agrees with the independent reference on random keys, IVs and lengths (incl. partial blocks)', () => {
    const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 64, 100, 257];
    for (const ptLen of lengths) {
      const aadLen = lengths[randomInt(lengths.length)]!;
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const pt = randomBytes(ptLen);
      const aad = randomBytes(aadLen);
      const ours = sm4GcmEncrypt(key, iv, pt, aad);
      const ref = referenceSm4Gcm(key, iv, pt, aad);
      assert.deepEqual(ours.ciphertext, ref.ciphertext, `pt ${ptLen} aad ${aadLen}`);
      assert.deepEqual(ours.tag, ref.tag, `pt ${ptLen} aad ${aadLen}`);
      assert.deepEqual(sm4GcmDecrypt(key, iv, ours.ciphertext, ours.tag, aad), pt);
    }
  });

  it('keeps an all-ff IV fixed while the counter word counts (inc32, no carry into the IV)', () => {
    // With a 12-byte IV the counter word starts at 2 and the IV bytes must never change;
    // the reference does inc32 literally.
    const key = randomBytes(16);
    const iv = H('ffffffffffffffffffffffff');
    const pt = randomBytes(48);
    assert.deepEqual(sm4GcmEncrypt(key, iv, pt, Buffer.alloc(0)), referenceSm4Gcm(key, iv, pt, Buffer.alloc(0)));
  });

  it('rejects a changed tag byte, ciphertext byte or aad byte with InvalidCiphertext', () => {
    const { ciphertext, tag } = sm4GcmEncrypt(RFC8998.key, RFC8998.iv, RFC8998.plaintext, RFC8998.aad);
    for (let i = 0; i < tag.length; i++) {
      const bad = Buffer.from(tag);
      bad[i] = bad[i]! ^ 0x01;
      assertInvalidCiphertext(() => sm4GcmDecrypt(RFC8998.key, RFC8998.iv, ciphertext, bad, RFC8998.aad), `tag byte ${i}`);
    }
    for (let i = 0; i < ciphertext.length; i++) {
      const bad = Buffer.from(ciphertext);
      bad[i] = bad[i]! ^ 0x80;
      assertInvalidCiphertext(() => sm4GcmDecrypt(RFC8998.key, RFC8998.iv, bad, tag, RFC8998.aad), `ct byte ${i}`);
    }
    for (let i = 0; i < RFC8998.aad.length; i++) {
      const bad = Buffer.from(RFC8998.aad);
      bad[i] = bad[i]! ^ 0x01;
      assertInvalidCiphertext(() => sm4GcmDecrypt(RFC8998.key, RFC8998.iv, ciphertext, tag, bad), `aad byte ${i}`);
    }
    const longerAad = Buffer.concat([RFC8998.aad, Buffer.of(0)]);
    assertInvalidCiphertext(() => sm4GcmDecrypt(RFC8998.key, RFC8998.iv, ciphertext, tag, longerAad));
    assertInvalidCiphertext(() => sm4GcmDecrypt(RFC8998.key, RFC8998.iv, ciphertext.subarray(1), tag, RFC8998.aad));
    const otherIv = Buffer.from(RFC8998.iv);
    otherIv[11] = otherIv[11]! ^ 1;
    assertInvalidCiphertext(() => sm4GcmDecrypt(RFC8998.key, otherIv, ciphertext, tag, RFC8998.aad));
  });

  it('authenticates an empty plaintext (tag only)', () => {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const aad = Buffer.from('context');
    const { ciphertext, tag } = sm4GcmEncrypt(key, iv, Buffer.alloc(0), aad);
    assert.equal(ciphertext.length, 0);
    assert.equal(sm4GcmDecrypt(key, iv, ciphertext, tag, aad).length, 0);
    assertInvalidCiphertext(() => sm4GcmDecrypt(key, iv, ciphertext, tag, Buffer.from('Context')));
  });

  it('rejects wrong key, IV and tag lengths', () => {
    const { key, iv, plaintext, aad, ciphertext, tag } = RFC8998;
    for (const badKey of [Buffer.alloc(15), Buffer.alloc(17), Buffer.alloc(32), Buffer.alloc(0)]) {
      assertInvalidParameter(() => sm4GcmEncrypt(badKey, iv, plaintext, aad));
      assertInvalidParameter(() => sm4GcmDecrypt(badKey, iv, ciphertext, tag, aad));
    }
    for (const badIv of [Buffer.alloc(0), Buffer.alloc(8), Buffer.alloc(11), Buffer.alloc(13), Buffer.alloc(16)]) {
      assertInvalidParameter(() => sm4GcmEncrypt(key, badIv, plaintext, aad));
      assertInvalidParameter(() => sm4GcmDecrypt(key, badIv, ciphertext, tag, aad));
    }
    for (const badTag of [tag.subarray(0, 12), tag.subarray(0, 15), Buffer.concat([tag, Buffer.of(0)]), Buffer.alloc(0)]) {
      assertInvalidCiphertext(() => sm4GcmDecrypt(key, iv, ciphertext, badTag, aad));
    }
  });

  it('refuses data beyond the GCM limit of 2^32 - 2 blocks (where the CTR increments would differ)', () => {
    // Only .length is read before the check, so a length-only stand-in avoids allocating 64 GiB.
    const huge = { length: SM4_GCM_MAX_PLAINTEXT_LENGTH + 1 } as unknown as Uint8Array;
    assertInvalidParameter(() => sm4GcmEncrypt(RFC8998.key, RFC8998.iv, huge, Buffer.alloc(0)));
    assertInvalidParameter(() => sm4GcmDecrypt(RFC8998.key, RFC8998.iv, huge, RFC8998.tag, Buffer.alloc(0)));
    assert.equal(SM4_GCM_MAX_PLAINTEXT_LENGTH, (2 ** 32 - 2) * 16);
  });

  it('passes every 12-byte-IV case of Wycheproof sm4_gcm_test.json', () => {
    // The vectors live in the repository (test/vectors/wycheproof/SOURCES.md names the commit).
    const here = path.dirname(fileURLToPath(import.meta.url));
    const file = path.resolve(here, '../../vectors/wycheproof/sm4_gcm_test.json');
    const suite = JSON.parse(readFileSync(file, 'utf8')) as WycheproofAead;
    let run = 0;
    for (const group of suite.testGroups) {
      if (group.ivSize !== 96 || group.tagSize !== 128 || group.keySize !== 128) continue;
      for (const tc of group.tests) {
        run++;
        const label = `tcId ${tc.tcId} (${tc.comment})`;
        const [key, iv, aad, msg, ct, tag] = [tc.key, tc.iv, tc.aad, tc.msg, tc.ct, tc.tag].map(H) as Buffer[];
        if (tc.result === 'valid') {
          const sealed = sm4GcmEncrypt(key!, iv!, msg!, aad!);
          assert.equal(sealed.ciphertext.toString('hex'), tc.ct, label);
          assert.equal(sealed.tag.toString('hex'), tc.tag, label);
          assert.deepEqual(sm4GcmDecrypt(key!, iv!, ct!, tag!, aad!), msg, label);
        } else {
          assertInvalidCiphertext(() => sm4GcmDecrypt(key!, iv!, ct!, tag!, aad!), label);
        }
      }
    }
    assert.ok(run > 0, 'no 12-byte-IV cases found');
    console.log(`Wycheproof SM4-GCM: ${run} 12-byte-IV cases passed`);
  });
});

interface WycheproofAead {
  testGroups: {
    ivSize: number;
    keySize: number;
    tagSize: number;
    tests: { tcId: number; comment: string; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string }[];
  }[];
}

describe('sm4gcm with the JS SM4 (Electron\'s BoringSSL has no SM4) against OpenSSL\'s', () => {
  it('the JS provider encrypts the RFC 8998 A.1 vector', () => {
    const { ciphertext, tag } = sm4GcmEncrypt(RFC8998.key, RFC8998.iv, RFC8998.plaintext, RFC8998.aad, 'js');
    assert.deepEqual(ciphertext, RFC8998.ciphertext);
    assert.deepEqual(tag, RFC8998.tag);
  });

  it('encrypts with JS and decrypts with OpenSSL, and the other way round', () => {
    for (const length of [0, 1, 15, 16, 17, 100, 4096, 70_001]) {
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const pt = randomBytes(length);
      const aad = randomBytes(randomInt(0, 40));
      const js = sm4GcmEncrypt(key, iv, pt, aad, 'js');
      const native = sm4GcmEncrypt(key, iv, pt, aad, 'openssl');
      assert.deepEqual(js, native, `length ${length}`);
      assert.deepEqual(sm4GcmDecrypt(key, iv, js.ciphertext, js.tag, aad, 'openssl'), pt, `length ${length}`);
      assert.deepEqual(sm4GcmDecrypt(key, iv, native.ciphertext, native.tag, aad, 'js'), pt, `length ${length}`);
    }
  });

  it('the JS provider rejects a changed tag', () => {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const { ciphertext, tag } = sm4GcmEncrypt(key, iv, randomBytes(33), Buffer.alloc(0), 'openssl');
    tag[0] = tag[0]! ^ 1;
    assertInvalidCiphertext(() => sm4GcmDecrypt(key, iv, ciphertext, tag, Buffer.alloc(0), 'js'));
  });
});
