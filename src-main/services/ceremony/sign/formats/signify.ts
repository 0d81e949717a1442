/**
 * `signify`: with --Manifest only. Pure Ed25519 signs the whole message, so signify signs the
 * manifest: `SHA256 (name) = hex` lines (BSD tag style, what `signify -C` reads) and the embedded
 * signature `<manifest>.sig`; `<KeyId>.signify.pub`. Ed25519 keys only.
 */
import { basename, relative, sep } from 'node:path';
import { KmsError } from '../../../../../src-shared/errors';
import { ed25519RawFromSpki } from '../../../../crypto/ed25519';
import { shellWord } from '../../../../files/shellWord';
import { EdStructError } from '../../../../formats/minisign/edStruct';
import { parseSignifyEmbedded, signifyEmbeddedSignature, signifyManifestLine, signifyPublicKeyFile } from '../../../../formats/signify/signify';
import { ed25519Verify } from '../../../../crypto/ed25519';
import type { ManifestFormat } from './format';
import { edKeyNumber } from './keyNumber';

export const signifyFormat: ManifestFormat = {
  name: 'signify',
  kind: 'manifest',
  accepts: (spec) => spec === 'ED25519',
  fileDigests: () => ['sha256'],
  publicKeyFiles(key) {
    const pk = ed25519RawFromSpki(key.spki);
    return [{ name: `${key.keyId}.signify.pub`, content: signifyPublicKeyFile(`Keyroom key ${key.keyId} public key`, edKeyNumber(pk), pk) }];
  },
  manifest(manifestPath, files) {
    const dir = manifestPath.slice(0, manifestPath.length - basename(manifestPath).length);
    const lines = files.map((f) => {
      const name = relative(dir, f.path).split(sep).join('/');
      try {
        return signifyManifestLine(name, f.digests.get('sha256')!.toString('hex'));
      } catch (e) {
        if (e instanceof EdStructError) throw new KmsError('InvalidParameter.InputFile', e.message);
        throw e;
      }
    });
    return Buffer.from(lines.join(''), 'utf8');
  },
  signatureName: (base) => `${base}.sig`,
  async signManifest(key, manifest, signer) {
    const pk = ed25519RawFromSpki(key.spki);
    const signature = await signer('ED25519', manifest);
    return signifyEmbeddedSignature(`verify with ${key.keyId}.signify.pub`, edKeyNumber(pk), signature, manifest);
  },
  /** As `signify -C`: the embedded signature is this key's over the manifest, and the manifest lists the file with this digest. */
  verify(key, signature, name, sha256) {
    let parsed;
    try {
      parsed = parseSignifyEmbedded(signature);
    } catch (e) {
      if (e instanceof EdStructError) return false;
      throw e;
    }
    const pk = ed25519RawFromSpki(key.spki);
    if (!parsed.keynum.equals(edKeyNumber(pk)) || !ed25519Verify(key.spki, parsed.message, parsed.signature)) return false;
    const want = `SHA256 (${name}) = ${sha256.toString('hex')}`;
    return parsed.message.toString('utf8').split('\n').includes(want);
  },
  verifyCommand(manifestDir, signaturePath, publicKeyPaths, file) {
    return `cd ${shellWord(manifestDir)} && signify-openbsd -C -p ${shellWord(publicKeyPaths[0]!)} -x ${shellWord(signaturePath)} ${shellWord(relative(manifestDir, file).split(sep).join('/'))}`;
  },
};
