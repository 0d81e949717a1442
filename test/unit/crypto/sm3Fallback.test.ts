/**
 * The JS SM3 that replaces OpenSSL's under Electron (BoringSSL has no SM3), forced here with
 * createSm3('js') and judged by OpenSSL: Node's createHash('sm3') in this process and the
 * `openssl dgst -sm3` command.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SM3_PROVIDER, createSm3, type Sm3Provider } from '../../../src-main/crypto/sm3';
import { Scratch, openssl } from '../../support/openssl';

const opensslSm3 = (data: Uint8Array): string => createHash('sm3').update(data).digest('hex');
const jsSm3 = (data: Uint8Array): string => createSm3('js').update(data).digest('hex');

describe('sm3 provider selection', () => {
  it('uses OpenSSL in plain Node, where it has SM3', () => {
    assert.equal(SM3_PROVIDER, 'openssl');
  });
});

describe('sm3, JS provider', () => {
  it('matches the GB/T 32905-2016 Appendix A examples', () => {
    assert.equal(jsSm3(Buffer.from('abc')), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    assert.equal(jsSm3(Buffer.from('abcd'.repeat(16))), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('agrees with OpenSSL at every length around the padding boundaries and beyond', () => {
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(length);
      assert.equal(jsSm3(data), opensslSm3(data), `length ${length}`);
    }
    for (const length of [4095, 4096, 65_537, 1_000_003]) {
      const data = randomBytes(length);
      assert.equal(jsSm3(data), opensslSm3(data), `length ${length}`);
    }
  });

  it('is incremental: random chunkings give the one-shot OpenSSL digest', () => {
    for (let round = 0; round < 50; round++) {
      const data = randomBytes(randomInt(0, 2000));
      const h = createSm3('js');
      for (let off = 0; off < data.length; ) {
        const take = Math.min(randomInt(0, 150), data.length - off);
        h.update(data.subarray(off, off + take));
        off += take;
      }
      assert.equal(h.digest('hex'), opensslSm3(data), `round ${round}`);
    }
  });

  it('copy() forks a shared prefix like Hash.copy() does', () => {
    for (const provider of ['js', 'openssl'] as const satisfies readonly Sm3Provider[]) {
      const prefix = randomBytes(70);
      const h = createSm3(provider).update(prefix);
      const fork = h.copy();
      assert.equal(h.update('x').digest('hex'), opensslSm3(Buffer.concat([prefix, Buffer.from('x')])), provider);
      assert.equal(fork.update('yz').digest('hex'), opensslSm3(Buffer.concat([prefix, Buffer.from('yz')])), provider);
    }
  });

  it('hashes strings as UTF-8 and encodes digests like Node', () => {
    const text = 'ÄŋЅ 国密 😀';
    const expected = createHash('sm3').update(text).digest();
    assert.deepEqual(createSm3('js').update(text).digest(), expected);
    assert.equal(createSm3('js').update(text).digest('base64'), expected.toString('base64'));
  });

  it('refuses an update after digest, as Node does', () => {
    const h = createSm3('js').update('a');
    h.digest();
    assert.throws(() => h.update('b'));
  });

  it('streams a file to the digest `openssl dgst -sm3` prints', async () => {
    const scratch = new Scratch();
    try {
      const path = scratch.file('data.bin', randomBytes(3 * 1024 * 1024 + 17));
      const h = createSm3('js');
      for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 + 3 })) h.update(chunk as Buffer);
      const printed = openssl(['dgst', '-sm3', '-r', path]).toString('utf8').split(' ')[0];
      assert.equal(h.digest('hex'), printed);
    } finally {
      scratch.remove();
    }
  });
});
