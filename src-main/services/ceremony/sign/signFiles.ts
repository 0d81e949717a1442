/**
 * SignFile: release artifacts signed offline. Each file is hashed first, as a stream (progress,
 * cancel), then only the digests go to the key, in one keystore transaction with one audit entry
 * per signature (file name, size, digest, key version, and the SHA-256 of each output file; never
 * content). Outputs: a detached `<file>.sig` (raw: DER for ECDSA/SM2, the RSA signature bytes:
 * what `openssl dgst -verify` reads), `<file>.sig.b64` on request, the public key PEM, and
 * optionally a SHA256SUMS-style manifest signed as a whole.
 *
 * It reads as plan, compute, record, publish: every output name is checked free before anything
 * is hashed; the files are hashed; inside one transaction the key signs, the outputs are staged
 * (temporaries, read back and hashed) and the audit entries naming them are appended; only after
 * the commit do the outputs take their final names (files/outputWriter.ts).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import type { SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import type { FileSignature } from '../../../../src-shared/contract/types';
import type { KeyRow, VersionRow } from '../../../keystore/repository';
import type { SqlExecutor } from '../../../keystore/sqlcipher';
import { spkiToPem } from '../../../crypto/keyEncoding';
import type { OutputPlan, StagedOutputs } from '../../../files/outputWriter';
import { shellWord } from '../../../files/shellWord';
import { appendAudit } from '../../audit/auditLog';
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordWithStaging, staleReport } from '../../audit/outputRecord';
import { requireAlgorithm, requireState, requireUsage, resolveKey, resolveVersion, useSecret } from '../../kms/keyAccess';
import { now, type KmsContext } from '../../kms/context';
import { throwIfCancelled, type OperationControl } from '../../operationControl';
import { describeErrno, unreadable } from '../../../files/readFile';
import { MANIFEST_NAMES, MAX_RAW_ED25519_FILE_BYTES, digestBytesForSignature, digestForSignature, manifestDigest, rawEd25519TooLarge, userIdBytes } from './fileDigest';

const OP = 'SignFile';
/** Names SignFile writes; a folder's own outputs are never signed again. */
const OUTPUT_NAME = /(\.sig|\.sig\.b64|\.pub\.pem)$|^(SHA256SUMS|SHA384SUMS|SM3SUMS)$/;

interface Planned {
  path: string;
  sigPath: string;
  b64Path?: string;
}

async function signingKey(db: SqlExecutor, input: OperationInput<'SignFile'>): Promise<{ key: KeyRow; version: VersionRow; spki: Buffer }> {
  const key = await resolveKey(db, input.KeyId);
  requireUsage(key, 'SIGN/VERIFY', 'sign files');
  requireState(key, ['Enabled'], 'sign files');
  requireAlgorithm(key, 'signing', input.Algorithm);
  const version = await resolveVersion(db, key, input.KeyVersionId);
  if (!version.public_key) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
  return { key, version, spki: version.public_key };
}

/** The regular files named, a folder standing for the files directly in it (not its own outputs). */
export async function expandFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths.map((x) => resolve(x))) {
    const st = await stat(p).catch((e: unknown) => {
      throw unreadable(p, describeErrno(e));
    });
    if (st.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.') && !OUTPUT_NAME.test(e.name));
      if (entries.length === 0) throw new KmsError('InvalidParameter.InputFile', `The folder ${p} has no file to sign (hidden files and signatures are left out).`);
      out.push(...entries.map((e) => join(p, e.name)).sort());
    } else if (st.isFile()) out.push(p);
    else throw unreadable(p, 'it is not a regular file');
  }
  const unique = [...new Set(out)];
  if (unique.length !== out.length) throw new KmsError('InvalidParameter.InputFile', 'A file is named twice (directly, or through its folder).');
  return unique;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function verifyCommand(algorithm: SigningAlgorithm, publicKeyFile: string, sigPath: string, file: string, userId: string | undefined): string {
  if (algorithm === 'ED25519') {
    // Pure Ed25519: pkeyutl reads the whole file (-rawin); dgst cannot verify EdDSA.
    return ['openssl pkeyutl -verify -pubin', `-inkey ${shellWord(publicKeyFile)}`, '-rawin', `-in ${shellWord(file)}`, `-sigfile ${shellWord(sigPath)}`].join(' ');
  }
  const digest = { RSA_PSS_SHA_256: '-sha256', RSA_PKCS1_SHA_256: '-sha256', ECDSA_SHA_256: '-sha256', ECDSA_SHA_384: '-sha384', SM2DSA: '-sm3' }[algorithm];
  const opts =
    algorithm === 'RSA_PSS_SHA_256'
      ? ['-sigopt rsa_padding_mode:pss', '-sigopt rsa_pss_saltlen:-1']
      : algorithm === 'SM2DSA'
        ? [`-sigopt ${shellWord(`distid:${userId ?? '1234567812345678'}`)}`]
        : [];
  return ['openssl dgst', digest, `-verify ${shellWord(publicKeyFile)}`, ...opts, `-signature ${shellWord(sigPath)}`, shellWord(file)].join(' ');
}

/** A manifest line as sha256sum writes it: the file's path from the manifest's folder. */
function manifestLine(hex: string, file: string, manifestDir: string): string {
  const name = relative(manifestDir, file).split(sep).join('/');
  if (/[\n\\]/.test(name)) throw new KmsError('InvalidParameter.InputFile', `${file}: a name with a newline or backslash cannot go into a checksum manifest.`);
  return `${hex}  ${name}\n`;
}

/** Step 1: the key, the files, and every output name, checked before any work. */
interface SigningPlan {
  files: string[];
  planned: Planned[];
  manifest?: string;
  publicKeyFile: string;
  publicPem: string;
  /** False when the folder already holds this very public key. */
  writePublicKey: boolean;
  spki: Buffer;
  userId: Uint8Array;
  outputs: OutputPlan;
}

async function planSigning(kms: KmsContext, input: OperationInput<'SignFile'>, requestId: string): Promise<SigningPlan> {
  const userId = userIdBytes(input.Algorithm, input.UserId);
  const { key: signer, spki } = await kms.keystore.read((db) => signingKey(db, input));
  const files = await expandFiles(input.File);
  if (input.Algorithm === 'ED25519') {
    for (const f of files) {
      const size = (await stat(f)).size;
      if (size > MAX_RAW_ED25519_FILE_BYTES) throw rawEd25519TooLarge(f, size);
    }
  }
  const outputDir = input.OutputDir ? resolve(input.OutputDir) : undefined;
  const b64 = input.SignatureEncoding === 'base64';
  const planned: Planned[] = files.map((path) => {
    const sigPath = join(outputDir ?? dirname(path), `${basename(path)}.sig`);
    return b64 ? { path, sigPath, b64Path: `${sigPath}.b64` } : { path, sigPath };
  });
  const manifest = input.Manifest ? resolve(input.Manifest) : undefined;
  const digestName = manifestDigest(input.Algorithm);
  if (manifest) {
    const known = Object.entries(MANIFEST_NAMES).find(([, name]) => name === basename(manifest));
    if (known && known[0] !== digestName) {
      throw new KmsError('InvalidParameter.OutputFile', `${input.Algorithm} hashes with ${digestName.toUpperCase()}, so its manifest is ${MANIFEST_NAMES[digestName]}, not ${basename(manifest)}.`);
    }
  }
  const publicKeyFile = join(outputDir ?? dirname(files[0]!), `${signer.key_id}.pub.pem`);
  const publicPem = spkiToPem(spki);
  const outputs = [...planned.flatMap((p) => [p.sigPath, ...(p.b64Path ? [p.b64Path] : [])]), ...(manifest ? [manifest, `${manifest}.sig`, ...(b64 ? [`${manifest}.sig.b64`] : [])] : [])];
  if (new Set(outputs).size !== outputs.length) throw new KmsError('InvalidParameter.InputFile', 'Two files would get the same signature name in the output folder; sign them into separate folders.');
  const writePublicKey = !(await exists(publicKeyFile));
  if (!writePublicKey && (await readFile(publicKeyFile, 'utf8')) !== publicPem) {
    throw new KmsError('AlreadyExists.File', `${publicKeyFile} exists and holds another key; Keyroom never overwrites a file.`);
  }
  const plan = await planRecordedOutputs(kms, writePublicKey ? [publicKeyFile, ...outputs] : outputs, requestId, { missingFolder: 'InvalidParameter.OutputDir' });
  return { files, planned, ...(manifest ? { manifest } : {}), publicKeyFile, publicPem, writePublicKey, spki, userId, outputs: plan };
}

type FileDigest = Awaited<ReturnType<typeof digestForSignature>>;

/** Step 2: hash every file (the long part), with progress over the whole batch. */
async function hashFiles(plan: SigningPlan, input: OperationInput<'SignFile'>, control: OperationControl): Promise<FileDigest[]> {
  const sizes = await Promise.all(plan.files.map((f) => stat(f).then((s) => s.size)));
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  const digests: FileDigest[] = [];
  for (const file of plan.files) {
    const d = await digestForSignature(file, input.Algorithm, plan.spki, plan.userId, plan.manifest !== undefined, control, OP, (done) =>
      control.progress({ Phase: 'Hashing', Done: before + done, Total: Math.max(total, before + done), Item: basename(file) }),
    );
    before += d.size;
    digests.push(d);
  }
  throwIfCancelled(control, OP);
  return digests;
}

/** One audit entry's worth: a signed file (or the manifest) and the outputs it brings. */
interface SignedItem {
  file: string;
  size: number;
  digest: Buffer;
  sigPath: string;
  outputs: { path: string; content: Buffer | string }[];
}

/**
 * Step 3: in one transaction, sign every digest, stage every output and append the entries that
 * name them with their staged SHA-256. Returns once committed; on any failure the staged
 * temporaries are removed and nothing was recorded.
 */
async function signAndRecord(
  kms: KmsContext,
  input: OperationInput<'SignFile'>,
  requestId: string,
  plan: SigningPlan,
  digests: FileDigest[],
  control: OperationControl,
): Promise<{ out: OperationOutput<'SignFile'>; staged: StagedOutputs }> {
  const { result: out, staged } = await recordWithStaging(kms, async (tx, stage) => {
    // Checked again inside the transaction: the key may have been disabled while files were hashed.
    const { key, version } = await signingKey(tx, input);
    const sign = (digest: Buffer) => useSecret(kms, tx, key, version, (backend, v) => backend.sign(v, input.Algorithm, digest));
    const items: SignedItem[] = [];
    for (const [i, p] of plan.planned.entries()) {
      throwIfCancelled(control, OP);
      control.progress({ Phase: 'Signing', Done: i, Total: plan.planned.length, Item: basename(p.path) });
      const d = digests[i]!;
      const signature = await sign(d.signed);
      items.push({
        file: p.path,
        size: d.size,
        digest: d.recorded,
        sigPath: p.sigPath,
        outputs: [{ path: p.sigPath, content: signature }, ...(p.b64Path ? [{ path: p.b64Path, content: `${signature.toString('base64')}\n` }] : [])],
      });
    }
    if (plan.manifest) {
      const text = plan.files.map((f, i) => manifestLine((digests[i]!.plain ?? digests[i]!.signed).toString('hex'), f, dirname(plan.manifest!))).join('');
      const bytes = Buffer.from(text, 'utf8');
      const d = digestBytesForSignature(bytes, input.Algorithm, plan.spki, plan.userId);
      const signature = await sign(d);
      const sigPath = `${plan.manifest}.sig`;
      items.push({
        file: plan.manifest,
        size: bytes.length,
        digest: input.Algorithm === 'ED25519' ? createHash('sha256').update(bytes).digest() : d,
        sigPath,
        outputs: [
          { path: plan.manifest, content: bytes },
          { path: sigPath, content: signature },
          ...(input.SignatureEncoding === 'base64' ? [{ path: `${sigPath}.b64`, content: `${signature.toString('base64')}\n` }] : []),
        ],
      });
    }
    // The public key file goes with the first entry.
    if (plan.writePublicKey) items[0]!.outputs.unshift({ path: plan.publicKeyFile, content: plan.publicPem });
    throwIfCancelled(control, OP);
    const writes = items.flatMap((it) => it.outputs);
    control.progress({ Phase: 'Writing', Done: 0, Total: writes.length });
    const written = await stage(plan.outputs, writes);
    const hashOf = new Map(written.files.map((f) => [f.path, f.sha256]));
    const time = now(kms);
    for (const it of items) {
      await appendAudit(
        tx,
        {
          requestId,
          operation: OP,
          keyId: key.key_id,
          keyVersionId: version.key_version_id,
          details: {
            Algorithm: input.Algorithm,
            File: it.file,
            Size: it.size,
            Digest: it.digest.toString('hex'),
            SignatureFile: it.sigPath,
            OutputFiles: outputFilesDetail(it.outputs.map((o) => ({ path: o.path, sha256: hashOf.get(resolve(o.path))! }))),
          },
        },
        time,
      );
    }
    const signatures: FileSignature[] = plan.planned.map((p, i) => {
      const entry: FileSignature = {
        File: p.path,
        Size: digests[i]!.size,
        Digest: digests[i]!.recorded.toString('hex'),
        SignatureFile: p.sigPath,
        VerifyCommand: verifyCommand(input.Algorithm, plan.publicKeyFile, p.sigPath, p.path, input.UserId),
      };
      if (p.b64Path) entry.SignatureFileBase64 = p.b64Path;
      return entry;
    });
    const out: OperationOutput<'SignFile'> = { KeyId: key.key_id, KeyVersionId: version.key_version_id, Algorithm: input.Algorithm, Signatures: signatures, PublicKeyFile: plan.publicKeyFile };
    if (plan.manifest) {
      out.Manifest = plan.manifest;
      out.ManifestSignatureFile = `${plan.manifest}.sig`;
    }
    return out;
  });
  return { out, staged: staged[0]! };
}

export async function signFiles(kms: KmsContext, input: OperationInput<'SignFile'>, requestId: string, control: OperationControl): Promise<OperationOutput<'SignFile'>> {
  throwIfCancelled(control, OP);
  const plan = await planSigning(kms, input, requestId);
  const digests = await hashFiles(plan, input, control);
  const { out, staged } = await signAndRecord(kms, input, requestId, plan, digests, control);
  await publishRecorded(kms, staged, { requestId, operation: OP, keyId: out.KeyId, keyVersionId: out.KeyVersionId });
  control.progress({ Phase: 'Writing', Done: staged.files.length, Total: staged.files.length });
  return { ...out, ...staleReport(plan.outputs) };
}
