/**
 * Automatic rotations that fell due while the keystore was closed (an offline machine has no
 * scheduler): read when the keystore opens (ListDueRotations), carried out only when the operator
 * says so (RotateDueKeys), and what that did. Forgotten when the keystore locks, so the next
 * unlock reads them afresh.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call, type Output } from '../client/keyroom';
import { useKeystoreStore } from './keystore';

export type DueKey = Output<'ListDueRotations'>['Keys'][number];

export const useDueRotationsStore = defineStore('dueRotations', () => {
  const keystore = useKeystoreStore();
  const due = ref<DueKey[]>([]);
  /** What the last RotateDueKeys did (rotated, and deferred with reasons). */
  const outcome = ref<Output<'RotateDueKeys'> | null>(null);
  /** Put aside by the operator ("Later") until the keystore is opened again. */
  const dismissed = ref(false);
  /** True once ListDueRotations has answered since the keystore was opened. */
  const checked = ref(false);

  async function load(): Promise<void> {
    due.value = (await call('ListDueRotations', {})).Keys;
    checked.value = true;
  }

  async function rotateNow(): Promise<void> {
    outcome.value = null;
    const done = await call('RotateDueKeys', {});
    try {
      // Deferred keys are still due; rotated ones are not. Shown together with what was done.
      await load();
    } finally {
      outcome.value = done;
    }
  }

  function reset(): void {
    due.value = [];
    outcome.value = null;
    dismissed.value = false;
    checked.value = false;
  }
  keystore.onLocked(reset);

  return { due, outcome, dismissed, checked, load, rotateNow, reset };
});
