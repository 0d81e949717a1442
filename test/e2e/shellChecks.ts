/**
 * What both shells must answer the same way, whichever carries `window.keyroom`: the test host's
 * shim in Chromium (shell.e2e.test.ts) or Electron's preload (electron.e2e.test.ts). Each check
 * goes through the page, exactly as the renderer's client will.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { DispatchResult, KeyroomApi } from '../../src-shared/contract/api';
import { APP_OPERATION_NAMES } from '../../src-shared/contract/names';
import type { ErrorCode } from '../../src-shared/errors';

export const PASSPHRASE = 'correct horse battery staple';

/** The operations' verbs; onProgress and onAutoLock are the subscriptions, not calls. */
type Verb = Exclude<keyof KeyroomApi, 'onProgress' | 'onAutoLock'>;
type ResultOf<N extends Verb> = Awaited<ReturnType<KeyroomApi[N]>>;

/** Call one verb of the page's `window.keyroom` and return its result as the page got it. */
export async function callKeyroom<N extends Verb>(page: Page, name: N, input: Parameters<KeyroomApi[N]>[0]): Promise<ResultOf<N>> {
  // The function runs in the page: no helpers, no closures over Node values.
  const result = await page.evaluate(
    ([n, i]) => (window as unknown as { keyroom: Record<string, (input: unknown) => Promise<unknown>> }).keyroom[n]!(i),
    [name, input] as [string, unknown],
  );
  return result as ResultOf<N>;
}

/** The value of a successful call, or a failure that shows the error the page got. */
export function valueOf<N extends Verb>(name: N, result: DispatchResult<N>): Extract<DispatchResult<N>, { ok: true }>['value'] {
  if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
  assert.equal(typeof result.value.RequestId, 'string');
  return result.value;
}

/** A refusal with this code, its message and RequestId present. */
export function assertRefused(result: DispatchResult, code: ErrorCode): void {
  assert.equal(result.ok, false, `expected ${code}, got success`);
  if (result.ok) return;
  assert.equal(result.error.Code, code, result.error.Message);
  assert.ok(result.error.Message.length > 0);
  assert.match(result.error.RequestId ?? '', /^[0-9a-f-]{36}$/);
}

/** `window.keyroom` has one verb per app operation, onProgress and onAutoLock, and the page cannot replace them. */
export async function checkApiShape(page: Page): Promise<void> {
  const shape = await page.evaluate(() => {
    const api = (window as unknown as { keyroom?: Record<string, unknown> }).keyroom;
    if (!api) return undefined;
    return { names: Object.keys(api), functions: Object.values(api).every((v) => typeof v === 'function'), frozen: Object.isFrozen(api) };
  });
  assert.ok(shape, 'the page has no window.keyroom');
  assert.deepEqual(shape.names, [...APP_OPERATION_NAMES, 'onProgress', 'onAutoLock']);
  assert.equal(shape.functions, true);
  assert.equal(shape.frozen, true);
}

/**
 * The whole chain on a fresh keystore: status, create, a key, its description, refusals with
 * their codes, lock and unlock (a wrong passphrase refused). Returns the key's id.
 */
export async function checkKeystoreChain(page: Page, keystorePath: string): Promise<{ keyId: string }> {
  const before = valueOf('GetKeystoreStatus', await callKeyroom(page, 'GetKeystoreStatus', {}));
  assert.deepEqual({ ...before, RequestId: undefined }, { Keystore: keystorePath, Exists: false, Unlocked: false, RequestId: undefined });

  // A call that needs the keystore before there is one.
  assertRefused(await callKeyroom(page, 'ListKeys', {}), 'Keystore.Locked');

  valueOf('InitKeystore', await callKeyroom(page, 'InitKeystore', { Passphrase: PASSPHRASE }));
  const created = valueOf('CreateKey', await callKeyroom(page, 'CreateKey', { KeySpec: 'AES_256' }));
  const keyId = created.KeyMetadata.KeyId;
  assert.equal(created.KeyMetadata.KeySpec, 'AES_256');
  assert.equal(created.KeyMetadata.ProtectionLevel, 'SOFTWARE');

  const described = valueOf('DescribeKey', await callKeyroom(page, 'DescribeKey', { KeyId: keyId }));
  assert.equal(described.KeyMetadata.KeyId, keyId);
  assert.equal(described.KeyMetadata.KeyState, 'Enabled');
  assert.equal(described.KeyMetadata.KeyUsage, 'ENCRYPT/DECRYPT');

  // Refusals come back as data with their stable code, from the service and from validation.
  assertRefused(await callKeyroom(page, 'DescribeKey', { KeyId: '00000000-0000-4000-8000-000000000000' }), 'NotFound.Key');
  assertRefused(await callKeyroom(page, 'CreateKey', { KeySpec: 'AES_512' }), 'InvalidParameter.KeySpec');

  valueOf('LockKeystore', await callKeyroom(page, 'LockKeystore', {}));
  assertRefused(await callKeyroom(page, 'DescribeKey', { KeyId: keyId }), 'Keystore.Locked');
  assertRefused(await callKeyroom(page, 'InitKeystore', { Passphrase: PASSPHRASE }), 'Keystore.AlreadyExists');
  assertRefused(await callKeyroom(page, 'UnlockKeystore', { Passphrase: 'not the passphrase' }), 'IncorrectPassphrase');
  valueOf('UnlockKeystore', await callKeyroom(page, 'UnlockKeystore', { Passphrase: PASSPHRASE }));
  const status = valueOf('GetKeystoreStatus', await callKeyroom(page, 'GetKeystoreStatus', {}));
  assert.equal(status.Exists, true);
  assert.equal(status.Unlocked, true);
  assert.equal(valueOf('DescribeKey', await callKeyroom(page, 'DescribeKey', { KeyId: keyId })).KeyMetadata.KeyId, keyId);
  return { keyId };
}

/** Wait until the app has mounted something into #app (an app event, not a sleep). */
export async function waitForApp(page: Page): Promise<void> {
  await page.locator('#app > *').first().waitFor({ state: 'visible' });
}
