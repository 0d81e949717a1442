/**
 * VerifyFile: a detached signature over a file, checked with a keystore key or with a public key
 * PEM from outside (signatures made elsewhere). A signature that does not verify, including one
 * with trailing bytes or non-canonical DER, is `Value: false`; a missing file, an unreadable
 * public key or an algorithm that does not fit the key is an error.
 */
import { resolve } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import { KEY_SPEC_INFO, type KeySpec } from '../../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { spkiFromPem } from '../../../../src-shared/domain/publicKeyFingerprint';
import { keySpecOfSpki } from '../../../crypto/keyEncoding';
import { verifyDigest } from '../../../crypto/publicKeyOps';
import { requireAlgorithm, requireState, requireUsage, resolveKey, resolveVersion } from '../../kms/keyAccess';
import { now, type KmsContext } from '../../kms/context';
import { appendAudit } from '../../audit/auditLog';
import type { OperationControl } from '../../operationControl';
import { describeErrno, unreadable } from '../../../files/readFile';
import { stat } from 'node:fs/promises';
import { readSmallFile } from '../../../files/readBounded';
import { digestForSignature, MAX_RAW_ED25519_FILE_BYTES, rawEd25519TooLarge, userIdBytes } from './fileDigest';
import { createHash } from 'node:crypto';
import { dirname, relative, sep } from 'node:path';
import { DEFAULT_SSH_NAMESPACE, type SignatureFormatName } from '../../../../src-shared/domain/signatureFormats';
import type { SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import { createBlake2b512 } from '../../../crypto/blake2b';
import { streamFile } from '../../../files/readFile';
import { throwIfCancelled } from '../../operationControl';
import { chooseFormats } from './formats/registry';
import type { FileDigestName, SignatureFormat } from './formats/format';

/** Far above any signature Keyroom checks (RSA-4096: 512 bytes); a bigger file is not a signature. */
const MAX_SIGNATURE_BYTES = 16 * 1024;

async function signerOf(kms: KmsContext, input: OperationInput<'VerifyFile'>): Promise<{ spec: KeySpec; spki: Uint8Array; algorithm: SigningAlgorithm; keyId?: string; keyVersionId?: string; created?: Date }> {
  if ((input.KeyId === undefined) === (input.PublicKey === undefined)) {
    throw new KmsError('MissingParameter', 'Give the signer as exactly one of KeyId (a keystore key) or PublicKey (a PEM, or @file on the command line).');
  }
  if (input.PublicKey !== undefined) {
    let spki: Uint8Array;
    try {
      spki = spkiFromPem(input.PublicKey);
    } catch {
      throw new KmsError('InvalidParameter.PublicKey', 'PublicKey is not a PEM public key (-----BEGIN PUBLIC KEY-----).');
    }
    const spec = keySpecOfSpki(spki);
    const algorithm = input.Algorithm ?? KEY_SPEC_INFO[spec].signingAlgorithms[0]!;
    if (!(KEY_SPEC_INFO[spec].signingAlgorithms as readonly string[]).includes(algorithm)) {
      throw new KmsError('Rejected.Algorithm', `${algorithm} does not fit a ${spec} public key; use ${KEY_SPEC_INFO[spec].signingAlgorithms.join(' or ')}.`);
    }
    return { spec, spki, algorithm };
  }
  return kms.keystore.read(async (db) => {
    const key = await resolveKey(db, input.KeyId!);
    requireUsage(key, 'SIGN/VERIFY', 'verify signatures');
    requireState(key, ['Enabled'], 'verify signatures');
    const algorithm = input.Algorithm ?? KEY_SPEC_INFO[key.key_spec].signingAlgorithms[0]!;
    requireAlgorithm(key, 'signing', algorithm);
    const version = await resolveVersion(db, key, input.KeyVersionId);
    if (!version.public_key) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
    return { spec: key.key_spec, spki: version.public_key, algorithm, keyId: key.key_id, keyVersionId: version.key_version_id, created: new Date(version.creation_date) };
  });
}

/** The digests a format's check needs of the file (ssh: either hash sshsig allows). */
const VERIFY_DIGESTS: Readonly<Record<Exclude<SignatureFormatName, 'raw'>, readonly FileDigestName[]>> = {
  ssh: ['sha256', 'sha512'],
  minisign: ['blake2b512'],
  signify: ['sha256'],
  openpgp: ['sha256'],
  cosign: ['sha256'],
  jws: ['sha256'],
};

export async function verifyFile(kms: KmsContext, input: OperationInput<'VerifyFile'>, requestId: string, control: OperationControl): Promise<OperationOutput<'VerifyFile'>> {
  const format = input.Format ?? 'raw';
  if (format !== 'raw') return verifyFormatFile(kms, input, format, requestId, control);
  const { spec, spki, algorithm, keyId, keyVersionId } = await signerOf(kms, input);
  const userId = userIdBytes(algorithm, input.UserId);
  const sigPath = resolve(input.SignatureFile);
  // Regular files only, checked after opening too (no wait on a FIFO), and at most a signature's size.
  const signature = await readSmallFile(sigPath, MAX_SIGNATURE_BYTES, (why) =>
    why.startsWith('it is ') && /bytes/.test(why) ? new KmsError('InvalidParameter', `${sigPath} is not a signature: ${why}.`) : unreadable(sigPath, why),
  );
  const file = resolve(input.File);
  const d = await digestForSignature(file, algorithm, spki, userId, false, control, 'VerifyFile', (done, total) =>
    control.progress({ Phase: 'Hashing', Done: done, Total: total }),
  );
  const value = verifyDigest(spec, spki, algorithm, d.signed, signature);
  // A keystore key was used, so the use is recorded (as AsymmetricVerify's is); a PEM from outside is not a key of ours.
  if (keyId) {
    await kms.keystore.transaction((tx) =>
      appendAudit(tx, { requestId, operation: 'VerifyFile', keyId, keyVersionId, details: { Format: 'raw', Algorithm: algorithm, File: file, Size: d.size, Digest: d.recorded.toString('hex'), Value: value } }, now(kms)),
    );
  }
  return { Value: value, File: file, Digest: d.recorded.toString('hex') };
}

/** VerifyFile for the release formats: the format module reads the signature as its reference verifier does. */
async function verifyFormatFile(
  kms: KmsContext,
  input: OperationInput<'VerifyFile'>,
  format: Exclude<SignatureFormatName, 'raw'>,
  requestId: string,
  control: OperationControl,
): Promise<OperationOutput<'VerifyFile'>> {
  if (input.Algorithm !== undefined || input.UserId !== undefined) throw new KmsError('InvalidParameter', 'Algorithm and UserId are for raw signatures; leave them out with --Format.');
  if (input.SshNamespace !== undefined && format !== 'ssh') throw new KmsError('InvalidParameter', 'SshNamespace is for --Format ssh.');
  const { spec, spki, keyId, keyVersionId, created } = await signerOf(kms, { ...input, Algorithm: undefined });
  const module = formatModule(format, spec);
  const sigPath = resolve(input.SignatureFile);
  // A signify manifest may list many files; other signatures are small. Regular files only.
  const limit = module.kind === 'manifest' ? 16 * 1024 * 1024 : MAX_SIGNATURE_BYTES;
  const signature = await readSmallFile(sigPath, limit, (why) =>
    /bytes/.test(why) ? new KmsError('InvalidParameter', `${sigPath} is not a ${format} signature: ${why}.`) : unreadable(sigPath, why),
  );
  const file = resolve(input.File);
  // EdDSA JWS checks the whole file in memory: capped as SignFile caps it.
  if (format === 'jws' && spec === 'ED25519') {
    const size = (await stat(file).catch((e: unknown) => { throw unreadable(file, describeErrno(e)); })).size;
    if (size > MAX_RAW_ED25519_FILE_BYTES) throw rawEd25519TooLarge(file, size);
  }
  const names = VERIFY_DIGESTS[format];
  const sinks = names.map((name) => {
    const h = name === 'blake2b512' ? createBlake2b512() : createHash(name);
    return { name, update: (b: Uint8Array) => h.update(b), digest: () => h.digest() };
  });
  const key = { keyId: keyId ?? 'external', spec, spki: Buffer.from(spki), ...(created ? { created } : {}) };
  const state = module.fileState?.(key, signature);
  const size = await streamFile(file, [...sinks, ...(state ? [state] : [])], () => throwIfCancelled(control, 'VerifyFile'), (done, total) => control.progress({ Phase: 'Hashing', Done: done, Total: total }));
  const digests = new Map<FileDigestName, Buffer>(sinks.map((s) => [s.name, s.digest()]));
  let value: boolean;
  if (module.kind === 'manifest') {
    const name = relative(dirname(sigPath), file).split(sep).join('/');
    value = module.verify(key, signature, name, digests.get('sha256')!);
  } else {
    value = module.verify(key, { sshNamespace: input.SshNamespace ?? DEFAULT_SSH_NAMESPACE }, signature, digests, state);
  }
  const main = names[names.length - 1]!;
  const digest = digests.get(format === 'ssh' ? 'sha512' : main)!.toString('hex');
  if (keyId) {
    await kms.keystore.transaction((tx) =>
      appendAudit(tx, { requestId, operation: 'VerifyFile', keyId, keyVersionId, details: { Format: format, File: file, Size: size, Digest: digest, Value: value } }, now(kms)),
    );
  }
  return { Value: value, File: file, Digest: digest };
}

/** The format's module, refusing one the key cannot make or one not wired yet. */
function formatModule(format: Exclude<SignatureFormatName, 'raw'>, spec: KeySpec): SignatureFormat {
  const chosen = chooseFormats([format], spec);
  return chosen.formats[0]!;
}
