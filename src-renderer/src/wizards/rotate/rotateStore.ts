/**
 * The rotation wizard's state, kept across its steps: the alias and the key it names now (with
 * the alias's history), what becomes of the previous key, RotateAlias's answer, then, for an
 * EXTERNAL key, the import parameters of its successor, and, for a symmetric key, the files
 * re-encrypted under it. Only public things are here: KeyIds, metadata, the wrapping PUBLIC key and
 * import token, file paths and hashes. The wrapped key material is pasted into the import step's
 * own field and sent from there. Everything is forgotten when the keystore locks.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { call, type Output } from '../../client/keyroom';
import { KmsError } from '../../../../src-shared/errors';
import { isAsymmetric, type KeyState } from '../../../../src-shared/domain/keySpecs';
import type { AliasEntry, KeyMetadata } from '../../../../src-shared/contract/types';
import { listAllAliases } from '../../stores/keys';
import { useKeystoreStore } from '../../stores/keystore';

export const ROTATE_STEPS = [
  { key: 'alias', title: 'Alias' },
  { key: 'options', title: 'The previous key' },
  { key: 'review', title: 'Review', kind: 'review' },
  { key: 'result', title: 'Result', kind: 'result' },
  { key: 'reencrypt', title: 'Re-encrypt files (optional)', kind: 'result' },
] as const;
export type RotateStepKey = (typeof ROTATE_STEPS)[number]['key'];
export const stepIndex = (key: RotateStepKey): number => ROTATE_STEPS.findIndex((s) => s.key === key);

/** What RotateAlias leaves the previous key as. */
export type PreviousKeyFate = 'keep' | 'disable' | 'delete';

/** The states RotateAlias rotates from (a key already on its way out is not rotated from). */
export const ROTATABLE_STATES: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingImport'];

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'] as const;
export type ImportWrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];
export const WRAPPING_ALGORITHM_WORDS: Readonly<Record<ImportWrappingAlgorithm, string>> = {
  RSAES_OAEP_SHA_256: 'OAEP with SHA-256 (recommended)',
  RSAES_OAEP_SHA_1: 'OAEP with SHA-1',
  RSAES_PKCS1_V1_5: 'PKCS #1 v1.5 (legacy)',
};

export type AliasHistoryEntry = Output<'GetAliasHistory'>['History'][number];

/** Whether ciphertext made under keys like this one can be re-encrypted (symmetric ENCRYPT/DECRYPT). */
export function canReEncrypt(m: KeyMetadata): boolean {
  return !isAsymmetric(m.KeySpec) && m.KeyUsage === 'ENCRYPT/DECRYPT';
}

export interface FileRow {
  id: number;
  path: string;
}

export const useRotateStore = defineStore('rotate', () => {
  const keystore = useKeystoreStore();
  const step = ref(0);

  // ---- step 1: the alias ----
  const aliases = ref<AliasEntry[]>([]);
  const aliasName = ref('');
  /** The key the chosen alias names now, and the alias's history, as last read. */
  const current = ref<KeyMetadata | null>(null);
  const history = ref<AliasHistoryEntry[]>([]);

  async function loadAliases(): Promise<void> {
    aliases.value = (await listAllAliases()).sort((a, b) => a.AliasName.localeCompare(b.AliasName));
    if (aliasName.value && !aliases.value.some((a) => a.AliasName === aliasName.value)) chooseNone();
  }
  function chooseNone(): void {
    aliasName.value = '';
    current.value = null;
    history.value = [];
  }
  /** Read the key the alias names and the alias's history. */
  async function loadAlias(name: string): Promise<void> {
    current.value = null;
    history.value = [];
    aliasName.value = name;
    if (!name) return;
    const [described, h] = await Promise.all([call('DescribeKey', { KeyId: name }), call('GetAliasHistory', { AliasName: name })]);
    if (aliasName.value !== name) return; // another alias was chosen meanwhile
    current.value = described.KeyMetadata;
    history.value = h.History;
  }
  const rotatable = computed(() => current.value !== null && ROTATABLE_STATES.includes(current.value.KeyState));

  // ---- step 2: the previous key ----
  const fate = ref<PreviousKeyFate>('keep');
  const deletionDays = ref(30);
  const description = ref('');
  const daysProblem = computed(() =>
    fate.value === 'delete' && (!Number.isInteger(deletionDays.value) || deletionDays.value < 7 || deletionDays.value > 30) ? 'Choose 7 to 30 days.' : null,
  );

  const canAdvance = computed(() => {
    switch (ROTATE_STEPS[step.value]?.key) {
      case 'alias':
        return rotatable.value;
      case 'options':
        return daysProblem.value === null && description.value.length <= 8192;
      default:
        return false;
    }
  });

  // ---- step 3 and 4: the rotation ----
  const result = ref<Output<'RotateAlias'> | null>(null);
  /** The new key's metadata as last read (after an import it is Enabled). */
  const newKey = ref<KeyMetadata | null>(null);

  async function rotate(): Promise<void> {
    if (!current.value || !aliasName.value) throw new KmsError('MissingParameter', 'Choose the alias first.');
    const r = await call('RotateAlias', {
      AliasName: aliasName.value,
      ...(fate.value === 'disable' ? { DisablePrevious: true } : {}),
      ...(fate.value === 'delete' ? { SchedulePreviousDeletionInDays: deletionDays.value } : {}),
      ...(description.value.trim() ? { Description: description.value.trim() } : {}),
    });
    result.value = r;
    newKey.value = r.KeyMetadata;
  }

  // ---- step 4, EXTERNAL keys: the import of the new key's material ----
  const wrappingAlgorithm = ref<ImportWrappingAlgorithm>('RSAES_OAEP_SHA_256');
  const importParameters = ref<Output<'GetParametersForImport'> | null>(null);
  /** The algorithm the parameters were asked for (the token binds it). */
  const importParametersAlgorithm = ref<ImportWrappingAlgorithm | null>(null);
  const imported = ref(false);

  async function getImportParameters(): Promise<void> {
    if (!newKey.value) throw new KmsError('MissingParameter', 'Rotate first.');
    const algorithm = wrappingAlgorithm.value;
    importParameters.value = null;
    importParameters.value = await call('GetParametersForImport', { KeyId: newKey.value.KeyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' });
    importParametersAlgorithm.value = algorithm;
  }

  /** ImportKeyMaterial, then the key read again (Enabled). The wrapped material is not kept here. */
  async function importMaterial(encryptedKeyMaterial: string, keyMaterialExpireUnix: number): Promise<void> {
    if (!newKey.value || !importParameters.value) throw new KmsError('MissingParameter', 'Get the import parameters first.');
    await call('ImportKeyMaterial', {
      KeyId: newKey.value.KeyId,
      EncryptedKeyMaterial: encryptedKeyMaterial,
      ImportToken: importParameters.value.ImportToken,
      KeyMaterialExpireUnix: keyMaterialExpireUnix,
    });
    imported.value = true;
    newKey.value = (await call('DescribeKey', { KeyId: newKey.value.KeyId })).KeyMetadata;
  }

  // ---- step 5: re-encryption ----
  let nextRowId = 1;
  const files = ref<FileRow[]>([{ id: nextRowId++, path: '' }]);
  const reEncrypted = ref<Output<'ReEncryptFiles'> | null>(null);
  function addFile(): void {
    files.value = [...files.value, { id: nextRowId++, path: '' }];
  }
  function removeFile(id: number): void {
    files.value = files.value.filter((f) => f.id !== id);
    if (files.value.length === 0) addFile();
  }
  const filePaths = computed(() => files.value.map((f) => f.path.trim()).filter((p) => p !== ''));
  const duplicatePaths = computed(() => filePaths.value.filter((p, i) => filePaths.value.indexOf(p) !== i));
  const offerReEncryption = computed(() => newKey.value !== null && canReEncrypt(newKey.value) && newKey.value.KeyState === 'Enabled');

  async function reEncrypt(operationId: string): Promise<void> {
    if (!newKey.value) throw new KmsError('MissingParameter', 'Rotate first.');
    if (filePaths.value.length === 0) throw new KmsError('MissingParameter', 'Give at least one file.');
    reEncrypted.value = null;
    reEncrypted.value = await call('ReEncryptFiles', { File: filePaths.value, DestinationKeyId: newKey.value.KeyId, OperationId: operationId });
  }

  function reset(): void {
    step.value = 0;
    aliases.value = [];
    chooseNone();
    fate.value = 'keep';
    deletionDays.value = 30;
    description.value = '';
    result.value = null;
    newKey.value = null;
    wrappingAlgorithm.value = 'RSAES_OAEP_SHA_256';
    importParameters.value = null;
    importParametersAlgorithm.value = null;
    imported.value = false;
    files.value = [{ id: nextRowId++, path: '' }];
    reEncrypted.value = null;
  }
  keystore.onLocked(reset);

  return {
    step,
    aliases,
    aliasName,
    current,
    history,
    loadAliases,
    loadAlias,
    rotatable,
    fate,
    deletionDays,
    description,
    daysProblem,
    canAdvance,
    result,
    newKey,
    rotate,
    wrappingAlgorithm,
    importParameters,
    importParametersAlgorithm,
    imported,
    getImportParameters,
    importMaterial,
    files,
    reEncrypted,
    addFile,
    removeFile,
    filePaths,
    duplicatePaths,
    offerReEncryption,
    reEncrypt,
    reset,
  };
});
