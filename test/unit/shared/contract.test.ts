/** Pure logic of the contract: alias rules, EncryptionContext canonical form, input validation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aliasNameProblem } from '../../../src-shared/alias';
import { canonicalEncryptionContext, parseEncryptionContext } from '../../../src-shared/encryptionContext';
import { parseInput } from '../../../src-shared/contract/validate';
import { OPERATIONS, OPERATION_NAMES } from '../../../src-shared/contract/operations';
import { KEY_SPECS, KEY_SPEC_INFO, SIGNING_DIGEST, normaliseKeySpec, defaultKeyUsage } from '../../../src-shared/domain/keySpecs';
import { KmsError } from '../../../src-shared/errors';

describe('alias rules', () => {
  it('accepts alias/ then 1-255 letters, digits, _, - and /', () => {
    for (const ok of ['alias/a', 'alias/A-z_0/9', `alias/${'a'.repeat(255)}`]) assert.equal(aliasNameProblem(ok), undefined, ok);
    for (const bad of ['a', 'alias/', 'aliases/a', 'alias/a b', 'alias/a.b', 'alias/é', `alias/${'a'.repeat(256)}`, 'ALIAS/a']) {
      assert.ok(aliasNameProblem(bad), bad);
    }
  });
});

describe('EncryptionContext', () => {
  it('is canonical: same pairs in any order give the same bytes', () => {
    assert.equal(canonicalEncryptionContext({ b: '2', a: '1' }), canonicalEncryptionContext({ a: '1', b: '2' }));
    assert.equal(canonicalEncryptionContext({ b: '2', a: '1' }), '{"a":"1","b":"2"}');
    assert.equal(canonicalEncryptionContext({}), '');
    assert.equal(canonicalEncryptionContext(undefined), '');
  });
  it('keeps a key named __proto__ as data, so it is part of the AAD', () => {
    const a = parseEncryptionContext('{"__proto__":"tenant-A"}');
    const b = parseEncryptionContext('{"__proto__":"tenant-B"}');
    assert.ok(a.ok && b.ok);
    assert.equal(canonicalEncryptionContext(a.value), '{"__proto__":"tenant-A"}');
    assert.notEqual(canonicalEncryptionContext(a.value), canonicalEncryptionContext(b.value));
    assert.equal(parseEncryptionContext(new Map([['a', 'b']])).ok, false);
  });
  it('accepts only a JSON object of strings within 8,192 characters', () => {
    assert.ok(parseEncryptionContext('{"k":"v"}').ok);
    assert.ok(parseEncryptionContext({ k: 'v' }).ok);
    for (const bad of ['[]', '"s"', '1', '{"k":1}', '{"k":{"a":"b"}}', '{"k":["a"]}', 'nope', null, 5]) {
      assert.equal(parseEncryptionContext(bad).ok, false, JSON.stringify(bad));
    }
    assert.equal(parseEncryptionContext({ k: 'x'.repeat(8190) }).ok, false);
    assert.equal(parseEncryptionContext(JSON.stringify({ k: 'x'.repeat(8180) })).ok, true);
  });
});

describe('contract validation', () => {
  it('names every problem with its path and a dotted code', () => {
    assert.throws(() => parseInput('CreateKey', { KeySpec: 'RSA_1024' }), (e: KmsError) => e.code === 'InvalidParameter.KeySpec' && /KeySpec/.test(e.message));
    assert.throws(() => parseInput('CreateAlias', { AliasName: 'x', KeyId: 'k' }), (e: KmsError) => e.code === 'InvalidParameter.AliasName');
    // A missing parameter decides the code (the command line's exit 2), whatever else is wrong.
    assert.throws(() => parseInput('CreateAlias', { AliasName: 'x' }), (e: KmsError) => e.code === 'MissingParameter' && /KeyId is required; AliasName: /.test(e.message));
    assert.throws(() => parseInput('SignFile', { KeyId: 'k' }), (e: KmsError) => e.code === 'MissingParameter' && e.message === 'File is required.');
    assert.throws(() => parseInput('DescribeKey', {}), (e: KmsError) => e.code === 'MissingParameter' && /KeyId is required/.test(e.message));
    assert.throws(() => parseInput('DescribeKey', { KeyId: 'k', Extra: 1 }), (e: KmsError) => /unknown parameter\(s\): Extra/i.test(e.message));
    assert.throws(() => parseInput('AsymmetricSign', { KeyId: 'k', KeyVersionId: 'nope', Algorithm: 'ECDSA_SHA_256', Digest: 'AA==' }), KmsError);
    assert.throws(() => parseInput('Decrypt', { CiphertextBlob: 'a b' }), (e: KmsError) => e.code === 'InvalidParameter');
    assert.throws(() => parseInput('Decrypt', 'not an object'), KmsError);
  });
  it('turns command-line strings into numbers and booleans, strictly', () => {
    assert.equal(parseInput('ScheduleKeyDeletion', { KeyId: 'k', PendingWindowInDays: '7' }).PendingWindowInDays, 7);
    assert.equal(parseInput('CreateKey', { Exportable: 'true' }).Exportable, true);
    assert.throws(() => parseInput('CreateKey', { Exportable: '1' }), KmsError);
    assert.throws(() => parseInput('ScheduleKeyDeletion', { KeyId: 'k', PendingWindowInDays: '7.5' }), KmsError);
    assert.equal(parseInput('CreateKey', { KeySpec: 'Aliyun_AES_256' }).KeySpec, 'AES_256');
  });
  it('lists each operation once with a summary', () => {
    assert.equal(new Set(OPERATION_NAMES).size, OPERATION_NAMES.length);
    for (const name of OPERATION_NAMES) assert.ok(OPERATIONS[name].summary.length > 10, name);
  });
});

describe('key spec table', () => {
  it('is consistent: usages imply algorithms, digests fit the algorithms', () => {
    for (const spec of KEY_SPECS) {
      const info = KEY_SPEC_INFO[spec];
      assert.ok(info.usages.length > 0);
      assert.equal(normaliseKeySpec(spec), spec);
      if (info.usages.includes('SIGN/VERIFY')) assert.ok(info.signingAlgorithms.length > 0, spec);
      if (info.usages.includes('ENCRYPT/DECRYPT')) assert.ok(info.encryptionAlgorithms.length > 0 || info.symmetricAlgorithm, spec);
      assert.ok(info.usages.includes(defaultKeyUsage(spec)));
    }
    assert.equal(SIGNING_DIGEST.ECDSA_SHA_384.bytes, 48);
    assert.equal(normaliseKeySpec('Aliyun_SM4'), 'SM4');
    assert.equal(normaliseKeySpec('AES_128'), undefined);
  });
});
