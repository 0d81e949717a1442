/**
 * The audit log as the Audit screen shows it: VerifyAuditLog's verdict, one page of entries
 * (newest first, optionally one operation's or one key's), and the last export. Reads only:
 * none of these calls appends to the log. Everything is forgotten when the keystore locks.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call, type Output } from '../client/keyroom';
import type { AuditEvent } from '../../../src-shared/contract/types';
import { useKeystoreStore } from './keystore';

export type AuditVerdict = Output<'VerifyAuditLog'>;
export type AuditExport = Output<'ExportAuditLog'>;

export interface AuditFilters {
  /** An operation name, or '' for every operation. */
  operation: string;
  /** A KeyId (UUID), or '' for every key. */
  keyId: string;
}

export const PAGE_SIZES = [25, 50, 100] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export const useAuditStore = defineStore('audit', () => {
  const verdict = ref<AuditVerdict | null>(null);
  const verifiedAt = ref<Date | null>(null);

  const events = ref<AuditEvent[]>([]);
  const totalCount = ref(0);
  const pageNumber = ref(1);
  const pageSize = ref<PageSize>(25);
  /** The filters the shown page was read with (not what is being typed). */
  const applied = ref<AuditFilters>({ operation: '', keyId: '' });
  /** Operations met in the log so far, offered first in the operation filter. */
  const seenOperations = ref<string[]>([]);

  const lastExport = ref<AuditExport | null>(null);

  function note(list: readonly AuditEvent[]): void {
    const seen = new Set(seenOperations.value);
    for (const e of list) seen.add(e.Operation);
    if (seen.size !== seenOperations.value.length) seenOperations.value = [...seen].sort();
  }

  async function verify(): Promise<AuditVerdict> {
    const result = await call('VerifyAuditLog', {});
    verdict.value = result;
    verifiedAt.value = new Date();
    return result;
  }

  /** Which load is the latest: an older answer arriving after a newer one is dropped. */
  let loadTicket = 0;

  /** Read one page of the entries matching `filters`. */
  async function load(filters: AuditFilters = applied.value, page = pageNumber.value, size: PageSize = pageSize.value): Promise<void> {
    const ticket = ++loadTicket;
    const result = await call('ListAuditEvents', {
      ...(filters.operation ? { Operation: filters.operation } : {}),
      ...(filters.keyId ? { KeyId: filters.keyId } : {}),
      PageNumber: page,
      PageSize: size,
    });
    if (ticket !== loadTicket) return;
    events.value = result.Events;
    totalCount.value = result.TotalCount;
    pageNumber.value = result.PageNumber;
    pageSize.value = size;
    applied.value = { ...filters };
    note(result.Events);
  }

  async function exportTo(outputFile: string): Promise<AuditExport> {
    const result = await call('ExportAuditLog', { OutputFile: outputFile });
    lastExport.value = result;
    return result;
  }

  function forget(): void {
    loadTicket += 1;
    verdict.value = null;
    verifiedAt.value = null;
    events.value = [];
    totalCount.value = 0;
    pageNumber.value = 1;
    applied.value = { operation: '', keyId: '' };
    seenOperations.value = [];
    lastExport.value = null;
  }

  useKeystoreStore().onLocked(forget);

  return { verdict, verifiedAt, events, totalCount, pageNumber, pageSize, applied, seenOperations, lastExport, verify, load, exportTo, forget };
});
