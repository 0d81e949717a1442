import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hexToBytes } from '@noble/hashes/utils.js';
import { PGP_EVEN_WORDS, PGP_ODD_WORDS, hexGroups, pgpWords } from '../../../src-shared/domain/pgpWords';

describe('PGP word list', () => {
  it("reads Wikipedia's published example back to its words", () => {
    // https://en.wikipedia.org/wiki/PGP_word_list (section "Example").
    const bytes = hexToBytes('E58294F2E9A227486E8B061B31CC528FD7FA3F19'.toLowerCase());
    assert.equal(
      pgpWords(bytes).join(' '),
      'topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator goldfish Medusa afflict bravado chatter revolver Dupont midsummer stopwatch whimsical cowbell bottomless',
    );
    assert.equal(hexGroups(bytes), 'E582 94F2 E9A2 2748 6E8B 061B 31CC 528F D7FA 3F19');
  });

  it('has 256 distinct words in each list, none shared, and the first and last of each as published', () => {
    assert.equal(PGP_EVEN_WORDS.length, 256);
    assert.equal(PGP_ODD_WORDS.length, 256);
    const all = new Set([...PGP_EVEN_WORDS, ...PGP_ODD_WORDS].map((w) => w.toLowerCase()));
    assert.equal(all.size, 512);
    assert.deepEqual([PGP_EVEN_WORDS[0], PGP_ODD_WORDS[0], PGP_EVEN_WORDS[255], PGP_ODD_WORDS[255]], ['aardvark', 'adroitness', 'Zulu', 'Yucatan']);
  });

  it('takes the even list at position 0 whatever the byte, so the same byte reads differently by position', () => {
    assert.deepEqual(pgpWords(new Uint8Array([0x9e, 0x9e])), ['quiver', 'onlooker']);
    assert.equal(hexGroups(new Uint8Array([1, 2, 3])), '0102 03');
  });
});
