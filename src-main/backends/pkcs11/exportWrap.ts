/**
 * Outbound BYOK inside a PKCS#11 token (spec/byok.md, "Inside a PKCS#11 token"): the cloud's RSA
 * public key goes in as a session object and the target leaves only through C_WrapKey, so its
 * material never exists in plaintext outside the token. Secret keys wrap as their raw bytes and
 * private keys as PKCS#8 PrivateKeyInfo (what SoftHSM and the clouds both use).
 *
 * pkcs11js 2.1 cannot pass CK_RSA_AES_KEY_WRAP_PARAMS (a struct holding a pointer), so
 * OAEP(h)(K) || KWP(K, material) is always made in two steps with an ephemeral AES key generated
 * in the token; the bytes are the same as CKM_RSA_AES_KEY_WRAP's.
 *
 * The KWP part must be RFC 5649 exactly: its length field is the material's length. A token that
 * counts its own zero padding there (SoftHSM 2.6.1, kwpProbe.ts) would hand the cloud the key
 * followed by up to 7 zero bytes; such a wrap is refused unless the material is already a
 * multiple of 8 bytes, since fixing it would mean unwrapping the key outside the token.
 */
import { createPublicKey } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { KmsError } from '../../../src-shared/errors';
import type { ExportWrapRequest, WrappedMaterial } from '../backend';
import { CKZ_DATA_SPECIFIED } from './constants';
import { ulongAttribute } from './encoding';
import { OAEP_PARAMS_REFUSED, ckrName, hasCkr } from './errors';
import type { SessionLease } from './sessionManager';
import { probeKwp } from './kwpProbe';
import { KEYROOM_MECHANISMS as M } from './tokens';

/** Room for KWP output: PKCS#8 of an RSA-4096 key is about 2.4 KB. */
const KWP_OUTPUT_BYTES = 8192;
const EPHEMERAL_AES_BYTES = 32;

/** The cloud's RSA wrapping key as the token needs it: CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
export interface RsaWrappingKey {
  modulus: Buffer;
  publicExponent: Buffer;
  /** k, the modulus length in bytes. */
  bytes: number;
}

/**
 * Refuse, before the token is touched, the schemes no standard PKCS#11 mechanism makes.
 * `secret`: whether the target is a secret key (AES, HMAC) rather than a private key.
 */
export function refuseUnsupportedScheme(request: ExportWrapRequest, secret: boolean, keySpec: string): void {
  const advice = 'Choose another wrapping algorithm the cloud offers, or use a SOFTWARE key (ProtectionLevel SOFTWARE).';
  switch (request.scheme) {
    case 'OAEP_AES_ECB':
      throw new KmsError(
        'Hsm.MechanismUnsupported',
        `A key in a token cannot be wrapped as RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD: PKCS#11 has no AES-ECB wrapping mechanism with PKCS#7 padding, and CKM_AES_ECB wraps only whole blocks. ${advice}`,
      );
    case 'SM2':
    case 'SM2_SM4_ECB':
    case 'SM2_SM4_KWP_FIELDS':
      throw new KmsError(
        'Hsm.MechanismUnsupported',
        `A key in a token cannot be wrapped with SM2${request.scheme === 'SM2' ? '' : '/SM4'}: SM2 and SM4 need vendor-defined PKCS#11 mechanisms, which Keyroom does not drive. ${advice}`,
      );
    case 'OAEP':
    case 'RSA_PKCS1':
      if (!secret) {
        throw new KmsError(
          'Hsm.MechanismUnsupported',
          `A ${keySpec} private key cannot be wrapped directly with RSA: RSA-direct wrapping (${request.scheme}) carries secret keys only, and a private key is larger than one RSA block. Choose a wrapping algorithm with an AES key wrap (e.g. RSA_AES_KEY_WRAP_SHA_1).`,
        );
      }
      break;
    case 'OAEP_KWP':
    case 'OAEP_KWP_FIELDS':
      break;
    default: {
      const never: never = request.scheme;
      throw new KmsError('InvalidParameter.WrappingAlgorithm', `Unknown wrapping scheme ${String(never)}.`);
    }
  }
  const form = secret ? 'raw' : 'pkcs8';
  if (request.materialForm !== form) {
    throw new KmsError('Hsm.MechanismUnsupported', `A token wraps a ${keySpec} key as ${form} material, not ${request.materialForm}. ${advice}`);
  }
}

/** The RSA public key from a DER SubjectPublicKeyInfo, or InvalidParameter.PublicKey. */
export function rsaWrappingKey(spki: Buffer): RsaWrappingKey {
  let key;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new KmsError('InvalidParameter.PublicKey', 'The wrapping public key is not a DER SubjectPublicKeyInfo.');
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KmsError('InvalidParameter.PublicKey', `The wrapping public key is ${String(key.asymmetricKeyType)}, not RSA, which this wrapping algorithm needs.`);
  }
  const jwk = key.export({ format: 'jwk' });
  const modulus = Buffer.from(jwk.n!, 'base64url');
  return { modulus, publicExponent: Buffer.from(jwk.e!, 'base64url'), bytes: modulus.length };
}

function attr(type: number, value: pkcs11js.Attribute['value']): pkcs11js.Attribute {
  return { type, value };
}

function oaepMechanism(hash: 'sha1' | 'sha256'): pkcs11js.Mechanism {
  const sha1 = hash === 'sha1';
  const parameter: pkcs11js.RsaOAEP = {
    type: pkcs11js.CK_PARAMS_RSA_OAEP,
    hashAlg: sha1 ? pkcs11js.CKM_SHA_1 : pkcs11js.CKM_SHA256,
    mgf: sha1 ? pkcs11js.CKG_MGF1_SHA1 : pkcs11js.CKG_MGF1_SHA256,
    source: CKZ_DATA_SPECIFIED, // no sourceData: the empty label every cloud uses
  };
  return { mechanism: M.RSA_PKCS_OAEP, parameter };
}

function destroyQuietly(s: SessionLease, handle: Buffer | undefined): void {
  if (!handle) return;
  try {
    s.p11.C_DestroyObject(s.handle, handle);
  } catch {
    // a session object dies with the session anyway
  }
}

/** Throw Rejected.NotExportable unless the target has CKA_EXTRACTABLE true. */
export function requireExtractable(s: SessionLease, target: Buffer, keyId: string): void {
  const [extractable] = s.p11.C_GetAttributeValue(s.handle, target, [{ type: pkcs11js.CKA_EXTRACTABLE }]);
  if (extractable?.value[0] !== 1) {
    throw new KmsError(
      'Rejected.NotExportable',
      `Key ${keyId} was not created Exportable: its token object has CKA_EXTRACTABLE false, so the token will never let it out, wrapped or not. Only keys created with Exportable can be exported.`,
    );
  }
}

/**
 * C_WrapKey of the target (or of the ephemeral key) under the cloud's key with OAEP(h). A token
 * that refuses SHA-256 here is said so plainly: nothing is ever done in software instead.
 */
function wrapOaep(s: SessionLease, hash: 'sha1' | 'sha256', wrapping: Buffer, wrapped: Buffer, k: number): Buffer {
  try {
    return Buffer.from(s.p11.C_WrapKey(s.handle, oaepMechanism(hash), wrapping, wrapped, Buffer.alloc(k)));
  } catch (e) {
    if (hash === 'sha256' && hasCkr(e, ...OAEP_PARAMS_REFUSED)) {
      const ckr = ckrName(e);
      throw new KmsError(
        'Hsm.MechanismUnsupported',
        `Token "${s.token.label}" (serial ${s.token.serial}) cannot wrap with RSAES-OAEP SHA-256 (${ckr}): this token's CKM_RSA_PKCS_OAEP takes SHA-1 only. ` +
          'Choose a SHA-1 wrapping algorithm the cloud offers: RSAES_OAEP_SHA_1, RSA_AES_KEY_WRAP_SHA_1 (AWS), RSA_OAEP_3072_SHA1_AES_256 / RSA_OAEP_4096_SHA1_AES_256 (Google Cloud), ' +
          'or Azure\'s CKM_RSA_AES_KEY_WRAP (SHA-1); Keyroom does no part of the wrapping in software.',
      );
    }
    throw e;
  }
}

/**
 * Wrap `target` (already checked extractable, scheme already allowed by refuseUnsupportedScheme)
 * under the cloud's RSA key, inside the token.
 */
export function wrapInToken(s: SessionLease, target: Buffer, request: ExportWrapRequest, cloud: RsaWrappingKey, keySpec: string): WrappedMaterial {
  const hash = request.oaepHash ?? 'sha256';
  let publicKey: Buffer | undefined;
  try {
    // A session object: it goes when the session does even if C_DestroyObject below never runs.
    publicKey = s.p11.C_CreateObject(s.handle, [
      attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_PUBLIC_KEY),
      attr(pkcs11js.CKA_KEY_TYPE, pkcs11js.CKK_RSA),
      attr(pkcs11js.CKA_TOKEN, false),
      attr(pkcs11js.CKA_PRIVATE, false),
      attr(pkcs11js.CKA_WRAP, true),
      attr(pkcs11js.CKA_ENCRYPT, true),
      attr(pkcs11js.CKA_VERIFY, false),
      attr(pkcs11js.CKA_MODULUS, cloud.modulus),
      attr(pkcs11js.CKA_PUBLIC_EXPONENT, cloud.publicExponent),
    ]);
    switch (request.scheme) {
      case 'OAEP':
        return { blob: wrapOaep(s, hash, publicKey, target, cloud.bytes) };
      case 'RSA_PKCS1':
        return { blob: Buffer.from(s.p11.C_WrapKey(s.handle, { mechanism: M.RSA_PKCS }, publicKey, target, Buffer.alloc(cloud.bytes))) };
      case 'OAEP_KWP':
      case 'OAEP_KWP_FIELDS': {
        const { oaepPart, kwpPart } = twoStep(s, hash, publicKey, target, cloud.bytes, keySpec);
        return request.scheme === 'OAEP_KWP' ? { blob: Buffer.concat([oaepPart, kwpPart]) } : { blob: oaepPart, privateKeyField: kwpPart };
      }
      default:
        throw new KmsError('Internal', `Wrapping scheme ${request.scheme} reached the token.`);
    }
  } finally {
    destroyQuietly(s, publicKey);
  }
}

/**
 * The exact length of the target's material when the token tells it (a secret key's
 * CKA_VALUE_LEN); undefined for a private key, whose PKCS#8 length depends on its secret
 * components (DER INTEGER lengths) and is never readable outside the token.
 */
function materialLength(s: SessionLease, target: Buffer): number | undefined {
  const [cls] = s.p11.C_GetAttributeValue(s.handle, target, [{ type: pkcs11js.CKA_CLASS }]);
  if (!cls || ulongAttribute(cls.value) !== pkcs11js.CKO_SECRET_KEY) return undefined;
  const [len] = s.p11.C_GetAttributeValue(s.handle, target, [{ type: pkcs11js.CKA_VALUE_LEN }]);
  return len ? ulongAttribute(len.value) : undefined;
}

/**
 * Refuse, before the target is wrapped, a KWP that would not be RFC 5649 exactly (kwpProbe.ts):
 * a token that counts its zero padding in the MLI is fine only for material whose length is
 * already a multiple of 8 (AES and HMAC keys); the PKCS#8 of a private key may be any length,
 * and Keyroom never unwraps key material outside the token to cut the padding off.
 */
function refuseInexactKwp(s: SessionLease, target: Buffer, keySpec: string): number | undefined {
  const length = materialLength(s, target);
  if (length !== undefined && length % 8 === 0) return length;
  if (probeKwp(s) === 'exact') return length;
  const what = length === undefined ? `the PKCS#8 of a ${keySpec} private key (its length is not known outside the token and is seldom a multiple of 8)` : `a ${length}-byte ${keySpec} key`;
  throw new KmsError(
    'Hsm.MechanismUnsupported',
    `Token "${s.token.label}" (serial ${s.token.serial}) cannot wrap ${what} with RFC 5649 exactly: its CKM_AES_KEY_WRAP_PAD pads the material to a multiple of 8 bytes first and counts the padding in the wrapped length ` +
      '(SoftHSM 2.3 to 2.6.1, the newest release, do this), so the cloud would unwrap the key followed by up to 7 zero bytes, which strict importers refuse. ' +
      'Keyroom does not unwrap key material outside the token to repair it. Alternatives: a token whose CKM_AES_KEY_WRAP_PAD follows RFC 5649 (check with a throwaway key first), ' +
      'or a SOFTWARE key (ProtectionLevel SOFTWARE) for key material that is to be exported.',
  );
}

/** OAEP(h)(K) and KWP(K, material), K an AES-256 key that exists only inside the token, briefly. */
function twoStep(s: SessionLease, hash: 'sha1' | 'sha256', publicKey: Buffer, target: Buffer, k: number, keySpec: string): { oaepPart: Buffer; kwpPart: Buffer } {
  const length = refuseInexactKwp(s, target, keySpec);
  let ephemeral: Buffer | undefined;
  try {
    ephemeral = s.p11.C_GenerateKey(s.handle, { mechanism: M.AES_KEY_GEN }, [
      attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_SECRET_KEY),
      attr(pkcs11js.CKA_KEY_TYPE, pkcs11js.CKK_AES),
      attr(pkcs11js.CKA_VALUE_LEN, EPHEMERAL_AES_BYTES),
      attr(pkcs11js.CKA_TOKEN, false),
      attr(pkcs11js.CKA_PRIVATE, true),
      attr(pkcs11js.CKA_SENSITIVE, true),
      // Extractable so the token will wrap it under the cloud's key, the only way it leaves.
      attr(pkcs11js.CKA_EXTRACTABLE, true),
      attr(pkcs11js.CKA_WRAP, true),
      attr(pkcs11js.CKA_UNWRAP, false),
      attr(pkcs11js.CKA_ENCRYPT, false),
      attr(pkcs11js.CKA_DECRYPT, false),
    ]);
    // OAEP first: a token that refuses the hash refuses before the target is wrapped at all.
    const oaepPart = wrapOaep(s, hash, publicKey, ephemeral, k);
    const kwpPart = Buffer.from(s.p11.C_WrapKey(s.handle, { mechanism: M.AES_KEY_WRAP_PAD }, ephemeral, target, Buffer.alloc(KWP_OUTPUT_BYTES)));
    // RFC 5649: 8 bytes of AIV plus the material rounded up to 8 (at least 16 bytes in all).
    const expected = length === undefined ? undefined : 8 + Math.max(8, Math.ceil(length / 8) * 8);
    if (kwpPart.length < 16 || kwpPart.length % 8 !== 0 || (expected !== undefined && kwpPart.length !== expected)) {
      throw new KmsError('Hsm.DeviceError', `Token "${s.token.label}" returned ${kwpPart.length} bytes of CKM_AES_KEY_WRAP_PAD output${expected ? `, not the ${expected} RFC 5649 gives` : ''}; nothing was exported.`);
    }
    return { oaepPart, kwpPart };
  } finally {
    destroyQuietly(s, ephemeral);
  }
}
