/**
 * How guessable a passphrase is, by zxcvbn-ts with its common and English dictionaries: a score
 * from 0 to 4 and a sentence for the operator. The keystore accepts any passphrase of 8 or more
 * characters; this is advice, and the create screen asks for score 3 or more before it proceeds.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

let checker: ZxcvbnFactory | undefined;

export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  words: string;
}

const VERDICT = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

export function passphraseStrength(passphrase: string): Strength {
  checker ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations });
  // Long inputs make matching slow; 256 characters is well past "very strong".
  const r = checker.check(passphrase.slice(0, 256));
  const advice = r.feedback.warning ?? r.feedback.suggestions[0] ?? '';
  return { score: r.score, words: `${VERDICT[r.score]}: about 10^${Math.floor(r.guessesLog10)} guesses.${advice ? ` ${advice}` : ''}` };
}
