import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { createSm3, sm3 } from '../../../src-main/crypto/sm3';

// sm-crypto ships no types; this is the one function used from it here.
type SmCryptoSm3 = (input: number[] | Uint8Array | string) => string;
const smCrypto = createRequire(import.meta.url)('sm-crypto') as { sm3: SmCryptoSm3 };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('sm3', () => {
  // GB/T 32905-2016 Appendix A, example 1: "abc".
  it('matches the GB/T 32905 "abc" example', () => {
    assert.equal(hex(sm3(Buffer.from('abc'))), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  // GB/T 32905-2016 Appendix A, example 2: "abcd" x 16 (64 bytes, two blocks after padding).
  it('matches the GB/T 32905 64-byte example', () => {
    assert.equal(
      hex(sm3(Buffer.from('abcd'.repeat(16)))),
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('hashes the concatenation of its parts', () => {
    const a = randomBytes(70);
    const b = randomBytes(1);
    const c = randomBytes(0);
    assert.deepEqual(sm3(a, b, c), sm3(Buffer.concat([a, b, c])));
    assert.deepEqual(sm3(), sm3(new Uint8Array(0)));
    assert.equal(hex(sm3()), '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
  });

  it('agrees with the independent sm-crypto implementation at many lengths', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000]) {
      const data = randomBytes(length);
      assert.equal(hex(sm3(data)), smCrypto.sm3(Array.from(data)), `length ${length}`);
    }
  });

  it('createSm3 gives an independent incremental state', () => {
    const h = createSm3().update('ab');
    const fork = h.copy();
    assert.equal(hex(h.update('c').digest()), hex(sm3(Buffer.from('abc'))));
    assert.equal(hex(fork.digest()), hex(sm3(Buffer.from('ab'))));
  });
});
