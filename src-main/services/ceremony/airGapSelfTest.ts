/**
 * AirGapSelfTest: the probe in src-main/system, with the plan's dates. It reads and writes
 * nothing, so with no keystore open there is nothing to record. With one open (the app, between
 * unlock and lock) the verdict goes into the audit log as its own entry: a ceremony's record then
 * shows that the machine was checked, when, and what it found, in the same chain as the keys it
 * made. The entry holds each check's result and the SHA-256 of the whole report; the evidence
 * itself (interface names, routes) stays in the report the caller keeps.
 */
import { createHash } from 'node:crypto';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import type { AirGapReport } from '../../../src-shared/domain/airGap';
import { KmsError } from '../../../src-shared/errors';
import { runAirGapSelfTest, type SelfTestOptions } from '../../system/airGap';
import { appendAudit, type AuditDetails } from '../audit/auditLog';
import { isoTime } from '../kms/context';
import type { Session } from '../session';

/** The plan's dates as bounds; a date alone is its midnight UTC. */
export function planBounds(input: OperationInput<'AirGapSelfTest'>): Pick<SelfTestOptions, 'notBefore' | 'notAfter'> {
  const notBefore = input.NotBefore === undefined ? undefined : new Date(input.NotBefore.length === 10 ? `${input.NotBefore}T00:00:00Z` : input.NotBefore);
  const notAfter = input.NotAfter === undefined ? undefined : new Date(input.NotAfter.length === 10 ? `${input.NotAfter}T00:00:00Z` : input.NotAfter);
  if (notBefore && notAfter && notBefore >= notAfter) {
    throw new KmsError('InvalidParameter', `NotBefore (${input.NotBefore}) must be earlier than NotAfter (${input.NotAfter}).`);
  }
  return { notBefore, notAfter };
}

/** What the audit entry keeps of a report: the verdict, each check's result, and the report's hash. */
export function auditDetailsOf(report: AirGapReport): AuditDetails {
  const details: Record<string, string> = { Verdict: report.Verdict, Platform: report.Platform, TestTime: report.Time };
  for (const c of report.Checks) details[`Check.${c.Name}`] = c.Result;
  details.ReportSha256 = createHash('sha256').update(JSON.stringify(report)).digest('hex');
  return details;
}

/**
 * @throws KmsError InvalidParameter when NotBefore is not before NotAfter
 */
export async function airGapSelfTest(
  session: Session,
  input: OperationInput<'AirGapSelfTest'>,
  requestId: string,
  probe: (opts: SelfTestOptions) => Promise<AirGapReport> = runAirGapSelfTest,
): Promise<OperationOutput<'AirGapSelfTest'>> {
  const report = await probe({ ...planBounds(input), now: session.clock() });
  if (!session.isOpen) return { ...report, Recorded: false };
  const kms = session.kms;
  await kms.keystore.transaction((tx) => appendAudit(tx, { requestId, operation: 'AirGapSelfTest', details: auditDetailsOf(report) }, isoTime(kms.clock())));
  return { ...report, Recorded: true };
}
