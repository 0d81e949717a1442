/**
 * `openpgp`: an armored detached signature `f.asc` (what `gpg --verify f.asc f` and `sqv` read)
 * and the key's transferable public key `<KeyId>.pgp.asc`, self-certified by the key for
 * --OpenPgpUserId and dated at the key version's creation.
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../../../src-shared/errors';
import { shellWord } from '../../../../files/shellWord';
import { OPENPGP_HASH, signDetached, transferablePublicKey, verifyDetached } from '../../../../formats/openpgp';
import { dearmor } from '../../../../formats/openpgp/armor';
import { packet, PACKET_TAG } from '../../../../formats/openpgp/packets';
import { publicKeyBody, type OpenPgpPublicKey } from '../../../../formats/openpgp/publicKey';
import type { FormatKey, PerFileFormat } from './format';
import { formatKeySpec, keySigner } from './signers';

function openPgpKey(key: FormatKey): OpenPgpPublicKey {
  if (!key.created) throw new KmsError('InvalidParameter', 'An OpenPGP key carries its creation time: check OpenPGP signatures with a keystore key (--KeyId), not a PEM.');
  return { spki: key.spki, keySpec: formatKeySpec(key.spec), created: key.created };
}

export const openpgpFormat: PerFileFormat = {
  name: 'openpgp',
  kind: 'per-file',
  accepts: (spec) => Object.hasOwn(OPENPGP_HASH, spec),
  fileDigests: () => ['sha256'],
  fileState(key) {
    const hash = createHash(OPENPGP_HASH[formatKeySpec(key.spec)]);
    return { hash, update: (b) => hash.update(b) };
  },
  publicKeyFiles(key, options) {
    const userId = options.openPgpUserId;
    if (userId === undefined) throw new KmsError('MissingParameter', 'The openpgp format needs --OpenPgpUserId "Name <email>" for its public key certificate.');
    const pub = openPgpKey(key);
    const keyPacket = packet(PACKET_TAG.publicKey, publicKeyBody(pub));
    return [
      {
        name: `${key.keyId}.pgp.asc`,
        content: async (signer) => (await transferablePublicKey({ ...pub, userId, sign: keySigner(key, signer, 'PKCS1') })).armored,
        // The certification of an EC key differs each time; the same key packet is the same key.
        holdsKey(existing) {
          try {
            return dearmor(existing, 'PGP PUBLIC KEY BLOCK').subarray(0, keyPacket.length).equals(keyPacket);
          } catch {
            return false;
          }
        },
      },
    ];
  },
  signatureName: (base) => `${base}.asc`,
  async sign(key, options, file, signer) {
    const state = file.states.get('openpgp')!;
    const content = await signDetached({
      publicKey: openPgpKey(key),
      hashAlgorithm: OPENPGP_HASH[formatKeySpec(key.spec)],
      fileHash: state.hash!,
      signatureTime: options.time,
      sign: keySigner(key, signer, 'PKCS1'),
    });
    return { content, digest: { algorithm: 'sha256', value: file.digests.get('sha256')! } };
  },
  verify(key, _options, signature, _digests, state) {
    return verifyDetached({ armoredSignature: signature.toString('utf8'), publicKey: openPgpKey(key), fileHash: state!.hash! }).valid;
  },
  /** sqv needs no keyring of the user's; it lacks secp256k1, so those keys go through gpgv's own keyring. */
  verifyCommand(key, _options, file, signaturePath, publicKeyPaths) {
    const k = shellWord(publicKeyPaths[0]!);
    if (key.spec === 'EC_P256K') return `gpg --dearmor < ${k} > ${k}.gpg && gpgv --keyring ./${k}.gpg ${shellWord(signaturePath)} ${shellWord(file)}`;
    return `sqv --keyring ${k} ${shellWord(signaturePath)} ${shellWord(file)}`;
  },
};
