/** OpenPGP building blocks against the standard's numbers (RFC 4880) and their own invariants. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { armor, crc24, dearmor } from '../../../src-main/formats/openpgp/armor';
import { bodyLength, mpi, packet, readMpi, readPackets, PACKET_TAG } from '../../../src-main/formats/openpgp/packets';
import { assertOpenPgpUserId, transferablePublicKey } from '../../../src-main/formats/openpgp/certificate';
import { publicKeyBody } from '../../../src-main/formats/openpgp/publicKey';
import { signDetached } from '../../../src-main/formats/openpgp/signature';
import { KmsError } from '../../../src-shared/errors';
import { ed25519TestKey, testKey } from '../../support/formatKeys';

describe('ASCII armor and CRC24 (RFC 4880 §6)', () => {
  it('CRC-24/OPENPGP check value: crc24("123456789") = 0x21CF02', () => {
    assert.equal(crc24(Buffer.from('123456789')), 0x21cf02);
    assert.equal(crc24(Buffer.alloc(0)), 0xb704ce); // the initial value, untouched
  });

  it("RFC 4880 §6.6's example armored message has the checksum =njUN", () => {
    const data = Buffer.from('yDgBO22WxBHv7O8X7O/jygAEzol56iUKiXmV+XmpCtmpqQUKiQrFqclFqUDBovzSvBSFjNSiVHsuAA==', 'base64');
    const crc = crc24(data);
    assert.equal(Buffer.from([crc >> 16, (crc >> 8) & 0xff, crc & 0xff]).toString('base64'), 'njUN');
  });

  it('armors in 64-column lines with a CRC line, and reads back; a damaged body fails the CRC', () => {
    const data = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
    const text = armor('PGP SIGNATURE', data);
    const lines = text.split('\n');
    assert.equal(lines[0], '-----BEGIN PGP SIGNATURE-----');
    assert.equal(lines[1], '');
    assert.ok(lines.slice(2, -4).every((l) => l.length === 64));
    assert.equal(lines.at(-4)!.length, 268 - 4 * 64);
    assert.match(lines.at(-3)!, /^=[A-Za-z0-9+/]{4}$/);
    assert.equal(lines.at(-2), '-----END PGP SIGNATURE-----');
    assert.deepEqual(dearmor(text, 'PGP SIGNATURE'), data);
    const damaged = text.replace(lines[2]!, `${lines[2]!.slice(0, 10)}${lines[2]![10] === 'A' ? 'B' : 'A'}${lines[2]!.slice(11)}`);
    assert.throws(() => dearmor(damaged, 'PGP SIGNATURE'), /checksum does not match/);
    assert.throws(() => dearmor(text, 'PGP PUBLIC KEY BLOCK'), KmsError);
  });
});

describe('packets and MPIs (RFC 4880 §3.2, §4.2)', () => {
  it('new-format lengths: 1, 2 and 5 octets at the boundaries of §4.2.2', () => {
    assert.deepEqual([...bodyLength(191)], [191]);
    assert.deepEqual([...bodyLength(192)], [192, 0]);
    assert.deepEqual([...bodyLength(8383)], [223, 255]);
    assert.deepEqual([...bodyLength(8384)], [255, 0, 0, 0x20, 0xc0]);
    for (const len of [0, 1, 191, 192, 1000, 8383, 8384, 70000]) {
      const body = Buffer.alloc(len, 7);
      const [p] = readPackets(packet(PACKET_TAG.userId, body));
      assert.equal(p!.tag, PACKET_TAG.userId);
      assert.equal(p!.body.length, len);
    }
  });

  it('an MPI counts bits from the top set bit and drops leading zero octets', () => {
    assert.deepEqual([...mpi(Buffer.from([0x00, 0x00, 0x01]))], [0, 1, 1]); // RFC 4880 §3.2 example: [00 01 01]
    assert.deepEqual([...mpi(Buffer.from([0x01, 0xff]))], [0, 9, 1, 0xff]); // [00 09 01 FF]
    assert.deepEqual([...mpi(Buffer.from([0x80]))], [0, 8, 0x80]); // no sign octet, unlike DER or SSH mpint
    assert.deepEqual([...mpi(Buffer.from([0, 0]))], [0, 0]);
    const read = readMpi(mpi(Buffer.from([0, 0x40, 1, 2])), 0);
    assert.deepEqual([...read.value], [0x40, 1, 2]);
  });

  it('an EdDSA legacy public key is MPI(0x40 || A), 263 bits, after its curve OID', () => {
    const key = ed25519TestKey();
    const body = publicKeyBody({ spki: key.spki, keySpec: 'ED25519', created: new Date(0) });
    assert.equal(body[5], 22);
    assert.equal(body.subarray(6, 16).toString('hex'), '092b06010401da470f01');
    assert.equal(body.readUInt16BE(16), 263);
    assert.equal(body[18], 0x40);
    assert.equal(body.length, 18 + 33);
  });

  it('a public key that does not match its key spec is refused', () => {
    const ec = testKey('EC_P256');
    assert.throws(() => publicKeyBody({ spki: ec.spki, keySpec: 'EC_P384', created: new Date(0) }), (e: unknown) => e instanceof KmsError && e.code === 'InvalidParameter.PublicKey');
    assert.throws(() => publicKeyBody({ spki: ec.spki, keySpec: 'ED25519', created: new Date(0) }), KmsError);
  });
});

describe('the transferable public key', () => {
  it('the same key and creation time give the same fingerprint on every export, a day apart', async (t) => {
    const key = ed25519TestKey();
    const created = new Date('2026-02-01T00:00:00Z');
    t.mock.timers.enable({ apis: ['Date'], now: new Date('2026-05-01T10:00:00Z') });
    const first = await transferablePublicKey({ spki: key.spki, keySpec: 'ED25519', created, userId: 'A B <a@example.org>', sign: key.sign });
    t.mock.timers.setTime(new Date('2026-05-02T10:00:00Z').getTime());
    const second = await transferablePublicKey({ spki: key.spki, keySpec: 'ED25519', created, userId: 'A B <a@example.org>', sign: key.sign });
    t.mock.timers.reset();
    assert.equal(first.fingerprint, second.fingerprint);
    assert.match(first.fingerprint, /^[0-9A-F]{40}$/);
    // Ed25519 is deterministic and the certification is dated at the key's creation: byte-identical.
    assert.equal(first.armored, second.armored);
    const other = await transferablePublicKey({ spki: key.spki, keySpec: 'ED25519', created: new Date(created.getTime() + 1000), userId: 'A B <a@example.org>', sign: key.sign });
    assert.notEqual(other.fingerprint, first.fingerprint);
  });

  it('is Public-Key, User ID, positive certification with key flags certify+sign', async () => {
    const key = testKey('EC_P384');
    const cert = await transferablePublicKey({ spki: key.spki, keySpec: 'EC_P384', created: new Date(1e12), userId: 'Release <r@example.org>', sign: key.sign });
    const packets = readPackets(cert.binary);
    assert.deepEqual(packets.map((p) => p.tag), [6, 13, 2]);
    assert.equal(packets[1]!.body.toString(), 'Release <r@example.org>');
    const sig = packets[2]!.body;
    assert.deepEqual([...sig.subarray(0, 4)], [4, 0x13, 19, 9]); // v4, positive cert, ECDSA, SHA-384
    const hashed = sig.subarray(6, 6 + sig.readUInt16BE(4));
    assert.ok(hashed.includes(Buffer.from([2, 27, 0x03])), 'key flags subpacket 27 = certify|sign');
    assert.deepEqual(dearmor(cert.armored, 'PGP PUBLIC KEY BLOCK'), cert.binary);
  });

  it("refuses a User ID that is not 'Name <email>'", () => {
    for (const bad of ['', ' ', 'release@example.org', '<release@example.org>', 'Name <no-at>', 'Name <a@b> extra', 'Na<me <a@b.c>', 'Name\n <a@b.c>']) {
      assert.throws(() => assertOpenPgpUserId(bad), (e: unknown) => e instanceof KmsError && e.code === 'InvalidParameter', bad);
    }
    for (const good of ['Release Signing <release@example.org>', 'Zoë Ö <z@例え.jp>', 'A <a@b>']) assertOpenPgpUserId(good);
  });
});

describe('the detached signature', () => {
  it('leaves the shared file hash usable by other formats and hashes what RFC 4880 §5.2.4 says', async () => {
    const key = ed25519TestKey();
    const fileHash = createHash('sha512').update('payload');
    let signedInput: Buffer = Buffer.alloc(0);
    const asc = await signDetached({
      publicKey: { spki: key.spki, keySpec: 'ED25519', created: new Date(0) }, hashAlgorithm: 'sha512', fileHash,
      signatureTime: new Date(1_700_000_000_000), sign: async (m) => { signedInput = m; return key.sign(m); },
    });
    assert.equal(fileHash.digest('hex'), createHash('sha512').update('payload').digest('hex'));
    const [sig] = readPackets(dearmor(asc, 'PGP SIGNATURE'));
    const hashedLen = sig!.body.readUInt16BE(4);
    const sigfields = sig!.body.subarray(0, 6 + hashedLen);
    const trailer = Buffer.from([4, 0xff, 0, 0, 0, sigfields.length]);
    const expected = createHash('sha512').update('payload').update(sigfields).update(trailer).digest();
    assert.deepEqual(signedInput, expected); // EdDSA legacy: the digest itself is the Ed25519 message
    const unhashedLen = sig!.body.readUInt16BE(6 + hashedLen);
    assert.deepEqual(sig!.body.subarray(8 + hashedLen + unhashedLen, 10 + hashedLen + unhashedLen), expected.subarray(0, 2));
  });

  it('refuses a hash the key spec does not sign with', async () => {
    const key = testKey('EC_P256');
    await assert.rejects(signDetached({
      publicKey: { spki: key.spki, keySpec: 'EC_P256', created: new Date(0) }, hashAlgorithm: 'sha512',
      fileHash: createHash('sha512'), signatureTime: new Date(0), sign: key.sign,
    }), KmsError);
  });
});
