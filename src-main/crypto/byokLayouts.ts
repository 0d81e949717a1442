/**
 * The byte layouts of spec/byok.md, in software: wrap material (SOFTWARE keys) and unwrap it
 * again (a rehearsal, where Keyroom plays the cloud). An HSM key is wrapped inside its token
 * instead (backends/pkcs11); both produce the same bytes, which the tests check with OpenSSL.
 * Every ephemeral key and every plaintext copy made here is zeroed before returning.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, publicEncrypt, randomBytes, constants, type KeyObject } from 'node:crypto';
import { KmsError } from '../../src-shared/errors';
import { KEY_SPEC_INFO, type KeySpec } from '../../src-shared/domain/keySpecs';
import type { MaterialForm, Sm2CiphertextEncoding, WrapScheme } from '../../src-shared/domain/byokTargets';
import { ecPointFromSpki, ecScalarFromPkcs8, spkiKeyObject } from './keyEncoding';
import { aes256Block, kwpUnwrap, kwpWrap, sm4Block, type BlockCipher } from './keyWrapPad';
import { rsaOaepDecrypt, rsaOaepEncrypt, rsaPkcs1DecryptFixedLength } from './rsa';
import { sm2Decrypt, sm2Encrypt } from './sm2';
import { sm4EcbDecrypt, sm4EcbEncrypt, SM4_KEY_LENGTH } from './sm4';
import { wipe } from './wipe';

/** Outbound BYOK: how to wrap a version's material for a cloud (one row of byokTargets.ts, resolved). */
export interface ExportWrapRequest {
  scheme: WrapScheme;
  /** OAEP's hash, and MGF1's, for the RSA schemes. */
  oaepHash?: 'sha1' | 'sha256';
  /** The cloud's wrapping public key, DER SubjectPublicKeyInfo (RSA, or SM2 for the SM2 schemes). */
  wrappingKey: Buffer;
  materialForm: MaterialForm;
  /** For the SM2 schemes. */
  sm2Encoding?: Sm2CiphertextEncoding;
}

/**
 * The wrapped material. One blob for every scheme except the two-field ones (Huawei), where
 * `blob` is the wrapped ephemeral key and `privateKeyField` the material wrapped under it.
 */
export interface WrappedMaterial {
  blob: Buffer;
  privateKeyField?: Buffer;
}

/** K of the RSA envelopes: an AES-256 key. */
const ENVELOPE_KEY_BYTES = 32;

/** The material in the form the row wants (a fresh buffer the caller zeroes). */
export function materialInForm(request: ExportWrapRequest, stored: Uint8Array): Buffer {
  return request.materialForm === 'sm2-scalar' ? ecScalarFromPkcs8(stored, 32) : Buffer.from(stored);
}

function sm2Encoding(request: ExportWrapRequest): 'der' | 'c1c3c2' {
  return request.sm2Encoding === 'C1C3C2' ? 'c1c3c2' : 'der';
}

function rsaKey(request: ExportWrapRequest): KeyObject {
  return spkiKeyObject(request.wrappingKey);
}

function withBlock<T>(cipher: BlockCipher, fn: (c: BlockCipher) => T): T {
  try {
    return fn(cipher);
  } finally {
    cipher.close();
  }
}

/** Wrap `material` (already in the row's form) under the cloud's public key. */
export function wrapMaterial(request: ExportWrapRequest, material: Uint8Array): WrappedMaterial {
  const hash = request.oaepHash ?? 'sha256';
  switch (request.scheme) {
    case 'OAEP':
      return { blob: rsaOaepEncrypt(rsaKey(request), hash, material) };
    case 'RSA_PKCS1':
      return { blob: publicEncrypt({ key: rsaKey(request), padding: constants.RSA_PKCS1_PADDING }, material) };
    case 'OAEP_KWP':
    case 'OAEP_KWP_FIELDS': {
      const k = randomBytes(ENVELOPE_KEY_BYTES);
      try {
        const head = rsaOaepEncrypt(rsaKey(request), hash, k);
        const body = withBlock(aes256Block(k), (c) => kwpWrap(c, material));
        return request.scheme === 'OAEP_KWP' ? { blob: Buffer.concat([head, body]) } : { blob: head, privateKeyField: body };
      } finally {
        wipe(k);
      }
    }
    case 'OAEP_AES_ECB': {
      const esk = randomBytes(ENVELOPE_KEY_BYTES);
      try {
        const head = rsaOaepEncrypt(rsaKey(request), hash, esk);
        const ecb = createCipheriv('aes-256-ecb', esk, null); // PKCS#7 padding is Node's default
        return { blob: Buffer.concat([head, ecb.update(material), ecb.final()]) };
      } finally {
        wipe(esk);
      }
    }
    case 'SM2':
      return { blob: sm2Encrypt(sm2Point(request.wrappingKey), material, sm2Encoding(request)) };
    case 'SM2_SM4_ECB': {
      if (material.length % 16 !== 0) throw new KmsError('Internal', 'SM4-ECB without padding takes whole blocks (the 32-byte SM2 scalar).');
      const esk = randomBytes(SM4_KEY_LENGTH);
      try {
        const head = sm2Encrypt(sm2Point(request.wrappingKey), esk, sm2Encoding(request));
        return { blob: Buffer.concat([head, sm4EcbEncrypt(esk, material)]) };
      } finally {
        wipe(esk);
      }
    }
    case 'SM2_SM4_KWP_FIELDS': {
      const esk = randomBytes(SM4_KEY_LENGTH);
      try {
        const head = sm2Encrypt(sm2Point(request.wrappingKey), esk, sm2Encoding(request));
        return { blob: head, privateKeyField: withBlock(sm4Block(esk), (c) => kwpWrap(c, material)) };
      } finally {
        wipe(esk);
      }
    }
    default: {
      const never: never = request.scheme;
      throw new KmsError('Internal', `Unknown wrap scheme ${String(never)}.`);
    }
  }
}

/** The cloud's private half, as a rehearsal holds it: PKCS#8 DER (RSA) or the SM2 scalar. */
export type StandInPrivateKey = { kind: 'RSA'; pkcs8: Buffer } | { kind: 'SM2'; d: Buffer };

/**
 * What the cloud would do on import: unwrap with its private key. `secretBytes` is the
 * material's length where the layout needs it known (PKCS#1 v1.5, whose padding check is
 * written for a known length). The caller zeroes the result.
 */
export function unwrapMaterial(request: ExportWrapRequest, privateKey: StandInPrivateKey, wrapped: WrappedMaterial, secretBytes?: number): Buffer {
  const hash = request.oaepHash ?? 'sha256';
  const rsa = (): Buffer => {
    if (privateKey.kind !== 'RSA') throw new KmsError('Internal', 'This layout needs an RSA wrapping key.');
    return privateKey.pkcs8;
  };
  const sm2 = (): Buffer => {
    if (privateKey.kind !== 'SM2') throw new KmsError('Internal', 'This layout needs an SM2 wrapping key.');
    return privateKey.d;
  };
  const sm2Head = (blob: Buffer): { head: Buffer; rest: Buffer } => splitSm2(blob, request.sm2Encoding === 'C1C3C2' ? 'c1c3c2' : 'der', SM4_KEY_LENGTH);
  const rsaBytes = () => Math.ceil((createPrivateKey({ key: rsa(), format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  switch (request.scheme) {
    case 'OAEP':
      return rsaOaepDecrypt(rsa(), hash, wrapped.blob);
    case 'RSA_PKCS1':
      if (secretBytes === undefined) throw new KmsError('Internal', 'PKCS#1 v1.5 unwrapping needs the material length.');
      return rsaPkcs1DecryptFixedLength(rsa(), wrapped.blob, secretBytes);
    case 'OAEP_KWP':
    case 'OAEP_KWP_FIELDS': {
      const k = rsaBytes();
      const head = request.scheme === 'OAEP_KWP' ? wrapped.blob.subarray(0, k) : wrapped.blob;
      const body = request.scheme === 'OAEP_KWP' ? wrapped.blob.subarray(k) : requireField(wrapped);
      const key = rsaOaepDecrypt(rsa(), hash, head);
      try {
        return withBlock(aes256Block(key), (c) => kwpUnwrap(c, body));
      } finally {
        wipe(key);
      }
    }
    case 'OAEP_AES_ECB': {
      const k = rsaBytes();
      const esk = rsaOaepDecrypt(rsa(), hash, wrapped.blob.subarray(0, k));
      try {
        const ecb = createDecipheriv('aes-256-ecb', esk, null);
        return Buffer.concat([ecb.update(wrapped.blob.subarray(k)), ecb.final()]);
      } catch (e) {
        if (e instanceof KmsError) throw e;
        throw new KmsError('InvalidEncryptedKeyMaterial', 'The AES-ECB part does not decrypt (bad PKCS#7 padding).');
      } finally {
        wipe(esk);
      }
    }
    case 'SM2':
      return sm2Decrypt(sm2(), wrapped.blob);
    case 'SM2_SM4_ECB': {
      const { head, rest } = sm2Head(wrapped.blob);
      const esk = sm2Decrypt(sm2(), head);
      try {
        return sm4EcbDecrypt(esk, rest);
      } finally {
        wipe(esk);
      }
    }
    case 'SM2_SM4_KWP_FIELDS': {
      const esk = sm2Decrypt(sm2(), wrapped.blob);
      try {
        return withBlock(sm4Block(esk), (c) => kwpUnwrap(c, requireField(wrapped)));
      } finally {
        wipe(esk);
      }
    }
    default: {
      const never: never = request.scheme;
      throw new KmsError('Internal', `Unknown wrap scheme ${String(never)}.`);
    }
  }
}

function requireField(wrapped: WrappedMaterial): Buffer {
  if (!wrapped.privateKeyField) throw new KmsError('InvalidEncryptedKeyMaterial', 'The second field (the wrapped private key) is missing.');
  return wrapped.privateKeyField;
}

/**
 * The SM2 ciphertext of a `plaintextBytes`-byte key at the head of `blob` (sm2Decrypt reads
 * either encoding), and what follows it. Raw C1C3C2 has a fixed length; DER is read by its header.
 */
function splitSm2(blob: Buffer, encoding: 'der' | 'c1c3c2', plaintextBytes: number): { head: Buffer; rest: Buffer } {
  if (encoding === 'c1c3c2') {
    const n = 65 + 32 + plaintextBytes;
    return { head: blob.subarray(0, n), rest: blob.subarray(n) };
  }
  if (blob[0] !== 0x30 || blob.length < 2) throw new KmsError('InvalidEncryptedKeyMaterial', 'The SM2 part is not DER.');
  const first = blob[1]!;
  const n = first < 0x80 ? 2 + first : 2 + (first & 0x7f) + blob.subarray(2, 2 + (first & 0x7f)).reduce((a, b) => a * 256 + b, 0);
  return { head: blob.subarray(0, n), rest: blob.subarray(n) };
}

/** The uncompressed point of an SM2 SPKI (already checked to be on the SM2 curve). */
function sm2Point(spki: Uint8Array): Buffer {
  return ecPointFromSpki(spki);
}

/** Public half of an RSA PKCS#8 key as SPKI DER (for a rehearsal's check of asymmetric material). */
export function rsaSpkiFromPkcs8(pkcs8: Uint8Array): Buffer {
  return createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
}

/** Whether a row's layout fits the spec at all (the table says so; this guards the RSA block size). */
export function directRsaCapacity(modulusBytes: number, scheme: ExportWrapRequest['scheme'], hash: 'sha1' | 'sha256'): number {
  if (scheme === 'RSA_PKCS1') return modulusBytes - 11;
  return modulusBytes - 2 * (hash === 'sha1' ? 20 : 32) - 2;
}

export function secretBytesOf(spec: KeySpec): number | undefined {
  return KEY_SPEC_INFO[spec].secretBytes;
}
