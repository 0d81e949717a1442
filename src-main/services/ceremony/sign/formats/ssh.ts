/**
 * `ssh`: SSHSIG (`f.sshsig`), namespace `file` unless --SshNamespace, the file hashed with SHA-512
 * (ssh-keygen's default). Public key `<KeyId>.ssh.pub` and `<KeyId>.allowed_signers` (principal: the
 * KeyId) for `ssh-keygen -Y verify`.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { DER } from '@noble/curves/abstract/weierstrass.js';
import { KmsError } from '../../../../../src-shared/errors';
import type { KeySpec } from '../../../../../src-shared/domain/keySpecs';
import { ed25519RawFromSpki } from '../../../../crypto/ed25519';
import { ecPointFromSpki } from '../../../../crypto/keyEncoding';
import { shellWord } from '../../../../files/shellWord';
import {
  WireError,
  allowedSignersLine,
  armorSshsig,
  parseEcdsaSigBody,
  parseSshsig,
  sshPublicKeyBlob,
  sshPublicKeyLine,
  sshSignatureBlob,
  sshsigBlob,
  sshsigSignedData,
  sshKeyType,
  type SshKey,
} from '../../../../formats/sshsig/sshsig';
import { ed25519Verify } from '../../../../crypto/ed25519';
import { ecdsaVerifyDigest } from '../../../../crypto/ecdsa';
import { rsaVerifyDigest } from '../../../../crypto/rsa';
import { spkiKeyObject } from '../../../../crypto/keyEncoding';
import type { FormatKey, PerFileFormat } from './format';

const SPECS: readonly KeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384', 'ED25519'];

export function sshKeyOf(key: Pick<FormatKey, 'spec' | 'spki'>): SshKey {
  switch (key.spec) {
    case 'ED25519':
      return { kind: 'ed25519', pk: ed25519RawFromSpki(key.spki) };
    case 'EC_P256':
      return { kind: 'ecdsa', curve: 'nistp256', point: ecPointFromSpki(key.spki) };
    case 'EC_P384':
      return { kind: 'ecdsa', curve: 'nistp384', point: ecPointFromSpki(key.spki) };
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096': {
      const jwk = createPublicKey({ key: key.spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
      return { kind: 'rsa', n: Buffer.from(jwk.n!, 'base64url'), e: Buffer.from(jwk.e!, 'base64url') };
    }
    default:
      throw new KmsError('Rejected.KeySpec', `SSH signatures take RSA, EC_P256, EC_P384 or ED25519 keys, not ${key.spec}.`);
  }
}

/** Strict SSHSIG check (sshsig.c): our key, the namespace, an allowed hash, a signature of the key's own type. */
function verifySshsig(key: FormatKey, namespace: string, signature: Buffer, digests: ReadonlyMap<'sha256' | 'sha512' | 'blake2b512', Buffer>): boolean {
  const ssh = sshKeyOf(key);
  let parsed;
  try {
    parsed = parseSshsig(signature.toString('latin1'));
  } catch (e) {
    if (e instanceof WireError) return false;
    throw e;
  }
  if (!parsed.publicKey.equals(sshPublicKeyBlob(ssh)) || parsed.namespace !== namespace) return false;
  const data = sshsigSignedData(namespace, parsed.hashAlg, digests.get(parsed.hashAlg)!);
  try {
    if (ssh.kind === 'ed25519') return parsed.sigType === 'ssh-ed25519' && ed25519Verify(key.spki, data, parsed.sigBody);
    if (ssh.kind === 'ecdsa') {
      if (parsed.sigType !== sshKeyType(ssh)) return false;
      const { r, s } = parseEcdsaSigBody(parsed.sigBody);
      const p384 = ssh.curve === 'nistp384';
      const der = DER.hexFromSig({ r: BigInt(`0x${r.toString('hex')}`), s: BigInt(`0x${s.toString('hex')}`) });
      return ecdsaVerifyDigest(p384 ? 'secp384r1' : 'prime256v1', key.spki, createHash(p384 ? 'sha384' : 'sha256').update(data).digest(), Buffer.from(der, 'hex'));
    }
    // sshsig allows rsa-sha2-512 and rsa-sha2-256 (RSA_SIGN_ALLOWED); never ssh-rsa (SHA-1).
    if (parsed.sigType !== 'rsa-sha2-512' && parsed.sigType !== 'rsa-sha2-256') return false;
    const hash = parsed.sigType === 'rsa-sha2-512' ? 'sha512' : 'sha256';
    const k = ssh.n.length;
    // ssh-rsa.c left-pads a short signature; a longer one is invalid.
    if (parsed.sigBody.length > k) return false;
    const sig = Buffer.concat([Buffer.alloc(k - parsed.sigBody.length), parsed.sigBody]);
    return rsaVerifyDigest(spkiKeyObject(key.spki), 'PKCS1', createHash(hash).update(data).digest(), sig, hash);
  } catch (e) {
    if (e instanceof WireError) return false;
    throw e;
  }
}

function bigintBytes(n: bigint): Buffer {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

export const sshFormat: PerFileFormat = {
  name: 'ssh',
  kind: 'per-file',
  accepts: (spec) => SPECS.includes(spec),
  fileDigests: () => ['sha512'],
  publicKeyFiles(key, options) {
    const ssh = sshKeyOf(key);
    return [
      { name: `${key.keyId}.ssh.pub`, content: sshPublicKeyLine(ssh, `keyroom:${key.keyId}`) },
      { name: `${key.keyId}.allowed_signers`, content: allowedSignersLine(key.keyId, options.sshNamespace, ssh) },
    ];
  },
  signatureName: (base) => `${base}.sshsig`,
  async sign(key, options, file, signer) {
    const ssh = sshKeyOf(key);
    const fileDigest = file.digests.get('sha512')!;
    const data = sshsigSignedData(options.sshNamespace, 'sha512', fileDigest);
    let sigBlob: Buffer;
    if (ssh.kind === 'ed25519') {
      sigBlob = sshSignatureBlob(ssh, { ed25519: await signer('ED25519', data) });
    } else if (ssh.kind === 'ecdsa') {
      // RFC 5656 §6.2.1: the curve's own hash of the signed data, independent of the file hash.
      const p384 = ssh.curve === 'nistp384';
      const der = await signer(p384 ? 'ECDSA_SHA_384' : 'ECDSA_SHA_256', createHash(p384 ? 'sha384' : 'sha256').update(data).digest());
      const { r, s } = DER.toSig(new Uint8Array(der));
      sigBlob = sshSignatureBlob(ssh, { r: bigintBytes(r), s: bigintBytes(s) });
    } else {
      sigBlob = sshSignatureBlob(ssh, { rsa: await signer('RSA_PKCS1_SHA_512', createHash('sha512').update(data).digest()) });
    }
    return { content: armorSshsig(sshsigBlob(ssh, options.sshNamespace, 'sha512', sigBlob)), digest: { algorithm: 'sha512', value: fileDigest } };
  },
  verify: (key, options, signature, digests) => verifySshsig(key, options.sshNamespace, signature, digests),
  verifyCommand(key, options, file, signaturePath, publicKeyPaths) {
    return `ssh-keygen -Y verify -f ${shellWord(publicKeyPaths[1]!)} -I ${shellWord(key.keyId)} -n ${shellWord(options.sshNamespace)} -s ${shellWord(signaturePath)} < ${shellWord(file)}`;
  },
};
