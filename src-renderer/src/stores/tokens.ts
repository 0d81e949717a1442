/**
 * The PKCS#11 library, its tokens, and which token this session is logged in to, as the Tokens
 * screen shows them. The PIN is never kept here: `login` takes it as an argument and hands it
 * straight to the one LoginToken call. Everything is forgotten when the keystore locks, so a
 * locked window shows nothing read before.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call, type Output } from '../client/keyroom';
import type { LoggedInToken, ModuleInfoJson, TokenDescription } from '../../../src-shared/contract/types';
import { useKeystoreStore } from './keystore';

export const useTokensStore = defineStore('tokens', () => {
  const module = ref<ModuleInfoJson | null>(null);
  const tokens = ref<TokenDescription[]>([]);
  const loggedIn = ref<LoggedInToken | null>(null);
  /** Key objects on the logged-in token that no key in this keystore names (ListOrphanHsmKeys); null when not read. */
  const orphanHsmKeys = ref<number | null>(null);
  /** When the list was last read: tokens can be plugged in and out, so the screen says how fresh it is. */
  const readAt = ref<Date | null>(null);

  function take(listing: Output<'ListTokens'>): void {
    module.value = listing.Module;
    tokens.value = listing.Tokens;
    loggedIn.value = listing.LoggedIn ?? null;
    orphanHsmKeys.value = listing.OrphanHsmKeys ?? null;
    readAt.value = new Date();
  }

  function clear(): void {
    ticket += 1;
    module.value = null;
    tokens.value = [];
    loggedIn.value = null;
    orphanHsmKeys.value = null;
    readAt.value = null;
  }

  /** Which refresh is the latest: an older answer arriving after a newer one is dropped. */
  let ticket = 0;

  /** Read the library and its slots again. On failure the old listing is dropped: it may be stale. */
  async function refresh(): Promise<void> {
    const mine = ++ticket;
    try {
      const listing = await call('ListTokens', {});
      if (mine === ticket) take(listing);
    } catch (e) {
      if (mine !== ticket) return;
      clear();
      throw e;
    }
  }

  /**
   * Log in with `pin` (passed through, not stored). The call is started before this returns its
   * promise, so the caller can clear its input at once and await after.
   */
  function login(pin: string, tokenLabel: string): Promise<LoggedInToken> {
    const pending = call('LoginToken', { Pin: pin, TokenLabel: tokenLabel });
    return pending.then((token) => {
      loggedIn.value = { Label: token.Label, SerialNumber: token.SerialNumber, SlotId: token.SlotId };
      return loggedIn.value;
    });
  }

  async function logout(): Promise<void> {
    await call('LogoutToken', {});
    loggedIn.value = null;
  }

  useKeystoreStore().onLocked(clear);

  return { module, tokens, loggedIn, orphanHsmKeys, readAt, refresh, login, logout, clear };
});
