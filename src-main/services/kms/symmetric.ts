/**
 * Symmetric cryptography through the CiphertextBlob: Encrypt, Decrypt, ReEncrypt and the data-key
 * operations. Plaintext is handled as bytes and zeroed after use; what JavaScript strings hold
 * (Encrypt's text Plaintext, GenerateDataKey's base64) cannot be wiped.
 */
import { randomBytes } from 'node:crypto';
import { KmsError } from '../../../src-shared/errors';
import { KEY_SPEC_INFO } from '../../../src-shared/domain/keySpecs';
import { canonicalEncryptionContext, type EncryptionContext } from '../../../src-shared/encryptionContext';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { KeyRow } from '../../keystore/repository';
import { appendAudit } from '../audit/auditLog';
import { assembleBlob, encodeHeader, parseBlob, IV_BYTES } from '../../crypto/ciphertextBlob';
import { wipe } from '../../crypto/wipe';
import {
  loadPrimaryVersion,
  loadVersion,
  requireAlgorithm,
  requireState,
  requireUsage,
  resolveKey,
  useSecret,
} from './keyAccess';
import { now, type KmsContext } from './context';

function aad(header: Buffer, ctx: EncryptionContext | undefined): Buffer {
  return Buffer.concat([header, Buffer.from(canonicalEncryptionContext(ctx), 'utf8')]);
}

function requireSymmetricEncryptKey(key: KeyRow, action: string): void {
  if (!KEY_SPEC_INFO[key.key_spec].symmetricAlgorithm) {
    throw new KmsError('Rejected.KeyUsage', `Key ${key.key_id} is ${key.key_spec}; ${action} needs a symmetric key (AES_256 or SM4).`);
  }
  requireUsage(key, 'ENCRYPT/DECRYPT', action);
  requireState(key, ['Enabled'], action);
}

interface Sealed {
  key: KeyRow;
  keyVersionId: string;
  blob: Buffer;
}

/** Encrypt bytes under a key's primary version; the caller audits and wipes. */
async function seal(kms: KmsContext, db: SqlExecutor, keyIdOrAlias: string, plaintext: Uint8Array, context: EncryptionContext | undefined): Promise<Sealed> {
  const key = await resolveKey(db, keyIdOrAlias);
  requireSymmetricEncryptKey(key, 'encrypt');
  const version = await loadPrimaryVersion(db, key);
  const header = encodeHeader({
    keyId: key.key_id,
    keyVersionId: version.key_version_id,
    algorithm: KEY_SPEC_INFO[key.key_spec].symmetricAlgorithm!,
    iv: randomBytes(IV_BYTES),
  });
  const iv = header.subarray(header.length - IV_BYTES);
  const box = await useSecret(kms, db, key, version, (backend, v) => backend.symmetricEncrypt(v, iv, plaintext, aad(header, context)));
  return { key, keyVersionId: version.key_version_id, blob: assembleBlob(header, box.ciphertext, box.tag) };
}

interface Opened {
  key: KeyRow;
  keyVersionId: string;
  plaintext: Buffer;
}

/** Decrypt a blob; the key and version come from the blob itself. */
async function open(kms: KmsContext, db: SqlExecutor, blobB64: string, context: EncryptionContext | undefined): Promise<Opened> {
  const parsed = parseBlob(Buffer.from(blobB64, 'base64'));
  const key = await resolveKey(db, parsed.keyId);
  requireSymmetricEncryptKey(key, 'decrypt');
  if (KEY_SPEC_INFO[key.key_spec].symmetricAlgorithm !== parsed.algorithm) {
    throw new KmsError('InvalidCiphertext', 'The CiphertextBlob names an algorithm its key does not use.');
  }
  const version = await loadVersion(db, key, parsed.keyVersionId);
  const plaintext = await useSecret(kms, db, key, version, (backend, v) =>
    backend.symmetricDecrypt(v, parsed.iv, { ciphertext: parsed.ciphertext, tag: parsed.tag }, aad(parsed.header, context)),
  );
  return { key, keyVersionId: version.key_version_id, plaintext };
}

export async function encrypt(kms: KmsContext, input: OperationInput<'Encrypt'>, requestId: string): Promise<OperationOutput<'Encrypt'>> {
  const plaintext = Buffer.from(input.Plaintext, 'utf8');
  try {
    return await kms.keystore.transaction(async (tx) => {
      const s = await seal(kms, tx, input.KeyId, plaintext, input.EncryptionContext);
      await appendAudit(tx, { requestId, operation: 'Encrypt', keyId: s.key.key_id, keyVersionId: s.keyVersionId }, now(kms));
      return { KeyId: s.key.key_id, KeyVersionId: s.keyVersionId, CiphertextBlob: s.blob.toString('base64') };
    });
  } finally {
    wipe(plaintext);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export async function decrypt(kms: KmsContext, input: OperationInput<'Decrypt'>, requestId: string): Promise<OperationOutput<'Decrypt'>> {
  return kms.keystore.transaction(async (tx) => {
    const o = await open(kms, tx, input.CiphertextBlob, input.EncryptionContext);
    try {
      const text = UTF8.decode(o.plaintext);
      await appendAudit(tx, { requestId, operation: 'Decrypt', keyId: o.key.key_id, keyVersionId: o.keyVersionId }, now(kms));
      return { KeyId: o.key.key_id, KeyVersionId: o.keyVersionId, Plaintext: text };
    } catch (e) {
      if (e instanceof TypeError) throw new KmsError('InvalidCiphertext', 'The decrypted data is not text.');
      throw e;
    } finally {
      wipe(o.plaintext);
    }
  });
}

export async function reEncrypt(kms: KmsContext, input: OperationInput<'ReEncrypt'>, requestId: string): Promise<OperationOutput<'ReEncrypt'>> {
  return kms.keystore.transaction(async (tx) => {
    const source = await openSource(kms, tx, input);
    try {
      const s = await seal(kms, tx, input.DestinationKeyId, source.plaintext, input.DestinationEncryptionContext);
      await appendAudit(
        tx,
        {
          requestId,
          operation: 'ReEncrypt',
          keyId: s.key.key_id,
          keyVersionId: s.keyVersionId,
          details: { SourceKeyId: source.key.key_id, SourceKeyVersionId: source.keyVersionId },
        },
        now(kms),
      );
      return {
        KeyId: s.key.key_id,
        KeyVersionId: s.keyVersionId,
        CiphertextBlob: s.blob.toString('base64'),
        SourceKeyId: source.key.key_id,
        SourceKeyVersionId: source.keyVersionId,
      };
    } finally {
      wipe(source.plaintext);
    }
  });
}

/** ReEncrypt's source: a symmetric blob, or asymmetric ciphertext named by key, version and algorithm. */
async function openSource(kms: KmsContext, db: SqlExecutor, input: OperationInput<'ReEncrypt'>): Promise<Opened> {
  const asymmetric = input.SourceKeyId ?? input.SourceKeyVersionId ?? input.SourceEncryptionAlgorithm;
  if (asymmetric === undefined) return open(kms, db, input.CiphertextBlob, input.SourceEncryptionContext);
  if (!input.SourceKeyId || !input.SourceKeyVersionId || !input.SourceEncryptionAlgorithm) {
    throw new KmsError('MissingParameter', 'For asymmetric source ciphertext give SourceKeyId, SourceKeyVersionId and SourceEncryptionAlgorithm together.');
  }
  const key = await resolveKey(db, input.SourceKeyId);
  requireUsage(key, 'ENCRYPT/DECRYPT', 'decrypt');
  requireState(key, ['Enabled'], 'decrypt');
  requireAlgorithm(key, 'encryption', input.SourceEncryptionAlgorithm);
  const version = await loadVersion(db, key, input.SourceKeyVersionId);
  const algorithm = input.SourceEncryptionAlgorithm;
  const plaintext = await useSecret(kms, db, key, version, (backend, v) =>
    backend.asymmetricDecrypt(v, algorithm, Buffer.from(input.CiphertextBlob, 'base64')),
  );
  return { key, keyVersionId: version.key_version_id, plaintext };
}

function dataKeyBytes(input: OperationInput<'GenerateDataKey'>): number {
  if (input.NumberOfBytes !== undefined) return input.NumberOfBytes;
  return input.KeySpec === 'AES_128' ? 16 : 32;
}

/**
 * As in the reference, the data key is encrypted as its base64 text, so Decrypt of the
 * CiphertextBlob returns the same base64 Plaintext that GenerateDataKey returned.
 */
async function generateDataKeyBlob(
  kms: KmsContext,
  input: OperationInput<'GenerateDataKey'>,
  requestId: string,
  operation: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext',
): Promise<{ KeyId: string; KeyVersionId: string; CiphertextBlob: string; plaintextB64: string }> {
  const dataKey = randomBytes(dataKeyBytes(input));
  const plaintextB64 = dataKey.toString('base64');
  const encoded = Buffer.from(plaintextB64, 'utf8');
  try {
    return await kms.keystore.transaction(async (tx) => {
      const s = await seal(kms, tx, input.KeyId, encoded, input.EncryptionContext);
      await appendAudit(tx, { requestId, operation, keyId: s.key.key_id, keyVersionId: s.keyVersionId, details: { NumberOfBytes: dataKey.length } }, now(kms));
      return { KeyId: s.key.key_id, KeyVersionId: s.keyVersionId, CiphertextBlob: s.blob.toString('base64'), plaintextB64 };
    });
  } finally {
    wipe(dataKey, encoded);
  }
}

export async function generateDataKey(kms: KmsContext, input: OperationInput<'GenerateDataKey'>, requestId: string): Promise<OperationOutput<'GenerateDataKey'>> {
  const r = await generateDataKeyBlob(kms, input, requestId, 'GenerateDataKey');
  return { KeyId: r.KeyId, KeyVersionId: r.KeyVersionId, CiphertextBlob: r.CiphertextBlob, Plaintext: r.plaintextB64 };
}

export async function generateDataKeyWithoutPlaintext(
  kms: KmsContext,
  input: OperationInput<'GenerateDataKeyWithoutPlaintext'>,
  requestId: string,
): Promise<OperationOutput<'GenerateDataKeyWithoutPlaintext'>> {
  const r = await generateDataKeyBlob(kms, input, requestId, 'GenerateDataKeyWithoutPlaintext');
  return { KeyId: r.KeyId, KeyVersionId: r.KeyVersionId, CiphertextBlob: r.CiphertextBlob };
}
