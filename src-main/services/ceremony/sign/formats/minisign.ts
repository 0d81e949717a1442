/**
 * `minisign`: prehashed "ED" signatures (`f.minisig`) over BLAKE2b-512 of the file, with a trusted
 * comment naming the time and the file; `<KeyId>.minisign.pub`. Ed25519 keys only.
 */
import { basename } from 'node:path';
import { ed25519RawFromSpki } from '../../../../crypto/ed25519';
import { shellWord } from '../../../../files/shellWord';
import { minisignGlobalInput, minisignPublicKeyFile, minisignSignatureFile, minisignTrustedComment, parseMinisig } from '../../../../formats/minisign/minisign';
import { EdStructError } from '../../../../formats/minisign/edStruct';
import { ed25519Verify } from '../../../../crypto/ed25519';
import type { PerFileFormat } from './format';
import { edKeyNumber } from './keyNumber';

export const minisignFormat: PerFileFormat = {
  name: 'minisign',
  kind: 'per-file',
  accepts: (spec) => spec === 'ED25519',
  fileDigests: () => ['blake2b512'],
  publicKeyFiles(key) {
    const pk = ed25519RawFromSpki(key.spki);
    return [{ name: `${key.keyId}.minisign.pub`, content: minisignPublicKeyFile(edKeyNumber(pk), pk) }];
  },
  signatureName: (base) => `${base}.minisig`,
  async sign(key, options, file, signer) {
    const pk = ed25519RawFromSpki(key.spki);
    const digest = file.digests.get('blake2b512')!;
    const signature = await signer('ED25519', digest);
    const trusted = minisignTrustedComment(Math.floor(options.time.getTime() / 1000), basename(file.path));
    const global = await signer('ED25519', minisignGlobalInput(signature, trusted));
    const content = minisignSignatureFile(`signature from Keyroom key ${key.keyId}`, edKeyNumber(pk), signature, trusted, global);
    return { content, digest: { algorithm: 'blake2b512', value: digest } };
  },
  /** As `minisign -V -H`: prehashed only, the key number must match, both signatures must verify. */
  verify(key, _options, signature, digests) {
    let parsed;
    try {
      parsed = parseMinisig(signature.toString('utf8'));
    } catch (e) {
      if (e instanceof EdStructError) return false;
      throw e;
    }
    const pk = ed25519RawFromSpki(key.spki);
    if (!parsed.keynum.equals(edKeyNumber(pk))) return false;
    return ed25519Verify(key.spki, digests.get('blake2b512')!, parsed.signature) && ed25519Verify(key.spki, minisignGlobalInput(parsed.signature, parsed.trustedComment), parsed.globalSignature);
  },
  verifyCommand(_key, _options, file, signaturePath, publicKeyPaths) {
    return `minisign -V -p ${shellWord(publicKeyPaths[0]!)} -m ${shellWord(file)} -x ${shellWord(signaturePath)}`;
  },
};
