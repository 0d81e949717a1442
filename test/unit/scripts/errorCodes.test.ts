/**
 * Each operation's error codes come from the code (scripts/errorCodes/derive.ts), and `keyroom X
 * --help` prints them: the checked-in table must be what the code says today.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GENERATED, renderErrorCodes } from '../../../scripts/errorCodes/render';
import { OPERATION_ERRORS } from '../../../src-shared/contract/errorCodes.generated';
import { OPERATION_NAMES } from '../../../src-shared/contract/operations';
import { operationHelp } from '../../../src-main/cli/help';

describe('error codes derived from the code', () => {
  it('the generated table is up to date (run `npm run gen:errors` after changing what is thrown)', () => {
    assert.equal(readFileSync(GENERATED, 'utf8'), renderErrorCodes());
  });
  it('covers every operation', () => {
    assert.deepEqual(Object.keys(OPERATION_ERRORS).sort(), [...OPERATION_NAMES].sort());
  });
  it('finds the codes the hand-kept lists had missed', () => {
    // VerifyFile throws Rejected.KeyState for a disabled key; SignFile can fail writing (I/O).
    assert.ok((OPERATION_ERRORS.VerifyFile as readonly string[]).includes('Rejected.KeyState'));
    assert.ok((OPERATION_ERRORS.SignFile as readonly string[]).some((c) => c === 'Keystore.Io' || c.startsWith('Io.')));
    // Through an interface: the PKCS#11 backend's token errors reach signing.
    assert.ok((OPERATION_ERRORS.AsymmetricSign as readonly string[]).includes('Hsm.PinIncorrect'));
  });
  it('--help prints the derived list, with what opening the keystore adds', () => {
    const help = operationHelp('VerifyFile');
    const line = help.split('\n').find((l) => l.startsWith('Error codes: '))!;
    for (const code of ['Rejected.KeyState', 'IncorrectPassphrase', 'MissingParameter', 'Internal']) assert.ok(line.includes(code), code);
    assert.ok(!line.includes('Cancelled'), 'a command is stopped with Ctrl-C, not CancelOperation');
  });
});
