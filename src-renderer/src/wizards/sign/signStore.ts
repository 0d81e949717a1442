/**
 * The signing wizard's state, kept across its steps (and across a visit to the Tokens screen to
 * log in, or to another screen while a large batch is hashed): the key and signature algorithm,
 * the files as the operator types them, where the outputs go, the call under way with its
 * progress, and what was written. The renderer cannot look at the disk, so paths are checked here
 * only for form (given, absolute, not twice); whether they exist is the main process's answer,
 * shown where it happens. Only public things are ever here: KeyIds, paths, digests, commands.
 * Everything is forgotten when the keystore locks.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { ProgressEvent } from '../../../../src-shared/contract/api';
import { KEY_SPEC_INFO, SIGNING_DIGEST, isAsymmetric, type KeySpec, type SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import { OperationError, call, newOperationId, onProgress, type Input, type Output } from '../../client/keyroom';
import { useKeysStore, type KeyListEntry } from '../../stores/keys';
import { useKeystoreStore } from '../../stores/keystore';

export const SIGN_STEPS = [
  { key: 'key', title: 'Key' },
  { key: 'files', title: 'Files' },
  { key: 'review', title: 'Review', kind: 'review' },
  // Its button signs again after a cancel; while the call runs, Back and the button are disabled.
  { key: 'signing', title: 'Signing', kind: 'review' },
  { key: 'result', title: 'Result', kind: 'result' },
] as const;
export type SignStepKey = (typeof SIGN_STEPS)[number]['key'];
export const stepIndex = (key: SignStepKey): number => SIGN_STEPS.findIndex((s) => s.key === key);

/** The specs a file signing key can have, in the order the create form offers them. */
export const SIGN_KEY_SPECS: readonly KeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K', 'EC_P384', 'EC_SM2'];

/** SM2's distinguishing ID when none is given (GB/T 32918), as the main process uses it. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

/** What each signature algorithm does to a file, for the choice and the review. */
export const ALGORITHM_WORDS: Readonly<Record<SigningAlgorithm, string>> = {
  RSA_PSS_SHA_256: 'RSASSA-PSS with SHA-256 (salt as long as the digest)',
  RSA_PKCS1_SHA_256: 'RSASSA-PKCS1-v1_5 with SHA-256, for verifiers without PSS',
  ECDSA_SHA_256: 'ECDSA with SHA-256',
  ECDSA_SHA_384: 'ECDSA with SHA-384',
  SM2DSA: 'SM2 with SM3 (GB/T 32918), with a distinguishing ID',
  ED25519: 'Ed25519 (RFC 8032) over the whole file, up to 64 MiB',
};

/** The digest each algorithm hashes the files with, as people write it. */
export const DIGEST_NAMES: Readonly<Record<SigningAlgorithm, 'SHA-256' | 'SHA-384' | 'SM3'>> = {
  RSA_PSS_SHA_256: 'SHA-256',
  RSA_PKCS1_SHA_256: 'SHA-256',
  ECDSA_SHA_256: 'SHA-256',
  ECDSA_SHA_384: 'SHA-384',
  SM2DSA: 'SM3',
  // Ed25519 signs the file itself; its manifest lines and the recorded digest are SHA-256.
  ED25519: 'SHA-256',
};

/** The checksum manifest each digest goes into, as `sha256sum -c` and its kin read them. */
export const MANIFEST_FILE_NAMES: Readonly<Record<'sha256' | 'sha384' | 'sm3', string>> = { sha256: 'SHA256SUMS', sha384: 'SHA384SUMS', sm3: 'SM3SUMS' };
const KNOWN_MANIFEST_NAMES: readonly string[] = Object.values(MANIFEST_FILE_NAMES);

export function manifestName(algorithm: SigningAlgorithm): string {
  if (algorithm === 'ED25519') return MANIFEST_FILE_NAMES.sha256;
  const d = SIGNING_DIGEST[algorithm].digest;
  return d === 'sha384' ? MANIFEST_FILE_NAMES.sha384 : d === 'sm3' ? MANIFEST_FILE_NAMES.sm3 : MANIFEST_FILE_NAMES.sha256;
}

/** The algorithm a new key of this spec signs files with by default: the spec's first (PSS for RSA). */
export function defaultSignAlgorithm(spec: KeySpec): SigningAlgorithm {
  return KEY_SPEC_INFO[spec].signingAlgorithms[0]!;
}

/** Whether a key can sign files now: asymmetric, SIGN/VERIFY, Enabled. */
export function canSignFiles(entry: KeyListEntry): boolean {
  const m = entry.metadata;
  return isAsymmetric(m.KeySpec) && m.KeyUsage === 'SIGN/VERIFY' && m.KeyState === 'Enabled';
}

/** An absolute path, POSIX or Windows: the main process's working folder means nothing to an operator. */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** The folder part of a path (without the trailing separator); a path ending in a separator is itself a folder. */
export function folderOf(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '');
  if (trimmed !== p) return trimmed || p.slice(0, 1);
  const cut = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return cut <= 0 ? p.slice(0, cut + 1) || '.' : p.slice(0, cut);
}

export function baseName(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return trimmed.slice(cut + 1);
}

export function joinPath(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith('/') || folder.endsWith('\\') ? `${folder}${name}` : `${folder}${sep}${name}`;
}

/** A word the POSIX shell reads back as itself: bare when it is safe, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The OpenSSL command that checks a detached signature (the main process gives the same per file). */
export function opensslVerifyCommand(algorithm: SigningAlgorithm, publicKeyFile: string, signatureFile: string, file: string, userId: string | undefined): string {
  const digest = { 'SHA-256': '-sha256', 'SHA-384': '-sha384', SM3: '-sm3' }[DIGEST_NAMES[algorithm]];
  const opts =
    algorithm === 'RSA_PSS_SHA_256'
      ? ['-sigopt rsa_padding_mode:pss', '-sigopt rsa_pss_saltlen:-1']
      : algorithm === 'SM2DSA'
        ? [`-sigopt ${shellWord(`distid:${userId ?? SM2_DEFAULT_USER_ID}`)}`]
        : [];
  return ['openssl dgst', digest, `-verify ${shellWord(publicKeyFile)}`, ...opts, `-signature ${shellWord(signatureFile)}`, shellWord(file)].join(' ');
}

export interface PathRow {
  id: number;
  value: string;
}

export const useSignStore = defineStore('sign', () => {
  const keys = useKeysStore();
  const keystore = useKeystoreStore();
  const step = ref(0);

  // ---- step 1: the key, the algorithm, SM2's distinguishing ID ----
  const keySource = ref<'existing' | 'new'>('existing');
  const keyId = ref('');
  /** The keys that can sign files, newest first. */
  const candidates = computed(() =>
    keys.list.filter(canSignFiles).sort((a, b) => b.metadata.CreationDate.localeCompare(a.metadata.CreationDate) || a.metadata.KeyId.localeCompare(b.metadata.KeyId)),
  );
  const key = computed<KeyListEntry | undefined>(() => candidates.value.find((c) => c.metadata.KeyId === keyId.value));
  const spec = computed<KeySpec | undefined>(() => key.value?.metadata.KeySpec);
  const algorithmChoices = computed<SigningAlgorithm[]>(() => (spec.value ? [...KEY_SPEC_INFO[spec.value].signingAlgorithms] : []));
  const algorithm = ref<SigningAlgorithm | ''>('');
  /** A key made in step 1, to say so once it is chosen. */
  const createdKeyId = ref('');
  const userId = ref('');

  watch(spec, (s, old) => {
    if (!s) algorithm.value = '';
    else if (s !== old || !algorithmChoices.value.includes(algorithm.value as SigningAlgorithm)) algorithm.value = defaultSignAlgorithm(s);
  });

  const isSm2 = computed(() => algorithm.value === 'SM2DSA');
  const digestName = computed(() => (algorithm.value ? DIGEST_NAMES[algorithm.value] : ''));
  const userIdError = computed(() => {
    if (!isSm2.value) return null;
    const v = userId.value;
    if (v === '') return null;
    if (v.trim() !== v) return 'The ID is used byte for byte: remove the spaces at its start or end.';
    if (new TextEncoder().encode(v).length > 1024) return 'An SM2 distinguishing ID has at most 1024 characters here.';
    return null;
  });

  async function loadKeys(): Promise<void> {
    await keys.loadList();
    if (keyId.value && !key.value) keyId.value = '';
  }

  const keyReady = computed(
    () => keySource.value === 'existing' && key.value !== undefined && algorithm.value !== '' && algorithmChoices.value.includes(algorithm.value) && userIdError.value === null,
  );

  // ---- step 2: the files and where the outputs go ----
  let nextRowId = 1;
  const fileRows = ref<PathRow[]>([{ id: nextRowId++, value: '' }]);
  const outputDir = ref('');
  const base64 = ref(false);
  const writeManifest = ref(false);
  const manifestPath = ref('');
  /** Typed by the operator: then it is theirs, and no longer follows the first file. */
  const manifestEdited = ref(false);

  function addFile(value = ''): void {
    fileRows.value = [...fileRows.value, { id: nextRowId++, value }];
  }
  function removeFile(id: number): void {
    fileRows.value = fileRows.value.filter((r) => r.id !== id);
    if (fileRows.value.length === 0) addFile();
  }
  /** Several lines pasted into one row: one row each. */
  function pasteFiles(id: number, text: string): boolean {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length < 2) return false;
    const at = fileRows.value.findIndex((r) => r.id === id);
    const rows = [...fileRows.value];
    const replacing = rows[at]?.value.trim() === '' ? 1 : 0;
    rows.splice(at + 1 - replacing, replacing, ...lines.map((value) => ({ id: nextRowId++, value })));
    fileRows.value = rows;
    return true;
  }

  const files = computed(() => fileRows.value.map((r) => r.value.trim()).filter((v) => v !== ''));

  /** The message under each file row (by row id); empty rows are left out. */
  const fileErrors = computed<Record<number, string>>(() => {
    const out: Record<number, string> = {};
    const seen = new Set<string>();
    for (const row of fileRows.value) {
      const v = row.value.trim();
      if (!v) continue;
      if (!isAbsolutePath(v)) out[row.id] = 'Give the full path, from / (the app has no working folder of yours).';
      else if (v.length > 4096) out[row.id] = 'A path has at most 4096 characters.';
      else if (seen.has(v.replace(/[\\/]+$/, ''))) out[row.id] = 'This path is already in the list.';
      seen.add(v.replace(/[\\/]+$/, ''));
    }
    return out;
  });
  const outputDirError = computed(() => {
    const v = outputDir.value.trim();
    if (!v) return null;
    return isAbsolutePath(v) ? null : 'Give the full path of an existing folder, from /.';
  });

  const suggestedManifest = computed(() => {
    const first = files.value[0];
    return first && algorithm.value ? joinPath(folderOf(first), manifestName(algorithm.value)) : '';
  });
  watch([suggestedManifest, step], () => {
    if (!manifestEdited.value) manifestPath.value = suggestedManifest.value;
  });
  // Another algorithm, another digest: a manifest named for the old one takes the new name.
  watch(algorithm, (a) => {
    if (!a || !manifestEdited.value) return;
    const name = baseName(manifestPath.value);
    if (KNOWN_MANIFEST_NAMES.includes(name) && name !== manifestName(a)) manifestPath.value = joinPath(folderOf(manifestPath.value), manifestName(a));
  });
  function editManifest(path: string): void {
    manifestPath.value = path;
    manifestEdited.value = true;
  }
  const manifestError = computed(() => {
    if (!writeManifest.value) return null;
    const v = manifestPath.value.trim();
    if (!v) return 'Give the path of the manifest to write, or leave the box unticked.';
    if (!isAbsolutePath(v)) return 'Give the full path, from /.';
    const name = baseName(v);
    if (algorithm.value && KNOWN_MANIFEST_NAMES.includes(name) && name !== manifestName(algorithm.value)) {
      return `${algorithm.value} hashes with ${digestName.value}, so its manifest is ${manifestName(algorithm.value)}, not ${name}.`;
    }
    return null;
  });

  const filesReady = computed(
    () => files.value.length > 0 && Object.keys(fileErrors.value).length === 0 && outputDirError.value === null && manifestError.value === null,
  );
  const filesBlocker = computed(() => {
    if (filesReady.value) return null;
    if (files.value.length === 0) return 'Give at least one file or folder to go on.';
    const count = Object.keys(fileErrors.value).length + (outputDirError.value ? 1 : 0) + (manifestError.value ? 1 : 0);
    return count === 1 ? 'Fix the entry marked in red above to go on.' : `Fix the ${count} entries marked in red above to go on.`;
  });

  /** Where the public key file goes: the output folder, or beside the first file. */
  const publicKeyFolder = computed(() => outputDir.value.trim() || (files.value[0] ? folderOf(files.value[0]) : ''));

  /** SignFile's input, from the checked fields (OperationId added when it runs). */
  const request = computed<Omit<Input<'SignFile'>, 'OperationId'> | null>(() => {
    if (!keyReady.value || !filesReady.value || !key.value || !algorithm.value) return null;
    const out = outputDir.value.trim();
    return {
      KeyId: key.value.metadata.KeyId,
      Algorithm: algorithm.value,
      File: [...files.value],
      SignatureEncoding: base64.value ? 'base64' : 'raw',
      ...(out ? { OutputDir: out } : {}),
      ...(writeManifest.value ? { Manifest: manifestPath.value.trim() } : {}),
      ...(isSm2.value && userId.value !== '' ? { UserId: userId.value } : {}),
    };
  });

  const canAdvance = computed(() => {
    switch (SIGN_STEPS[step.value]?.key) {
      case 'key':
        return keyReady.value;
      case 'files':
        return filesReady.value;
      default:
        return false;
    }
  });

  // ---- steps 4 and 5: the call, its progress, what was written ----
  const running = ref(false);
  const operationId = ref<string | null>(null);
  const progress = ref<ProgressEvent | null>(null);
  const cancelling = ref(false);
  /** The last refusal, and the step it is shown on (review, or signing for a cancel). */
  const error = ref<unknown>(null);
  const errorStep = ref<SignStepKey | null>(null);
  const result = ref<Output<'SignFile'> | null>(null);
  /** The request as it was signed, for the result (the form may be changed after). */
  const signed = ref<Omit<Input<'SignFile'>, 'OperationId'> | null>(null);

  try {
    onProgress((event) => {
      if (event.OperationId === operationId.value) progress.value = event;
    });
  } catch {
    // A shell without progress events still signs; the bar then just shows work under way.
  }

  /** Which run of the wizard this is: a reset (lock, start over) makes an answer still on its way stale. */
  let generation = 0;

  const cancelled = computed(() => error.value instanceof OperationError && error.value.code === 'Cancelled');

  function clearError(): void {
    error.value = null;
    errorStep.value = null;
  }

  /**
   * Sign: on the signing step with progress; then the result, or back to the review with the
   * refusal (a missing file, an existing .sig, a disabled key), or the cancel said on the signing step.
   */
  async function sign(): Promise<void> {
    if (running.value) return;
    const input = request.value;
    clearError();
    if (!input) {
      error.value = new OperationError('MissingParameter', 'Complete the key and the files first.', 'SignFile');
      errorStep.value = 'review';
      return;
    }
    const id = newOperationId();
    const mine = generation;
    operationId.value = id;
    progress.value = null;
    cancelling.value = false;
    running.value = true;
    step.value = stepIndex('signing');
    try {
      const out = await call('SignFile', { ...input, OperationId: id });
      // Locked (or started over) meanwhile: what was written stays on disk, but not on this screen.
      if (mine !== generation) return;
      result.value = out;
      signed.value = input;
      step.value = stepIndex('result');
    } catch (e) {
      if (mine !== generation) return;
      error.value = e;
      if (e instanceof OperationError && e.code === 'Cancelled') errorStep.value = 'signing';
      else {
        errorStep.value = 'review';
        step.value = stepIndex('review');
      }
    } finally {
      running.value = false;
      operationId.value = null;
      cancelling.value = false;
    }
  }

  async function cancel(): Promise<void> {
    const id = operationId.value;
    if (!id) return;
    cancelling.value = true;
    try {
      await call('CancelOperation', { OperationId: id });
    } catch {
      // Already finished: SignFile answers with the result or its own error.
    }
  }

  function reset(): void {
    generation += 1;
    step.value = 0;
    keySource.value = 'existing';
    keyId.value = '';
    algorithm.value = '';
    createdKeyId.value = '';
    userId.value = '';
    fileRows.value = [{ id: nextRowId++, value: '' }];
    outputDir.value = '';
    base64.value = false;
    writeManifest.value = false;
    manifestEdited.value = false;
    manifestPath.value = '';
    clearError();
    progress.value = null;
    result.value = null;
    signed.value = null;
  }
  keystore.onLocked(reset);

  return {
    step,
    keySource,
    keyId,
    candidates,
    key,
    spec,
    algorithm,
    algorithmChoices,
    createdKeyId,
    userId,
    userIdError,
    isSm2,
    digestName,
    loadKeys,
    keyReady,
    fileRows,
    files,
    fileErrors,
    addFile,
    removeFile,
    pasteFiles,
    outputDir,
    outputDirError,
    base64,
    writeManifest,
    manifestPath,
    manifestEdited,
    suggestedManifest,
    editManifest,
    manifestError,
    filesReady,
    filesBlocker,
    publicKeyFolder,
    request,
    canAdvance,
    running,
    progress,
    cancelling,
    cancelled,
    error,
    errorStep,
    clearError,
    result,
    signed,
    sign,
    cancel,
    reset,
  };
});
