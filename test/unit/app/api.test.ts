/**
 * window.keyroom as the contract derives it, and the front doors each operation is offered at:
 * the keystore session operations are the app's only, and the command line neither lists nor
 * accepts them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyroomApi, channelOf, type DispatchResult, type KeyroomApi } from '../../../src-shared/contract/api';
import { APP_OPERATION_NAMES } from '../../../src-shared/contract/names';
import { OPERATIONS, OPERATION_NAMES, isForFrontDoor, operationNamesFor } from '../../../src-shared/contract/operations';
import { generalHelp } from '../../../src-main/cli/help';
import { parseCommandLine, UsageError } from '../../../src-main/cli/args';

const SESSION_OPERATIONS = ['GetKeystoreStatus', 'UnlockKeystore', 'LockKeystore'] as const;

describe('window.keyroom', () => {
  it('has one verb per app operation, each sending only its input on keyroom:<Name>', async () => {
    const sent: [string, unknown][] = [];
    const answer: DispatchResult<'LockKeystore'> = { ok: true, value: { Keystore: '/k', RequestId: 'r' } };
    const api: KeyroomApi = createKeyroomApi(async (channel, input) => {
      sent.push([channel, input]);
      return answer;
    });
    assert.deepEqual(Object.keys(api), [...APP_OPERATION_NAMES]);
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
});

describe('front doors', () => {
  it('offers the keystore session operations in the app only; every other operation at both', () => {
    for (const name of OPERATION_NAMES) {
      const appOnly = (SESSION_OPERATIONS as readonly string[]).includes(name);
      assert.equal(isForFrontDoor(name, 'app'), true, name);
      assert.equal(isForFrontDoor(name, 'cli'), !appOnly, name);
    }
    assert.deepEqual(operationNamesFor('app'), OPERATION_NAMES);
    for (const name of SESSION_OPERATIONS) {
      assert.equal(OPERATIONS[name].keystore, 'none', `${name} runs whether or not the keystore is open`);
      assert.ok(OPERATIONS[name].summary.length > 10);
    }
    assert.deepEqual(OPERATIONS.UnlockKeystore.secrets, ['Passphrase']);
  });

  it('the command line neither lists nor accepts an app-only operation', () => {
    const help = generalHelp();
    for (const name of SESSION_OPERATIONS) {
      assert.ok(!new RegExp(`\\b${name}\\b`).test(help), `--help does not list ${name}`);
      assert.throws(() => parseCommandLine([name]), (e: unknown) => e instanceof UsageError && /for the app only/.test(e.message), name);
      assert.throws(() => parseCommandLine([name, '--help']), UsageError, `${name} --help`);
    }
    for (const name of operationNamesFor('cli')) assert.match(help, new RegExp(`^\\s+${name}\\s`, 'm'), name);
  });
});
