/**
 * The JS SM4 that replaces OpenSSL's sm4-ecb / sm4-ctr under Electron (BoringSSL has no SM4),
 * forced here with provider 'js' and judged by OpenSSL: Node's ciphers in this process and the
 * `openssl enc` command. SM4-GCM across the two providers is in sm4gcm.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { SM4_PROVIDER, sm4Ctr, sm4EcbDecrypt, sm4EcbEncrypt } from '../../../src-main/crypto/sm4';
import { openssl } from '../../support/openssl';

const H = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** GB/T 32907-2016 Appendix A. */
const GBT32907 = {
  key: H('0123456789abcdeffedcba9876543210'),
  plaintext: H('0123456789abcdeffedcba9876543210'),
  once: '681edf34d206965e86b3e94f536e4246',
  millionTimes: '595298c7c6fd271f0402f804c33d3f66',
};

function opensslEcb(key: Uint8Array, blocks: Uint8Array): Buffer {
  const c = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([c.update(blocks), c.final()]);
}

function opensslCtr(key: Uint8Array, counter: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('sm4-ctr', key, counter);
  return Buffer.concat([c.update(data), c.final()]);
}

describe('sm4 provider selection', () => {
  it('uses OpenSSL in plain Node, where it has sm4-ecb and sm4-ctr', () => {
    assert.equal(SM4_PROVIDER, 'openssl');
  });
});

describe('sm4, JS provider', () => {
  it('encrypts the GB/T 32907 example once', () => {
    assert.equal(sm4EcbEncrypt(GBT32907.key, GBT32907.plaintext, 'js').toString('hex'), GBT32907.once);
    assert.equal(sm4EcbEncrypt(GBT32907.key, GBT32907.plaintext, 'openssl').toString('hex'), GBT32907.once);
  });

  it('encrypts the GB/T 32907 example 1,000,000 times', () => {
    let block: Buffer = Buffer.from(GBT32907.plaintext);
    for (let i = 0; i < 1_000_000; i++) block = sm4EcbEncrypt(GBT32907.key, block, 'js');
    assert.equal(block.toString('hex'), GBT32907.millionTimes);
  });

  it('agrees with OpenSSL sm4-ecb on random keys and blocks', () => {
    for (let round = 0; round < 300; round++) {
      const key = randomBytes(16);
      const blocks = randomBytes(16 * randomInt(0, 9));
      assert.deepEqual(sm4EcbEncrypt(key, blocks, 'js'), opensslEcb(key, blocks), `round ${round}`);
    }
  });

  it('decrypts as OpenSSL sm4-ecb does (a BYOK rehearsal unwraps SM4-ECB with it)', () => {
    assert.equal(sm4EcbDecrypt(GBT32907.key, H(GBT32907.once), 'js').toString('hex'), GBT32907.plaintext.toString('hex'));
    for (let round = 0; round < 100; round++) {
      const key = randomBytes(16);
      const blocks = randomBytes(16 * randomInt(1, 9));
      const c = opensslEcb(key, blocks);
      assert.deepEqual(sm4EcbDecrypt(key, c, 'js'), blocks, `round ${round}`);
      assert.deepEqual(sm4EcbDecrypt(key, c, 'openssl'), blocks, `round ${round}`);
    }
  });

  it('agrees with OpenSSL sm4-ctr, including partial blocks and carries through the whole counter', () => {
    const counters = [
      Buffer.alloc(16),
      H('000000000000000000000000fffffffe'), // carry out of the low word
      H('00000000000000ffffffffffffffffff'), // carry through eight bytes
      H('fffffffffffffffffffffffffffffffe'), // wraps at 2^128
    ];
    for (let round = 0; round < 200; round++) {
      const key = randomBytes(16);
      const counter = round < counters.length ? counters[round]! : randomBytes(16);
      const data = randomBytes(randomInt(0, 200));
      assert.deepEqual(sm4Ctr(key, counter, data, 'js'), opensslCtr(key, counter, data), `round ${round}`);
    }
  });

  it('agrees with `openssl enc -sm4-ecb` and `-sm4-ctr`', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const blocks = randomBytes(16 * 40);
    const data = randomBytes(1000);
    const K = key.toString('hex');
    assert.deepEqual(sm4EcbEncrypt(key, blocks, 'js'), openssl(['enc', '-sm4-ecb', '-nopad', '-K', K], blocks));
    assert.deepEqual(sm4Ctr(key, iv, data, 'js'), openssl(['enc', '-sm4-ctr', '-K', K, '-iv', iv.toString('hex')], data));
  });

  it('refuses partial ECB blocks, short counters and wrong key lengths', () => {
    assert.throws(() => sm4EcbEncrypt(randomBytes(16), randomBytes(15), 'js'), RangeError);
    assert.throws(() => sm4Ctr(randomBytes(16), randomBytes(12), randomBytes(4), 'js'), RangeError);
    assert.throws(() => sm4EcbEncrypt(randomBytes(15), randomBytes(16), 'js'), RangeError);
  });
});
