/**
 * The BYOK wizard's state, kept across the steps (and across a visit to the Tokens screen to log
 * in): what the cloud takes, the import parameters the connected side copied over and their check,
 * the key whose material leaves, and what was written. Only public things are ever here: the
 * cloud's public key, the token it hands out, KeyIds, fingerprints, file names and hashes; the
 * material is wrapped in the main process (inside the token for HSM keys). Everything is
 * forgotten when the keystore locks.
 *
 * Whatever a later step relied on is dropped when an earlier choice changes: a new algorithm makes
 * the check stale, a new key spec makes the chosen key wrong. So "Next" never carries a stale check.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { call, type Output } from '../../client/keyroom';
import type { CheckedImportParameters, KeyMetadata, RehearsalParameters, RehearsalVerdict, WrappedKeyMaterial } from '../../../../src-shared/contract/types';
import { KEY_SPEC_INFO, defaultKeyUsage, isAsymmetric, type KeySpec, type KeyUsage } from '../../../../src-shared/domain/keySpecs';
import {
  BYOK_TARGET_NAMES,
  byokKeySpecs,
  byokRow,
  byokRowsFor,
  type ByokRow,
  type ByokTarget,
  type Sm2CiphertextEncoding,
  type WrappingKeySpec,
} from '../../../../src-shared/domain/byokTargets';
import { useKeystoreStore } from '../../stores/keystore';
import { useKeysStore } from '../../stores/keys';

/** Where the material comes from: new in the token, new in the keystore, or a key made before. */
export type KeySource = 'hsm' | 'software' | 'existing';

export const BYOK_STEPS = [
  { key: 'target', title: 'Cloud and key spec' },
  { key: 'parameters', title: 'Import parameters' },
  { key: 'source', title: 'Key source' },
  { key: 'review', title: 'Review', kind: 'review' },
  { key: 'result', title: 'Result', kind: 'result' },
] as const;

export const useByokStore = defineStore('byok', () => {
  const step = ref(0);

  // ---- step 1: the cloud and the key spec ----
  const target = ref<ByokTarget | null>(null);
  const keySpec = ref<KeySpec | null>(null);
  const keySpecChoices = computed<KeySpec[]>(() => (target.value ? byokKeySpecs(target.value) : []));

  // ---- step 2: the import parameters ----
  /** One row per wrapping algorithm that carries this key spec to this cloud. */
  const rows = computed<ByokRow[]>(() => (target.value && keySpec.value ? byokRowsFor(target.value, keySpec.value) : []));
  const algorithm = ref('');
  const row = computed<ByokRow | undefined>(() =>
    target.value && keySpec.value && algorithm.value ? byokRow(target.value, algorithm.value, keySpec.value) : undefined,
  );
  const wrappingKeySpec = ref<WrappingKeySpec | null>(null);
  const publicKey = ref('');
  const importToken = ref('');
  const tokenExpireTime = ref('');
  const cloudKeyId = ref('');
  const kekId = ref('');
  const sm2Encoding = ref<Sm2CiphertextEncoding>('DER');
  const base64UrlPadding = ref(false);
  const rehearsal = ref(false);
  const standIn = ref<RehearsalParameters | null>(null);
  const checked = ref<CheckedImportParameters | null>(null);

  const isAzure = computed(() => target.value === 'AZURE');
  /** Whether the row leaves the SM2 ciphertext encoding as a setting (DER SM2Cipher or raw C1C3C2). */
  const hasSm2Setting = computed(() => row.value?.sm2Encoding !== undefined);

  // ---- step 3: the key ----
  const source = ref<KeySource>('software');
  const usage = ref<KeyUsage>('ENCRYPT/DECRYPT');
  const description = ref('');
  /** The key whose material will be wrapped: made in step 3, or chosen there. */
  const key = ref<KeyMetadata | null>(null);

  // ---- steps 4 and 5 ----
  const outputDir = ref('');
  const result = ref<Output<'WrapKeyMaterial'> | null>(null);
  const verdict = ref<RehearsalVerdict | null>(null);

  const usageChoices = computed<readonly KeyUsage[]>(() => (keySpec.value ? KEY_SPEC_INFO[keySpec.value].usages : []));
  const asymmetric = computed(() => (keySpec.value ? isAsymmetric(keySpec.value) : false));

  /** What a new key's description says by default: the cloud and the cloud's key id. */
  function defaultDescription(): string {
    if (!target.value) return '';
    const id = cloudKeyId.value.trim();
    return `BYOK for ${BYOK_TARGET_NAMES[target.value]}${id ? ` key ${id}` : ''}${rehearsal.value ? ' (rehearsal)' : ''}`;
  }
  const descriptionEdited = ref(false);

  // ---- keeping later steps honest when earlier choices change ----
  watch(target, () => {
    if (keySpec.value && !keySpecChoices.value.includes(keySpec.value)) keySpec.value = null;
  });
  watch([target, keySpec], () => {
    if (!rows.value.some((r) => r.algorithm === algorithm.value)) algorithm.value = rows.value[0]?.algorithm ?? '';
    if (key.value && key.value.KeySpec !== keySpec.value) key.value = null;
    if (keySpec.value && !usageChoices.value.includes(usage.value)) usage.value = defaultKeyUsage(keySpec.value);
    checked.value = null;
  });
  watch(row, (r) => {
    const specs = r?.wrappingKeySpecs ?? [];
    if (!wrappingKeySpec.value || !specs.includes(wrappingKeySpec.value)) wrappingKeySpec.value = specs[0] ?? null;
    sm2Encoding.value = r?.sm2Encoding ?? 'DER';
  });
  // A stand-in cloud is for one target, algorithm and wrapping key: another choice needs another.
  watch([target, keySpec, algorithm, wrappingKeySpec], () => {
    if (standIn.value) forgetStandIn();
  });
  watch([publicKey, tokenExpireTime], () => {
    checked.value = null;
  });
  watch(rehearsal, (on) => {
    if (!on && standIn.value) forgetStandIn();
  });
  watch([target, cloudKeyId, rehearsal], () => {
    if (!descriptionEdited.value) description.value = defaultDescription();
  });

  function forgetStandIn(): void {
    standIn.value = null;
    publicKey.value = '';
    importToken.value = '';
    tokenExpireTime.value = '';
    cloudKeyId.value = '';
    kekId.value = '';
    checked.value = null;
  }

  // ---- calls ----
  async function check(): Promise<CheckedImportParameters> {
    if (!target.value || !keySpec.value) throw new Error('Choose the cloud and the key spec first.');
    checked.value = null;
    const expiry = tokenExpireTime.value.trim();
    const answer = await call('CheckImportParameters', {
      Target: target.value,
      WrappingAlgorithm: algorithm.value,
      KeySpec: keySpec.value,
      PublicKey: publicKey.value,
      ...(wrappingKeySpec.value ? { WrappingKeySpec: wrappingKeySpec.value } : {}),
      ...(expiry ? { TokenExpireTime: expiry } : {}),
    });
    checked.value = answer;
    return answer;
  }

  /** Keyroom plays the cloud: a stand-in key pair and token, filled into the fields. */
  async function prepareRehearsal(): Promise<RehearsalParameters> {
    if (!target.value || !keySpec.value || !algorithm.value) throw new Error('Choose the wrapping algorithm first.');
    const answer = await call('PrepareRehearsal', {
      Target: target.value,
      WrappingAlgorithm: algorithm.value,
      KeySpec: keySpec.value,
      ...(wrappingKeySpec.value ? { WrappingKeySpec: wrappingKeySpec.value } : {}),
    });
    publicKey.value = answer.PublicKey;
    importToken.value = answer.ImportToken ?? '';
    tokenExpireTime.value = answer.TokenExpireTime ?? '';
    cloudKeyId.value = answer.CloudKeyId;
    kekId.value = answer.KeyEncryptionKeyId ?? '';
    // After the fields, whose watchers drop any check: this stand-in is the current one.
    standIn.value = answer;
    return answer;
  }

  /** Keys whose material may leave (Exportable), usable now (Enabled), of the key spec chosen. */
  async function exportableKeys(): Promise<KeyMetadata[]> {
    const keys = useKeysStore();
    await keys.loadList();
    return keys.list.map((k) => k.metadata).filter((m) => m.Exportable && m.KeyState === 'Enabled' && m.KeySpec === keySpec.value);
  }

  async function createKey(operationId: string): Promise<KeyMetadata> {
    if (!keySpec.value || source.value === 'existing') throw new Error('Choose where to generate the key.');
    const created = await useKeysStore().createKey(
      {
        KeySpec: keySpec.value,
        KeyUsage: usage.value,
        ProtectionLevel: source.value === 'hsm' ? 'HSM' : 'SOFTWARE',
        Origin: 'Aliyun_KMS',
        Description: description.value.trim(),
        Exportable: true,
      },
      operationId,
    );
    key.value = created.KeyMetadata;
    return created.KeyMetadata;
  }

  async function wrap(): Promise<WrappedKeyMaterial> {
    if (!target.value || !key.value || !checked.value) throw new Error('The wizard is not complete.');
    const token = importToken.value;
    const expiry = tokenExpireTime.value.trim();
    const cloudId = cloudKeyId.value.trim();
    const kek = kekId.value.trim();
    result.value = null;
    verdict.value = null;
    const answer = await call('WrapKeyMaterial', {
      KeyId: key.value.KeyId,
      Target: target.value,
      WrappingAlgorithm: algorithm.value,
      WrappingKeySpec: checked.value.WrappingKeySpec,
      PublicKey: publicKey.value,
      // The token is carried through untouched: the cloud checks it, byte for byte.
      ...(token.trim() ? { ImportToken: token } : {}),
      ...(expiry ? { TokenExpireTime: expiry } : {}),
      ...(cloudId ? { CloudKeyId: cloudId } : {}),
      ...(isAzure.value && kek ? { KeyEncryptionKeyId: kek } : {}),
      ...(hasSm2Setting.value ? { Sm2CiphertextEncoding: sm2Encoding.value } : {}),
      ...(isAzure.value ? { Base64UrlPadding: base64UrlPadding.value } : {}),
      OutputDir: outputDir.value.trim(),
    });
    result.value = answer;
    return answer;
  }

  async function checkRehearsal(): Promise<RehearsalVerdict> {
    if (!standIn.value || !result.value) throw new Error('There is no rehearsal output to check.');
    verdict.value = null;
    const dir = outputDir.value.trim();
    const answer = await call('CheckRehearsal', { RehearsalId: standIn.value.RehearsalId, OutputDir: dir });
    verdict.value = answer;
    return answer;
  }

  function reset(): void {
    step.value = 0;
    target.value = null;
    keySpec.value = null;
    algorithm.value = '';
    wrappingKeySpec.value = null;
    publicKey.value = '';
    importToken.value = '';
    tokenExpireTime.value = '';
    cloudKeyId.value = '';
    kekId.value = '';
    sm2Encoding.value = 'DER';
    base64UrlPadding.value = false;
    rehearsal.value = false;
    standIn.value = null;
    checked.value = null;
    source.value = 'software';
    usage.value = 'ENCRYPT/DECRYPT';
    description.value = '';
    descriptionEdited.value = false;
    key.value = null;
    outputDir.value = useKeystoreStore().folder;
    result.value = null;
    verdict.value = null;
  }
  reset();
  useKeystoreStore().onLocked(reset);

  /** Whether the current step is complete enough to go on. */
  const canAdvance = computed(() => {
    switch (step.value) {
      case 0:
        return target.value !== null && keySpec.value !== null;
      case 1:
        return (
          checked.value !== null &&
          row.value !== undefined &&
          (!isAzure.value || kekId.value.trim() !== '') &&
          (!rehearsal.value || standIn.value !== null)
        );
      case 2:
        return key.value !== null && key.value.KeySpec === keySpec.value;
      default:
        return false;
    }
  });

  return {
    step,
    target,
    keySpec,
    keySpecChoices,
    rows,
    algorithm,
    row,
    wrappingKeySpec,
    publicKey,
    importToken,
    tokenExpireTime,
    cloudKeyId,
    kekId,
    sm2Encoding,
    base64UrlPadding,
    rehearsal,
    standIn,
    checked,
    isAzure,
    hasSm2Setting,
    source,
    usage,
    usageChoices,
    asymmetric,
    description,
    descriptionEdited,
    key,
    outputDir,
    result,
    verdict,
    canAdvance,
    check,
    prepareRehearsal,
    exportableKeys,
    createKey,
    wrap,
    checkRehearsal,
    reset,
  };
});
