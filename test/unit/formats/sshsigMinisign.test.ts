/**
 * The SSH wire encodings and the minisign/signify files, byte by byte: mpint's sign octet (the
 * ECDSA pitfall), strict reading (non-minimal, negative, trailing bytes), and minisign's key id
 * printed little-endian.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError, WireReader, sshMpint, sshString } from '../../../src-main/formats/sshsig/wire';
import { armorSshsig, parseSshsig, sshsigBlob, sshSignatureBlob } from '../../../src-main/formats/sshsig/sshsig';
import { minisignKeyIdText, minisignPublicKeyFile, parseMinisig, parseMinisignPublicKey } from '../../../src-main/formats/minisign/minisign';
import { signifyManifestLine } from '../../../src-main/formats/signify/signify';

test('mpint: leading zeros stripped, 0x00 before a high bit, zero is empty (RFC 4251 §5 examples)', () => {
  assert.equal(sshMpint(Buffer.from('00', 'hex')).toString('hex'), '00000000');
  assert.equal(sshMpint(Buffer.from('0009a378f9b2e332a7', 'hex')).toString('hex'), '0000000809a378f9b2e332a7');
  assert.equal(sshMpint(Buffer.from('80', 'hex')).toString('hex'), '000000020080');
  assert.equal(sshMpint(Buffer.from('000080', 'hex')).toString('hex'), '000000020080');
  assert.equal(sshMpint(Buffer.from('7f', 'hex')).toString('hex'), '000000017f');
});

test('the reader refuses non-minimal and negative mpints and trailing bytes', () => {
  const read = (hex: string) => new WireReader(Buffer.from(hex, 'hex')).positiveMpint();
  assert.equal(read('000000020080').toString('hex'), '80');
  assert.throws(() => read('00000002007f'), WireError);
  assert.throws(() => read('0000000180'), WireError);
  assert.throws(() => read('00000000'), WireError);
  const r = new WireReader(Buffer.concat([sshString('ab'), Buffer.from([0])]));
  r.string();
  assert.throws(() => r.end(), WireError);
});

test('SSHSIG armor: 70 columns, round trip, and a trailing byte inside the blob is refused', () => {
  const key = { kind: 'ed25519' as const, pk: Buffer.alloc(32, 7) };
  const blob = sshsigBlob(key, 'file', 'sha512', sshSignatureBlob(key, { ed25519: Buffer.alloc(64, 0) }));
  const text = armorSshsig(blob);
  assert.ok(text.split('\n').slice(1, -2).every((l) => l.length <= 70));
  const p = parseSshsig(text);
  assert.equal(p.namespace, 'file');
  assert.equal(p.sigType, 'ssh-ed25519');
  assert.equal(p.sigBody.length, 64, 'R||S with leading zeros stays 64 bytes (a string, not an mpint)');
  assert.throws(() => parseSshsig(armorSshsig(Buffer.concat([blob, Buffer.from([0])]))), WireError);
  assert.throws(() => parseSshsig(text.replace('SSH SIGNATURE-----\n', 'SSH SIGNATURE-----\nA')), WireError);
});

test('minisign: key id read little-endian; public key and signature files parsed strictly', () => {
  const keynum = Buffer.from('0102030405060708', 'hex');
  assert.equal(minisignKeyIdText(keynum), '0807060504030201');
  const pub = minisignPublicKeyFile(keynum, Buffer.alloc(32, 9));
  assert.match(pub, /^untrusted comment: minisign public key 0807060504030201\nRWQ/);
  assert.deepEqual(parseMinisignPublicKey(pub).keynum, keynum);
  assert.throws(() => parseMinisignPublicKey(`${pub}\n`));
  const sig = Buffer.concat([Buffer.from('ED'), keynum, Buffer.alloc(64, 1)]).toString('base64');
  const file = `untrusted comment: x\n${sig}\ntrusted comment: timestamp:1\tfile:a\thashed\n${Buffer.alloc(64, 2).toString('base64')}\n`;
  assert.equal(parseMinisig(file).trustedComment, 'timestamp:1\tfile:a\thashed');
  const legacy = file.replace(sig, Buffer.concat([Buffer.from('Ed'), keynum, Buffer.alloc(64, 1)]).toString('base64'));
  assert.throws(() => parseMinisig(legacy), /legacy/);
  assert.throws(() => parseMinisig(file.replace(sig, `${sig.slice(0, -4)}AAAA`.slice(0, -2))));
});

test('signify manifest lines are BSD tag style; a name signify cannot read back is refused', () => {
  assert.equal(signifyManifestLine('dir/a b.tar.gz', 'ab'), 'SHA256 (dir/a b.tar.gz) = ab\n');
  assert.throws(() => signifyManifestLine('a)b', 'ab'));
  assert.throws(() => signifyManifestLine('a\nb', 'ab'));
});
