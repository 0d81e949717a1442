/**
 * SignFile: release artifacts signed offline. Each file is hashed first, as a stream (progress,
 * cancel), then only the digests go to the key, in one keystore transaction with one audit entry
 * per signature (file name, size, digest, key version, and the SHA-256 of each output file; never
 * content). Outputs: a detached `<file>.sig` (raw: DER for ECDSA/SM2, the RSA signature bytes:
 * what `openssl dgst -verify` reads), `<file>.sig.b64` on request, the public key PEM, and
 * optionally a SHA256SUMS-style manifest signed as a whole.
 *
 * `Format` adds release-signature formats (formats/registry.ts: ssh, minisign, signify) beside or
 * instead of raw: each file is still read once, into every digest any chosen format needs, and
 * each format signs once per file (signify once per manifest) in the same transaction.
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
import { KEY_SPEC_INFO, type SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import { DEFAULT_SSH_NAMESPACE } from '../../../../src-shared/domain/signatureFormats';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import type { FileSignature } from '../../../../src-shared/contract/types';
import type { KeyRow, VersionRow } from '../../../keystore/repository';
import type { SqlExecutor } from '../../../keystore/sqlcipher';
import { spkiToPem } from '../../../crypto/keyEncoding';
import type { OutputPlan, StagedOutputs } from '../../../files/outputWriter';
import type { BackendSigningAlgorithm } from '../../../backends/backend';
import { shellWord } from '../../../files/shellWord';
import { appendAudit } from '../../audit/auditLog';
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordWithStaging, staleReport } from '../../audit/outputRecord';
import { requireAlgorithm, requireState, requireUsage, resolveKey, resolveVersion, useSecret } from '../../kms/keyAccess';
import { now, type KmsContext } from '../../kms/context';
import { throwIfCancelled, type OperationControl } from '../../operationControl';
import { describeErrno, unreadable } from '../../../files/readFile';
import { chooseFormats } from './formats/registry';
import type { DigestedFile, FileDigestName, FileState, FormatKey, FormatName, FormatOptions, ManifestFormat, PerFileFormat, PublicKeyFile } from './formats/format';
import { createBlake2b512 } from '../../../crypto/blake2b';
import { streamFile, type ByteSink } from '../../../files/readFile';
import { MANIFEST_NAMES, MAX_RAW_ED25519_FILE_BYTES, digestBytesForSignature, digestForSignature, manifestDigest, rawEd25519TooLarge, userIdBytes } from './fileDigest';

const OP = 'SignFile';
/** Names SignFile writes; a folder's own outputs are never signed again. */
const OUTPUT_NAME = /(\.sig|\.sig\.b64|\.pub\.pem|\.sshsig|\.minisig|\.ssh\.pub|\.allowed_signers|\.minisign\.pub|\.signify\.pub|\.asc|\.sigstore\.json|\.jws|\.jwk\.json)$|^(SHA256SUMS|SHA384SUMS|SM3SUMS|SHA256)$/;

interface Planned {
  path: string;
  sigPath: string;
  b64Path?: string;
}

async function signingKey(db: SqlExecutor, input: OperationInput<'SignFile'>): Promise<{ key: KeyRow; version: VersionRow; spki: Buffer; algorithm: SigningAlgorithm; created: Date }> {
  const key = await resolveKey(db, input.KeyId);
  requireUsage(key, 'SIGN/VERIFY', 'sign files');
  requireState(key, ['Enabled'], 'sign files');
  // Raw signatures take the algorithm named, or the key's first; the other formats follow the key.
  const algorithm = input.Algorithm ?? KEY_SPEC_INFO[key.key_spec].signingAlgorithms[0]!;
  requireAlgorithm(key, 'signing', algorithm);
  const version = await resolveVersion(db, key, input.KeyVersionId);
  if (!version.public_key) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
  return { key, version, spki: version.public_key, algorithm, created: new Date(version.creation_date) };
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

/** A public key file to write (or already there), its content made now or by the key when signing. */
interface PlannedKey {
  path: string;
  content: PublicKeyFile['content'];
  write: boolean;
}

/** A non-raw format's per-file signature path, or its manifest outputs. */
interface FormatPlan {
  format: PerFileFormat | ManifestFormat;
  /** Per-file formats: one signature path per input file, in order. */
  sigPaths: string[];
  /** Per-file formats: the files beside each signature (cosign's .sig.b64), per input file. */
  companionPaths: string[][];
  publicKeys: PlannedKey[];
}

/** Step 1: the key, the files, and every output name, checked before any work. */
interface SigningPlan {
  algorithm: SigningAlgorithm;
  raw: boolean;
  files: string[];
  planned: Planned[];
  manifest?: string;
  publicKeyFile: string;
  publicPem: string;
  /** False when the folder already holds this very public key. */
  writePublicKey: boolean;
  spki: Buffer;
  userId: Uint8Array;
  formatKey: FormatKey;
  formatOptions: Omit<FormatOptions, 'time'>;
  /** Formats that keep a running state over each file (OpenPGP, JWS). */
  stateFormats: (PerFileFormat | ManifestFormat)[];
  formats: FormatPlan[];
  /** The digests the non-raw formats need of every file (each file is still read once). */
  extraDigests: FileDigestName[];
  outputs: OutputPlan;
}

/** A public key file the folder may already hold: the same bytes are kept, other bytes refused. */
async function publicKeyOutput(path: string, key: PublicKeyFile): Promise<PlannedKey> {
  const { content } = key;
  if (!(await exists(path))) return { path, content, write: true };
  const existing = await readFile(path, 'utf8');
  if (typeof content === 'string' ? existing !== content : !key.holdsKey?.(existing)) throw new KmsError('AlreadyExists.File', `${path} exists and holds another key; Keyroom never overwrites a file.`);
  return { path, content, write: false };
}

async function planSigning(kms: KmsContext, input: OperationInput<'SignFile'>, requestId: string): Promise<SigningPlan> {
  const { key: signer, spki, algorithm, created } = await kms.keystore.read((db) => signingKey(db, input));
  const chosen = chooseFormats(input.Format ?? ['raw'], signer.key_spec);
  const raw = chosen.raw;
  if (!raw && (input.SignatureEncoding !== undefined || input.UserId !== undefined || input.Algorithm !== undefined)) {
    throw new KmsError('InvalidParameter', 'Algorithm, SignatureEncoding and UserId shape raw signatures; add --Format raw, or leave them out.');
  }
  const userId = userIdBytes(algorithm, input.UserId);
  const sshNamespace = input.SshNamespace ?? DEFAULT_SSH_NAMESPACE;
  if (input.SshNamespace !== undefined && !chosen.formats.some((f) => f.name === 'ssh')) throw new KmsError('InvalidParameter', 'SshNamespace is for --Format ssh.');
  if (input.OpenPgpUserId !== undefined && !chosen.formats.some((f) => f.name === 'openpgp')) throw new KmsError('InvalidParameter', 'OpenPgpUserId is for --Format openpgp.');
  if (input.OpenPgpUserId === undefined && chosen.formats.some((f) => f.name === 'openpgp')) {
    throw new KmsError('MissingParameter', 'The openpgp format needs --OpenPgpUserId "Name <email>" (for example "Release Team <release@example.org>") for its public key certificate.');
  }
  const manifestFormat = chosen.formats.find((f): f is ManifestFormat => f.kind === 'manifest');
  if (manifestFormat && !input.Manifest) {
    throw new KmsError('MissingParameter', `The ${manifestFormat.name} format signs a checksum manifest, not each file: give --Manifest (for example SHA256 in the files' folder).`);
  }
  if (manifestFormat && raw && input.Manifest) {
    throw new KmsError('InvalidParameter', `--Manifest names one manifest: sign the raw SHA256SUMS and the ${manifestFormat.name} manifest in two calls.`);
  }
  const files = await expandFiles(input.File);
  // Pure Ed25519 (raw, and EdDSA JWS) signs the whole file, held in memory: capped.
  if ((raw || chosen.formats.some((f) => f.name === 'jws')) && signer.key_spec === 'ED25519') {
    for (const f of files) {
      const size = (await stat(f)).size;
      if (size > MAX_RAW_ED25519_FILE_BYTES) throw rawEd25519TooLarge(f, size);
    }
  }
  const outputDir = input.OutputDir ? resolve(input.OutputDir) : undefined;
  const keyDir = outputDir ?? dirname(files[0]!);
  const b64 = input.SignatureEncoding === 'base64';
  const planned: Planned[] = raw
    ? files.map((path) => {
        const sigPath = join(outputDir ?? dirname(path), `${basename(path)}.sig`);
        return b64 ? { path, sigPath, b64Path: `${sigPath}.b64` } : { path, sigPath };
      })
    : [];
  const manifest = input.Manifest ? resolve(input.Manifest) : undefined;
  if (manifest && raw) {
    const digestName = manifestDigest(algorithm);
    const known = Object.entries(MANIFEST_NAMES).find(([, name]) => name === basename(manifest));
    if (known && known[0] !== digestName) {
      throw new KmsError('InvalidParameter.OutputFile', `${algorithm} hashes with ${digestName.toUpperCase()}, so its manifest is ${MANIFEST_NAMES[digestName]}, not ${basename(manifest)}.`);
    }
  }
  const formatKey: FormatKey = { keyId: signer.key_id, spec: signer.key_spec, spki, created };
  const formatOptions = { sshNamespace, ...(input.OpenPgpUserId !== undefined ? { openPgpUserId: input.OpenPgpUserId } : {}) };
  const publicKeyFile = join(keyDir, `${signer.key_id}.pub.pem`);
  const formats: FormatPlan[] = [];
  for (const format of chosen.formats) {
    const sigPaths = format.kind === 'per-file' ? files.map((path) => join(outputDir ?? dirname(path), format.signatureName(basename(path)))) : [];
    const companionPaths = format.kind === 'per-file' ? files.map((path) => (format.companionNames?.(basename(path)) ?? []).map((n) => join(outputDir ?? dirname(path), n))) : [];
    const keys: PublicKeyFile[] = format.publicKeyFiles(formatKey, { ...formatOptions, time: new Date(now(kms)) });
    // cosign's key is raw's <KeyId>.pub.pem: written once.
    const publicKeys = (await Promise.all(keys.map((k) => publicKeyOutput(join(keyDir, k.name), k)))).map((k) => (raw && k.path === publicKeyFile ? { ...k, write: false } : k));
    formats.push({ format, sigPaths, companionPaths, publicKeys });
  }
  const publicPem = spkiToPem(spki);
  const rawOutputs = [...planned.flatMap((p) => [p.sigPath, ...(p.b64Path ? [p.b64Path] : [])]), ...(manifest && raw ? [manifest, `${manifest}.sig`, ...(b64 ? [`${manifest}.sig.b64`] : [])] : [])];
  const formatOutputs = formats.flatMap((f) => (f.format.kind === 'per-file' ? [...f.sigPaths, ...f.companionPaths.flat()] : [manifest!, join(dirname(manifest!), f.format.signatureName(basename(manifest!)))]));
  const outputs = [...rawOutputs, ...formatOutputs];
  if (new Set(outputs).size !== outputs.length) throw new KmsError('InvalidParameter.InputFile', 'Two files would get the same signature name in the output folder; sign them into separate folders.');
  const writePublicKey = raw && !(await exists(publicKeyFile));
  if (raw && !writePublicKey && (await readFile(publicKeyFile, 'utf8')) !== publicPem) {
    throw new KmsError('AlreadyExists.File', `${publicKeyFile} exists and holds another key; Keyroom never overwrites a file.`);
  }
  const keyOutputs = [...new Set([...(writePublicKey ? [publicKeyFile] : []), ...formats.flatMap((f) => f.publicKeys.filter((k) => k.write).map((k) => k.path))])];
  const plan = await planRecordedOutputs(kms, [...keyOutputs, ...outputs], requestId, { missingFolder: 'InvalidParameter.OutputDir' });
  const extraDigests = [...new Set(formats.flatMap((f) => f.format.fileDigests(signer.key_spec)))];
  return {
    algorithm,
    raw,
    files,
    planned,
    ...(manifest ? { manifest } : {}),
    publicKeyFile: raw ? publicKeyFile : (formats[0]!.publicKeys[0]!.path),
    publicPem,
    writePublicKey,
    spki,
    userId,
    formatKey,
    formatOptions,
    stateFormats: formats.map((f) => f.format).filter((f) => f.fileState !== undefined),
    formats,
    extraDigests,
    outputs: plan,
  };
}

interface FileDigest {
  size: number;
  /** Raw's digest (absent when raw is not chosen). */
  raw?: Awaited<ReturnType<typeof digestForSignature>>;
  /** The digests the other formats need. */
  extra: Map<FileDigestName, Buffer>;
  states: Map<FormatName, FileState>;
}

function extraSink(name: FileDigestName): ByteSink & { digest(): Buffer } {
  const h = name === 'blake2b512' ? createBlake2b512() : createHash(name);
  return { update: (b) => h.update(b), digest: () => h.digest() };
}

/** Step 2: hash every file once (the long part), into every digest wanted, with progress over the whole batch. */
async function hashFiles(plan: SigningPlan, control: OperationControl): Promise<FileDigest[]> {
  const sizes = await Promise.all(plan.files.map((f) => stat(f).then((s) => s.size)));
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  const digests: FileDigest[] = [];
  for (const file of plan.files) {
    const sinks = plan.extraDigests.map((name) => ({ name, sink: extraSink(name) }));
    const states = new Map<FormatName, FileState>(plan.stateFormats.map((f) => [f.name, f.fileState!(plan.formatKey)]));
    const allSinks = [...sinks.map((s) => s.sink), ...states.values()];
    const onBytes = (done: number) => control.progress({ Phase: 'Hashing', Done: before + done, Total: Math.max(total, before + done), Item: basename(file) });
    let d: FileDigest;
    if (plan.raw) {
      const r = await digestForSignature(file, plan.algorithm, plan.spki, plan.userId, plan.manifest !== undefined, control, OP, onBytes, allSinks);
      d = { size: r.size, raw: r, extra: new Map(), states };
    } else {
      const size = await streamFile(file, allSinks, () => throwIfCancelled(control, OP), onBytes);
      d = { size, extra: new Map(), states };
    }
    for (const s of sinks) d.extra.set(s.name, s.sink.digest());
    before += d.size;
    digests.push(d);
  }
  throwIfCancelled(control, OP);
  return digests;
}

/** One audit entry's worth: a signed file (or the manifest) and the outputs it brings. */
interface SignedItem {
  format: string;
  file: string;
  size: number;
  digest: Buffer;
  digestAlgorithm?: string;
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
    const signAs = (algorithm: BackendSigningAlgorithm, data: Buffer) => useSecret(kms, tx, key, version, (backend, v) => backend.sign(v, algorithm, data));
    const sign = (digest: Buffer) => signAs(plan.algorithm, digest);
    const time = now(kms);
    const options: FormatOptions = { ...plan.formatOptions, time: new Date(time) };
    const items: SignedItem[] = [];
    const signatures: FileSignature[] = [];
    const totalSigns = plan.planned.length + plan.formats.reduce((a, f) => a + f.sigPaths.length, 0);
    let done = 0;
    for (const [i, p] of plan.planned.entries()) {
      throwIfCancelled(control, OP);
      control.progress({ Phase: 'Signing', Done: done++, Total: totalSigns, Item: basename(p.path) });
      const d = digests[i]!.raw!;
      const signature = await sign(d.signed);
      items.push({
        format: 'raw',
        file: p.path,
        size: d.size,
        digest: d.recorded,
        sigPath: p.sigPath,
        outputs: [{ path: p.sigPath, content: signature }, ...(p.b64Path ? [{ path: p.b64Path, content: `${signature.toString('base64')}\n` }] : [])],
      });
      const entry: FileSignature = {
        Format: 'raw',
        File: p.path,
        Size: d.size,
        Digest: d.recorded.toString('hex'),
        SignatureFile: p.sigPath,
        VerifyCommand: verifyCommand(plan.algorithm, plan.publicKeyFile, p.sigPath, p.path, input.UserId),
      };
      if (p.b64Path) entry.SignatureFileBase64 = p.b64Path;
      signatures.push(entry);
    }
    if (plan.manifest && plan.raw) {
      const text = plan.files.map((f, i) => manifestLine((digests[i]!.raw!.plain ?? digests[i]!.raw!.signed).toString('hex'), f, dirname(plan.manifest!))).join('');
      const bytes = Buffer.from(text, 'utf8');
      const d = digestBytesForSignature(bytes, plan.algorithm, plan.spki, plan.userId);
      const signature = await sign(d);
      const sigPath = `${plan.manifest}.sig`;
      items.push({
        format: 'raw',
        file: plan.manifest,
        size: bytes.length,
        digest: plan.algorithm === 'ED25519' ? createHash('sha256').update(bytes).digest() : d,
        sigPath,
        outputs: [
          { path: plan.manifest, content: bytes },
          { path: sigPath, content: signature },
          ...(input.SignatureEncoding === 'base64' ? [{ path: `${sigPath}.b64`, content: `${signature.toString('base64')}\n` }] : []),
        ],
      });
    }
    const digested: DigestedFile[] = plan.files.map((path, i) => ({ path, size: digests[i]!.size, digests: digests[i]!.extra, states: digests[i]!.states }));
    for (const fp of plan.formats) {
      const keyPaths = fp.publicKeys.map((k) => k.path);
      const formatItems: SignedItem[] = [];
      if (fp.format.kind === 'per-file') {
        for (const [i, file] of digested.entries()) {
          throwIfCancelled(control, OP);
          control.progress({ Phase: 'Signing', Done: done++, Total: totalSigns, Item: basename(file.path) });
          const signed = await fp.format.sign(plan.formatKey, options, file, signAs);
          const sigPath = fp.sigPaths[i]!;
          const companions = (fp.companionPaths[i] ?? []).map((path, j) => ({ path, content: signed.companions![j]! }));
          formatItems.push({ format: fp.format.name, file: file.path, size: file.size, digest: signed.digest.value, digestAlgorithm: signed.digest.algorithm, sigPath, outputs: [{ path: sigPath, content: signed.content }, ...companions] });
          signatures.push({
            Format: fp.format.name,
            File: file.path,
            Size: file.size,
            DigestAlgorithm: signed.digest.algorithm,
            Digest: signed.digest.value.toString('hex'),
            SignatureFile: sigPath,
            VerifyCommand: fp.format.verifyCommand(plan.formatKey, options, file.path, sigPath, keyPaths),
          });
        }
      } else {
        const manifest = plan.manifest!;
        const bytes = fp.format.manifest(manifest, digested);
        const sigPath = join(dirname(manifest), fp.format.signatureName(basename(manifest)));
        const content = await fp.format.signManifest(plan.formatKey, bytes, signAs);
        formatItems.push({ format: fp.format.name, file: manifest, size: bytes.length, digest: createHash('sha256').update(bytes).digest(), digestAlgorithm: 'sha256', sigPath, outputs: [{ path: manifest, content: bytes }, { path: sigPath, content }] });
        for (const file of digested) {
          signatures.push({
            Format: fp.format.name,
            File: file.path,
            Size: file.size,
            DigestAlgorithm: 'sha256',
            Digest: file.digests.get('sha256')!.toString('hex'),
            SignatureFile: sigPath,
            VerifyCommand: fp.format.verifyCommand(dirname(manifest), sigPath, keyPaths, file.path),
          });
        }
      }
      // The format's public key files go with its first entry.
      const keyFiles = await Promise.all(fp.publicKeys.filter((k) => k.write).map(async (k) => ({ path: k.path, content: typeof k.content === 'string' ? k.content : await k.content(signAs) })));
      formatItems[0]!.outputs.unshift(...keyFiles);
      items.push(...formatItems);
    }
    // The public key file goes with the first entry.
    if (plan.writePublicKey) items[0]!.outputs.unshift({ path: plan.publicKeyFile, content: plan.publicPem });
    throwIfCancelled(control, OP);
    const writes = items.flatMap((it) => it.outputs);
    control.progress({ Phase: 'Writing', Done: 0, Total: writes.length });
    const written = await stage(plan.outputs, writes);
    const hashOf = new Map(written.files.map((f) => [f.path, f.sha256]));
    for (const it of items) {
      await appendAudit(
        tx,
        {
          requestId,
          operation: OP,
          keyId: key.key_id,
          keyVersionId: version.key_version_id,
          details: {
            Format: it.format,
            ...(it.format === 'raw' ? { Algorithm: plan.algorithm } : {}),
            File: it.file,
            Size: it.size,
            Digest: it.digest.toString('hex'),
            ...(it.digestAlgorithm ? { DigestAlgorithm: it.digestAlgorithm } : {}),
            SignatureFile: it.sigPath,
            OutputFiles: outputFilesDetail(it.outputs.map((o) => ({ path: o.path, sha256: hashOf.get(resolve(o.path))! }))),
          },
        },
        time,
      );
    }
    const publicKeyFiles = [...(plan.raw ? [plan.publicKeyFile] : []), ...plan.formats.flatMap((f) => f.publicKeys.map((k) => k.path))];
    const out: OperationOutput<'SignFile'> = {
      KeyId: key.key_id,
      KeyVersionId: version.key_version_id,
      Algorithm: plan.algorithm,
      Signatures: signatures,
      PublicKeyFile: plan.publicKeyFile,
      PublicKeyFiles: publicKeyFiles,
    };
    if (plan.manifest) {
      out.Manifest = plan.manifest;
      out.ManifestSignatureFile = plan.raw ? `${plan.manifest}.sig` : join(dirname(plan.manifest), plan.formats.find((f) => f.format.kind === 'manifest')!.format.signatureName(basename(plan.manifest)));
    }
    return out;
  });
  return { out, staged: staged[0]! };
}

export async function signFiles(kms: KmsContext, input: OperationInput<'SignFile'>, requestId: string, control: OperationControl): Promise<OperationOutput<'SignFile'>> {
  throwIfCancelled(control, OP);
  const plan = await planSigning(kms, input, requestId);
  const digests = await hashFiles(plan, control);
  const { out, staged } = await signAndRecord(kms, input, requestId, plan, digests, control);
  await publishRecorded(kms, staged, { requestId, operation: OP, keyId: out.KeyId, keyVersionId: out.KeyVersionId });
  control.progress({ Phase: 'Writing', Done: staged.files.length, Total: staged.files.length });
  return { ...out, ...staleReport(plan.outputs) };
}
