/**
 * What witnesses compare at a BYOK ceremony without seeing the material (spec/byok.md "Key check
 * value"): for AES and SM4 the cipher of one zero block, for HMAC the MAC of 16 zero bytes, first
 * 3 bytes each; for asymmetric keys the SHA-256 of the public key, so the public half is derived
 * here from the private material a rehearsal unwrapped.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { KmsError } from '../../src-shared/errors';
import { KEY_SPEC_INFO, MAC_DIGEST, type KeySpec } from '../../src-shared/domain/keySpecs';
import type { MaterialForm } from '../../src-shared/domain/byokTargets';
import { NOBLE_CURVES } from './ecdsa';
import { ecScalarFromPkcs8, ecSpkiFromPoint, requireExactPkcs8 } from './keyEncoding';
import { rsaSpkiFromPkcs8 } from './byokLayouts';
import { sm2PublicKeyFromPrivate } from './sm2';
import { sm4EcbEncrypt } from './sm4';
import { wipe } from './wipe';

export const KCV_BYTES = 3;
const ZERO_BLOCK = Buffer.alloc(16);

/** The 3-byte KCV of symmetric or HMAC material. */
export function secretCheckValue(spec: KeySpec, material: Uint8Array): Buffer {
  const info = KEY_SPEC_INFO[spec];
  let full: Buffer;
  switch (info.family) {
    case 'AES': {
      const ecb = createCipheriv('aes-256-ecb', material, null).setAutoPadding(false);
      full = Buffer.concat([ecb.update(ZERO_BLOCK), ecb.final()]);
      break;
    }
    case 'SM4':
      full = sm4EcbEncrypt(material, ZERO_BLOCK);
      break;
    case 'HMAC':
      full = createHmac(MAC_DIGEST[info.macAlgorithm!], material).update(ZERO_BLOCK).digest();
      break;
    default:
      throw new KmsError('Rejected.KeySpec', `${spec} has no key check value: an asymmetric key is identified by its public key's fingerprint.`);
  }
  const kcv = Buffer.from(full.subarray(0, KCV_BYTES));
  wipe(full);
  return kcv;
}

/** The SPKI DER of the public half of asymmetric material in `form` (PKCS#8, or SM2's bare scalar). */
export function publicKeyOfMaterial(spec: KeySpec, material: Uint8Array, form: MaterialForm): Buffer {
  const info = KEY_SPEC_INFO[spec];
  // Checked as strictly as a cloud would: one DER PrivateKeyInfo, nothing after it.
  if (form === 'pkcs8') requireExactPkcs8(material);
  if (info.family === 'RSA') return rsaSpkiFromPkcs8(material);
  if (info.family === 'SM2') {
    const d = form === 'sm2-scalar' ? Buffer.from(material) : ecScalarFromPkcs8(material, 32);
    try {
      return ecSpkiFromPoint('SM2', sm2PublicKeyFromPrivate(d));
    } finally {
      wipe(d);
    }
  }
  if (info.family === 'EC') {
    const curve = info.curve as keyof typeof NOBLE_CURVES;
    const { impl, bytes } = NOBLE_CURVES[curve];
    const d = ecScalarFromPkcs8(material, bytes);
    try {
      return ecSpkiFromPoint(curve, impl.getPublicKey(d, false));
    } finally {
      wipe(d);
    }
  }
  throw new KmsError('Rejected.KeySpec', `${spec} is not an asymmetric key.`);
}
