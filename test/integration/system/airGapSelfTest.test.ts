/**
 * AirGapSelfTest through the dispatch every front door uses: with no keystore open it writes
 * nothing; with one open (the app) its verdict is recorded in the audit log, each check's result
 * and the report's SHA-256; the plan's dates bound the clock; bad dates are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHarness } from '../../support/kmsHarness';
import { Session } from '../../../src-main/services/session';
import { dispatch } from '../../../src-main/handlers/dispatch';
import type { OperationOutput } from '../../../src-shared/contract/operations';
import type { ErrorData } from '../../../src-shared/errors';

const TODAY = new Date('2026-12-05T08:00:00Z');

type Report = OperationOutput<'AirGapSelfTest'>;

/** dispatch as the front doors call it, typed for this operation. */
async function selfTest(session: Session, input: Record<string, unknown>): Promise<{ ok: true; value: Report } | { ok: false; error: ErrorData }> {
  const r = await dispatch(session, 'AirGapSelfTest', input);
  return r.ok ? { ok: true, value: r.value as Report } : r;
}

test('with the keystore open, the verdict goes into the audit log under the RequestId', async () => {
  const h = await openHarness({ start: TODAY });
  try {
    const r = await h.call('AirGapSelfTest', {});
    assert.equal(r.Recorded, true);
    assert.equal(r.Time, TODAY.toISOString(), 'the session clock is the one tested');
    const row = await h.raw((db) => db.get<{ operation: string; details: string; result: string }>('SELECT operation, details, result FROM audit_log WHERE request_id = ?', [r.RequestId]));
    assert.ok(row, 'an audit entry with the RequestId');
    assert.equal(row.operation, 'AirGapSelfTest');
    const details = JSON.parse(row.details) as Record<string, string>;
    assert.equal(details.Verdict, r.Verdict);
    for (const c of r.Checks) assert.equal(details[`Check.${c.Name}`], c.Result);
    const { RequestId: _id, Recorded: _rec, ...report } = r;
    assert.equal(details.ReportSha256, createHash('sha256').update(JSON.stringify(report)).digest('hex'), 'the entry pins the report the caller keeps');
    const verdict = await h.call('VerifyAuditLog', {});
    assert.equal(verdict.Valid, true);
  } finally {
    await h.close();
  }
});

test('with no keystore open, nothing is written anywhere and nothing is recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-selftest-'));
  try {
    const session = new Session({ keystorePath: join(dir, 'keystore.db'), clock: () => TODAY });
    const r = await selfTest(session, {});
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.Recorded, false);
    assert.deepEqual(readdirSync(dir), [], 'no keystore was created');
    await session.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the plan's dates bound the clock: outside them the clock check fails with the dates as evidence", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyroom-selftest-'));
  const session = new Session({ keystorePath: join(dir, 'keystore.db'), clock: () => TODAY });
  try {
    const late = await selfTest(session, { NotAfter: '2026-12-01' });
    assert.ok(late.ok);
    const clock = late.value.Checks.find((c) => c.Name === 'clock');
    assert.equal(clock?.Result, 'FAIL');
    assert.equal(late.value.Verdict, 'FAIL');
    assert.ok(clock?.Evidence.includes('plan not after: 2026-12-01T00:00:00.000Z'));
    assert.match(clock?.Advice ?? '', /later than the plan's last date/);
    const inside = await selfTest(session, { NotBefore: '2026-12-05T00:00:00+08:00', NotAfter: '2027-01-01' });
    assert.ok(inside.ok);
    assert.equal(inside.value.Checks.find((c) => c.Name === 'clock')?.Result, 'PASS');
    const before = new Session({ keystorePath: join(dir, 'keystore.db'), clock: () => new Date('2025-06-01T00:00:00Z') });
    const early = await selfTest(before, {});
    assert.ok(early.ok);
    assert.match(early.value.Checks.find((c) => c.Name === 'clock')?.Advice ?? '', /earlier than this Keyroom release/);

    const swapped = await selfTest(session, { NotBefore: '2027-01-01', NotAfter: '2026-01-01' });
    assert.equal(swapped.ok, false);
    if (!swapped.ok) assert.equal(swapped.error.Code, 'InvalidParameter');
    const notADate = await selfTest(session, { NotAfter: 'next Tuesday' });
    assert.equal(notADate.ok, false);
    if (!notADate.ok) assert.match(notADate.error.Message, /NotAfter/);
    const impossible = await selfTest(session, { NotAfter: '2026-13-45' });
    assert.equal(impossible.ok, false);
  } finally {
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
