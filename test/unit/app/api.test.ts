/**
 * window.keyroom as the contract derives it, and the front doors each operation is offered at:
 * the keystore session operations are the app's only, and the command line neither lists nor
 * accepts them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyroomApi, channelOf, type AutoLockNotice, type DispatchResult, type KeyroomApi, type ProgressEvent } from '../../../src-shared/contract/api';
import { APP_OPERATION_NAMES } from '../../../src-shared/contract/names';
import { OPERATIONS, OPERATION_NAMES, isForFrontDoor, operationNamesFor } from '../../../src-shared/contract/operations';
import { generalHelp, operationHelp } from '../../../src-main/cli/help';
import { parseCommandLine, UsageError } from '../../../src-main/cli/args';

const SESSION_OPERATIONS = ['GetKeystoreStatus', 'UnlockKeystore', 'LockKeystore', 'ReportActivity', 'SetAutoLock'] as const;
/** The app keeps a token login and follows operations under way; each CLI command is one call. */
/**
 * BYOK rehearsals are app-only too: the stand-in cloud lives in memory while the keystore is open,
 * and each keyroom command locks the keystore when it ends.
 */
const REHEARSAL_OPERATIONS = ['PrepareRehearsal', 'CheckRehearsal'] as const;
const APP_ONLY_OPERATIONS = [...SESSION_OPERATIONS, 'LoginToken', 'LogoutToken', 'CancelOperation', ...REHEARSAL_OPERATIONS] as const;

const NO_SUBSCRIPTION = () => () => undefined;

describe('window.keyroom', () => {
  it('has one verb per app operation, each sending only its input on keyroom:<Name>', async () => {
    const sent: [string, unknown][] = [];
    const answer: DispatchResult<'LockKeystore'> = { ok: true, value: { Keystore: '/k', RequestId: 'r' } };
    const api: KeyroomApi = createKeyroomApi(async (channel, input) => {
      sent.push([channel, input]);
      return answer;
    }, NO_SUBSCRIPTION, NO_SUBSCRIPTION);
    assert.deepEqual(Object.keys(api), [...APP_OPERATION_NAMES, 'onProgress', 'onAutoLock']);
    for (const name of APP_OPERATION_NAMES) assert.equal(typeof api[name], 'function', name);
    assert.ok(Object.isFrozen(api));

    assert.equal(await api.LockKeystore({}), answer);
    const input = { KeySpec: 'AES_256' } as const;
    await (api.CreateKey as (i: unknown, extra: unknown) => Promise<unknown>)(input, 'extra');
    assert.deepEqual(sent, [
      ['keyroom:LockKeystore', {}],
      ['keyroom:CreateKey', input],
    ]);
    assert.equal(channelOf('UnlockKeystore'), 'keyroom:UnlockKeystore');
  });

  it('onProgress hands each listener the event alone, until it unsubscribes', () => {
    // A transport like the preload's: its listeners get (transportEvent, progress).
    const transport = new Set<(transportEvent: { sender: string }, progress: ProgressEvent) => void>();
    const api = createKeyroomApi(
      async () => undefined,
      (listener) => {
        const forward = (_e: { sender: string }, progress: ProgressEvent) => listener(progress);
        transport.add(forward);
        return () => transport.delete(forward);
      },
      NO_SUBSCRIPTION,
    );
    const got: unknown[][] = [];
    const unsubscribe = api.onProgress((...args: unknown[]) => got.push(args));
    const event: ProgressEvent = { OperationId: '00000000-0000-4000-8000-000000000001', Operation: 'DigestFile', Phase: 'Hashing', Done: 1, Total: 2 };
    for (const f of transport) f({ sender: 'the main process' }, event);
    assert.deepEqual(got, [[event]], 'the listener gets the progress event and nothing of the transport');
    assert.equal(typeof unsubscribe, 'function');
    unsubscribe();
    assert.equal(transport.size, 0);
    for (const f of transport) f({ sender: 'the main process' }, event);
    assert.equal(got.length, 1);
    assert.throws(() => (api.onProgress as (l: unknown) => unknown)('not a function'), TypeError);
  });

  it('onAutoLock hands each listener the notice alone, until it unsubscribes; progress never reaches it', () => {
    const transport = new Set<(transportEvent: { sender: string }, notice: AutoLockNotice) => void>();
    const api = createKeyroomApi(async () => undefined, NO_SUBSCRIPTION, (listener) => {
      const forward = (_e: { sender: string }, notice: AutoLockNotice) => listener(notice);
      transport.add(forward);
      return () => transport.delete(forward);
    });
    const got: unknown[][] = [];
    const progress: unknown[] = [];
    api.onProgress((e) => progress.push(e));
    const unsubscribe = api.onAutoLock((...args: unknown[]) => got.push(args));
    const notice: AutoLockNotice = { Reason: 'RendererUnresponsive' };
    for (const f of transport) f({ sender: 'the main process' }, notice);
    assert.deepEqual(got, [[notice]]);
    assert.deepEqual(progress, []);
    unsubscribe();
    assert.equal(transport.size, 0);
    assert.throws(() => (api.onAutoLock as (l: unknown) => unknown)(42), TypeError);
  });
});

describe('front doors', () => {
  it('offers the keystore session, token login, cancel and rehearsal operations in the app only; every other operation at both', () => {
    for (const name of OPERATION_NAMES) {
      const appOnly = (APP_ONLY_OPERATIONS as readonly string[]).includes(name);
      assert.equal(isForFrontDoor(name, 'app'), true, name);
      assert.equal(isForFrontDoor(name, 'cli'), !appOnly, name);
    }
    assert.deepEqual(operationNamesFor('app'), OPERATION_NAMES);
    for (const name of APP_ONLY_OPERATIONS) {
      const needsOpen = (REHEARSAL_OPERATIONS as readonly string[]).includes(name);
      assert.equal(OPERATIONS[name].keystore, needsOpen ? 'open' : 'none', `${name}: ${needsOpen ? 'lives with the open keystore' : 'runs whether or not the keystore is open'}`);
      assert.ok(OPERATIONS[name].summary.length > 10);
    }
    assert.deepEqual(OPERATIONS.UnlockKeystore.secrets, ['Passphrase']);
  });

  it('the command line neither lists nor accepts an app-only operation', () => {
    const help = generalHelp();
    for (const name of APP_ONLY_OPERATIONS) {
      assert.ok(!new RegExp(`\\b${name}\\b`).test(help), `--help does not list ${name}`);
      assert.throws(() => parseCommandLine([name]), (e: unknown) => e instanceof UsageError && /for the app only/.test(e.message), name);
      assert.throws(() => parseCommandLine([name, '--help']), UsageError, `${name} --help`);
    }
    for (const name of operationNamesFor('cli')) assert.match(help, new RegExp(`^\\s+${name}\\s`, 'm'), name);
  });

  it('the command line neither lists nor takes OperationId (a command is followed by its terminal, stopped by Ctrl-C)', () => {
    for (const name of operationNamesFor('cli')) {
      if (!OPERATIONS[name].longRunning) continue;
      assert.ok('OperationId' in OPERATIONS[name].input.shape, `${name} takes an OperationId in the app`);
      assert.doesNotMatch(operationHelp(name), /OperationId|Cancelled/, `${name} --help`);
      assert.throws(
        () => parseCommandLine([name, '--OperationId', '00000000-0000-4000-8000-000000000001']),
        (e: unknown) => e instanceof UsageError && /has no parameter --OperationId/.test(e.message),
        name,
      );
    }
    const digest = parseCommandLine(['DigestFile', '--InputFile', 'a.bin', '--Algorithm', 'SM3']);
    assert.deepEqual(digest.kind === 'run' && digest.params, { InputFile: 'a.bin', Algorithm: 'SM3' });
  });
});
