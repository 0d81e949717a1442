/**
 * What SignFile needs to know about a release-signature format (spec/signatures.md): which key
 * specs it takes, which digests of each file it needs (SignFile reads each file once and feeds
 * every digest any chosen format needs), what it asks the key to sign, which files it writes
 * (a signature per input file or one signed manifest, and its public key files once), and the
 * command that verifies each signature. Formats hold no key: they get a `KeySigner`.
 */
import type { KeySpec } from '../../../../../src-shared/domain/keySpecs';
import type { Hash } from 'node:crypto';
import type { BackendSigningAlgorithm } from '../../../../backends/backend';
import type { ByteSink } from '../../../../files/readFile';

import type { SignatureFormatName } from '../../../../../src-shared/domain/signatureFormats';

export type FormatName = SignatureFormatName;

/** The digests a format may ask of each file, all computed in the one read of the file. */
export type FileDigestName = 'sha256' | 'sha512' | 'blake2b512';

/** The key as the formats see it: its id, spec and public key, never its secret. */
export interface FormatKey {
  keyId: string;
  spec: KeySpec;
  spki: Buffer;
  /** The key version's creation (OpenPGP's key packet carries it); absent for a PEM from outside. */
  created?: Date;
}

export interface FormatOptions {
  /** SSHSIG namespace (`file` unless --SshNamespace). */
  sshNamespace: string;
  /** When the signatures are made (minisign's trusted comment). */
  time: Date;
  /** OpenPGP's User ID (`Name <email>`), required with openpgp. */
  openPgpUserId?: string;
}

/**
 * A format's own running state over a file, fed in the same single read as the digests: OpenPGP
 * hashes the file then its trailer, JWS the header prefix then the file, so a final digest is not
 * enough. `hash` is a running hash; `message` the bytes themselves (EdDSA JWS, size-capped).
 */
export interface FileState extends ByteSink {
  hash?: Hash;
  message?(): Buffer;
}

/** Ask the key to sign `input` (a digest, or for ED25519 the message itself). */
export type KeySigner = (algorithm: BackendSigningAlgorithm, input: Buffer) => Promise<Buffer>;

/** A file to sign and its digests. */
export interface DigestedFile {
  path: string;
  size: number;
  digests: ReadonlyMap<FileDigestName, Buffer>;
  /** The states of the formats that asked for one (`fileState`). */
  states: ReadonlyMap<FormatName, FileState>;
}

export interface SignedOutput {
  content: Buffer | string;
  /** What the audit entry names as the signed file's digest. */
  digest: { algorithm: FileDigestName; value: Buffer };
  /** Files beside the signature (cosign's `.sig.b64`), in companionNames() order. */
  companions?: (Buffer | string)[];
}

export interface PublicKeyFile {
  /** File name, in the output folder. */
  name: string;
  /** The text, or (OpenPGP's self-certified key) made by the key when the signatures are. */
  content: string | ((signer: KeySigner) => Promise<string>);
  /** For made-later content: whether an existing file already holds this key (kept, not rewritten). */
  holdsKey?(existing: string): boolean;
}

interface FormatBase {
  name: FormatName;
  accepts(spec: KeySpec): boolean;
  fileDigests(spec: KeySpec): readonly FileDigestName[];
  publicKeyFiles(key: FormatKey, options: FormatOptions): PublicKeyFile[];
  /** A state fed with the file's bytes (for VerifyFile, `signature` is the signature read). */
  fileState?(key: FormatKey, signature?: Buffer): FileState;
}

/** One signature file beside each input file. */
export interface PerFileFormat extends FormatBase {
  kind: 'per-file';
  /** The signature file's name for an input file named `base`. */
  signatureName(base: string): string;
  /** Other files written beside each signature (cosign's `f.sig.b64`). */
  companionNames?(base: string): string[];
  sign(key: FormatKey, options: FormatOptions, file: DigestedFile, signer: KeySigner): Promise<SignedOutput>;
  /** `publicKeyPaths` are the paths of publicKeyFiles(), in the same order. */
  verifyCommand(key: FormatKey, options: FormatOptions, file: string, signaturePath: string, publicKeyPaths: readonly string[]): string;
  /**
   * VerifyFile: whether `signature` (the signature file's bytes) is this key's valid signature over
   * the file whose digests are given, read as strictly as the reference verifier reads it.
   */
  verify(key: FormatKey, options: Omit<FormatOptions, 'time'>, signature: Buffer, digests: ReadonlyMap<FileDigestName, Buffer>, state?: FileState): boolean;
}

/** One signed manifest naming every input file (signify: pure Ed25519 must see the whole message). */
export interface ManifestFormat extends FormatBase {
  kind: 'manifest';
  /** The manifest's bytes, with each file named relative to the manifest's folder. */
  manifest(manifestPath: string, files: readonly DigestedFile[]): Buffer;
  signatureName(manifestBase: string): string;
  signManifest(key: FormatKey, manifest: Buffer, signer: KeySigner): Promise<Buffer>;
  verifyCommand(manifestDir: string, signaturePath: string, publicKeyPaths: readonly string[], file: string): string;
  /**
   * VerifyFile: whether the signed manifest in `signature` is this key's and lists `name` (the
   * file's path from the manifest's folder) with this SHA-256.
   */
  verify(key: FormatKey, signature: Buffer, name: string, sha256: Buffer): boolean;
}

export type SignatureFormat = PerFileFormat | ManifestFormat;
