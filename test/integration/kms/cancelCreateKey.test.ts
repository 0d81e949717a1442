/**
 * CreateKey as a long-running operation: its progress (Generating, then Writing) and a cancel at
 * each step, which answers Cancelled and leaves every table of the keystore as it was.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openHarness, type Harness } from '../../support/kmsHarness';
import { dispatch } from '../../../src-main/handlers/dispatch';
import type { DispatchResult, ProgressEvent, ProgressPhase } from '../../../src-shared/contract/api';
import type { OperationOutput } from '../../../src-shared/contract/operations';

function code(r: DispatchResult): string {
  return r.ok ? 'ok' : r.error.Code;
}

describe('CreateKey: progress and cancellation', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness();
  });
  after(() => h.close());

  /** CreateKey whose listener cancels it when `phase` is reported; the phases it reported. */
  async function createCancelledAt(phase: ProgressPhase | null, input: Record<string, unknown>): Promise<{ r: DispatchResult; phases: ProgressPhase[] }> {
    const OperationId = randomUUID();
    const phases: ProgressPhase[] = [];
    const r = await dispatch(h.session, 'CreateKey', { ...input, OperationId }, {
      onProgress: (e: ProgressEvent) => {
        assert.deepEqual([e.OperationId, e.Operation], [OperationId, 'CreateKey']);
        phases.push(e.Phase);
        if (e.Phase === phase) void dispatch(h.session, 'CancelOperation', { OperationId });
      },
    });
    return { r, phases };
  }

  it('reports Generating, then Writing, and creates the key', async () => {
    const { r, phases } = await createCancelledAt(null, { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
    assert.equal(code(r), 'ok');
    assert.deepEqual(phases, ['Generating', 'Writing']);
  });

  for (const phase of ['Generating', 'Writing'] as const) {
    for (const spec of ['RSA_2048', 'AES_256'] as const) {
      it(`a cancel while ${phase} a ${spec} key answers Cancelled and writes nothing`, async () => {
        await h.session.carryOutDueWork();
        const before = await h.state();
        const { r, phases } = await createCancelledAt(phase, { KeySpec: spec, ...(spec === 'RSA_2048' ? { KeyUsage: 'SIGN/VERIFY' } : {}) });
        assert.equal(code(r), 'Cancelled');
        assert.ok(!r.ok && /nothing was written/.test(r.error.Message));
        assert.deepEqual(phases, phase === 'Generating' ? ['Generating'] : ['Generating', 'Writing']);
        assert.equal(await h.state(), before, 'every table, audit log included, is unchanged');
      });
    }
  }

  it('refuses an OperationId under way (nothing changed by the second call), and cancels before generating', async () => {
    const before = await h.state();
    const OperationId = randomUUID();
    const first = dispatch(h.session, 'CreateKey', { KeySpec: 'RSA_3072', KeyUsage: 'SIGN/VERIFY', OperationId });
    const second = await dispatch(h.session, 'CreateKey', { KeySpec: 'AES_256', OperationId });
    assert.equal(code(second), 'InvalidParameter');
    // Cancelled before its first await: nothing generated at all.
    const cancelled = await dispatch(h.session, 'CancelOperation', { OperationId });
    assert.ok(cancelled.ok && (cancelled.value as OperationOutput<'CancelOperation'>).Cancelled);
    assert.equal(code(await first), 'Cancelled');
    assert.equal(await h.state(), before);
    assert.equal(code(await dispatch(h.session, 'CancelOperation', { OperationId: randomUUID() })), 'NotFound.Operation');
    assert.equal(await h.state(), before);
  });
});
