/**
 * The keys the keystore holds, as the Keys screens show them: the list (metadata joined with
 * aliases) and the one key open on its page (versions, aliases, public keys). Every change goes
 * through here and re-reads what it changed from the keystore, so the screen never shows a state
 * the keystore does not have. Everything is forgotten when the keystore locks.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call, newOperationId, type Input, type Output } from '../client/keyroom';
import type { AliasEntry, KeyMetadata, KeyVersion } from '../../../src-shared/contract/types';
import { useKeystoreStore } from './keystore';

/** One row of the Keys table: a key's metadata and the aliases that name it. */
export interface KeyListEntry {
  metadata: KeyMetadata;
  aliases: string[];
}

/** The key open on its page. */
export interface KeyDetail {
  metadata: KeyMetadata;
  /** Newest first, as ListKeyVersions answers. */
  versions: KeyVersion[];
  aliases: AliasEntry[];
}

/** The contract's page size limit: fewer round trips for the whole list. */
const PAGE_SIZE = 100;
/** DescribeKey calls in flight at once while loading the list. */
const DESCRIBE_CONCURRENCY = 8;

/** Every page of a paged operation, concatenated. */
async function allPages<T>(fetchPage: (pageNumber: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page += 1) {
    const answer = await fetchPage(page);
    items.push(...answer.items);
    if (answer.items.length === 0 || items.length >= answer.total) return items;
  }
}

/** `work` over `inputs` with at most `limit` running at once; results in input order. */
async function mapBounded<I, O>(inputs: readonly I[], limit: number, work: (input: I) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next;
      next += 1;
      results[index] = await work(inputs[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return results;
}

export async function listAllAliases(): Promise<AliasEntry[]> {
  return allPages(async (PageNumber) => {
    const r = await call('ListAliases', { PageNumber, PageSize: PAGE_SIZE });
    return { items: r.Aliases.Alias, total: r.TotalCount };
  });
}

export const useKeysStore = defineStore('keys', () => {
  const list = ref<KeyListEntry[]>([]);
  /** True once the list has been read since the keystore was opened. */
  const listLoaded = ref(false);
  const detail = ref<KeyDetail | null>(null);
  /** PEM per KeyVersionId of the key open on its page (asymmetric keys only). */
  const publicKeys = ref<Record<string, string>>({});

  /**
   * Read every key: ListKeys answers only KeyIds, so all its pages, then DescribeKey for each
   * (8 at a time), then every alias joined by KeyId. Thousands of calls would be slow, but a
   * ceremony keystore holds tens of keys, and each call is a local lookup.
   */
  async function loadList(): Promise<void> {
    const ids = await allPages(async (PageNumber) => {
      const r = await call('ListKeys', { PageNumber, PageSize: PAGE_SIZE });
      return { items: r.Keys.Key.map((k) => k.KeyId), total: r.TotalCount };
    });
    const metadata = await mapBounded(ids, DESCRIBE_CONCURRENCY, async (KeyId) => (await call('DescribeKey', { KeyId })).KeyMetadata);
    const aliasesByKey = new Map<string, string[]>();
    for (const a of await listAllAliases()) {
      const names = aliasesByKey.get(a.KeyId) ?? [];
      names.push(a.AliasName);
      aliasesByKey.set(a.KeyId, names);
    }
    list.value = metadata.map((m) => ({ metadata: m, aliases: (aliasesByKey.get(m.KeyId) ?? []).sort() }));
    listLoaded.value = true;
  }

  /** Read one key's page: metadata, all versions, all aliases, and public keys when asymmetric. */
  async function loadDetail(keyId: string): Promise<void> {
    const [described, versions, aliases] = await Promise.all([
      call('DescribeKey', { KeyId: keyId }),
      allPages(async (PageNumber) => {
        const r = await call('ListKeyVersions', { KeyId: keyId, PageNumber, PageSize: PAGE_SIZE });
        return { items: r.KeyVersions.KeyVersion, total: r.TotalCount };
      }),
      allPages(async (PageNumber) => {
        const r = await call('ListAliasesByKeyId', { KeyId: keyId, PageNumber, PageSize: PAGE_SIZE });
        return { items: r.Aliases.Alias, total: r.TotalCount };
      }),
    ]);
    if (detail.value?.metadata.KeyId !== described.KeyMetadata.KeyId) publicKeys.value = {};
    detail.value = { metadata: described.KeyMetadata, versions, aliases: [...aliases].sort((a, b) => a.AliasName.localeCompare(b.AliasName)) };
    // Keep the list in step with what the page now knows, so going back shows the same truth.
    const row = list.value.find((r) => r.metadata.KeyId === described.KeyMetadata.KeyId);
    if (row) {
      row.metadata = described.KeyMetadata;
      row.aliases = detail.value.aliases.map((a) => a.AliasName);
    }
  }

  async function loadPublicKey(keyId: string, keyVersionId: string): Promise<string> {
    const known = publicKeys.value[keyVersionId];
    if (known) return known;
    const r = await call('GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId });
    publicKeys.value = { ...publicKeys.value, [keyVersionId]: r.PublicKey };
    return r.PublicKey;
  }

  /** Run a change to one key, then re-read the key (and the list, if it has been read). */
  async function changeKey<T>(keyId: string, change: () => Promise<T>): Promise<T> {
    const result = await change();
    await loadDetail(keyId);
    return result;
  }

  async function createKey(input: Omit<Input<'CreateKey'>, 'OperationId'>, operationId = newOperationId()): Promise<Output<'CreateKey'>> {
    const created = await call('CreateKey', { ...input, OperationId: operationId });
    if (listLoaded.value) list.value = [...list.value, { metadata: created.KeyMetadata, aliases: [] }];
    return created;
  }

  const enableKey = (KeyId: string) => changeKey(KeyId, () => call('EnableKey', { KeyId }));
  const disableKey = (KeyId: string) => changeKey(KeyId, () => call('DisableKey', { KeyId }));
  const scheduleDeletion = (KeyId: string, PendingWindowInDays: number) =>
    changeKey(KeyId, () => call('ScheduleKeyDeletion', { KeyId, PendingWindowInDays }));
  const cancelDeletion = (KeyId: string) => changeKey(KeyId, () => call('CancelKeyDeletion', { KeyId }));
  const updateDescription = (KeyId: string, Description: string) => changeKey(KeyId, () => call('UpdateKeyDescription', { KeyId, Description }));
  const updateRotationPolicy = (KeyId: string, EnableAutomaticRotation: boolean, RotationInterval?: string) =>
    changeKey(KeyId, () => call('UpdateRotationPolicy', { KeyId, EnableAutomaticRotation, ...(RotationInterval ? { RotationInterval } : {}) }));
  const createVersion = (KeyId: string) => changeKey(KeyId, () => call('CreateKeyVersion', { KeyId }));
  const createAlias = (KeyId: string, AliasName: string) => changeKey(KeyId, () => call('CreateAlias', { KeyId, AliasName }));
  const deleteAlias = (KeyId: string, AliasName: string) => changeKey(KeyId, () => call('DeleteAlias', { AliasName }));

  /** Point an alias of the open key at another key; the list is re-read, since two keys changed. */
  async function updateAlias(fromKeyId: string, AliasName: string, toKeyId: string): Promise<void> {
    await call('UpdateAlias', { AliasName, KeyId: toKeyId });
    await loadDetail(fromKeyId);
    if (listLoaded.value) await loadList();
  }

  function exportPublicKey(KeyId: string, KeyVersionId: string, OutputFile: string): Promise<Output<'ExportPublicKey'>> {
    return call('ExportPublicKey', { KeyId, KeyVersionId, OutputFile });
  }

  function forget(): void {
    list.value = [];
    listLoaded.value = false;
    detail.value = null;
    publicKeys.value = {};
  }
  useKeystoreStore().onLocked(forget);

  return {
    list,
    listLoaded,
    detail,
    publicKeys,
    loadList,
    loadDetail,
    loadPublicKey,
    createKey,
    enableKey,
    disableKey,
    scheduleDeletion,
    cancelDeletion,
    updateDescription,
    updateRotationPolicy,
    createVersion,
    createAlias,
    updateAlias,
    deleteAlias,
    exportPublicKey,
  };
});
