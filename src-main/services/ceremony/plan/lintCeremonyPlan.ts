/**
 * LintCeremonyPlan: read the plan file (a regular file, at most PLAN_MAX_BYTES) and lint its exact
 * bytes with the shared linter; the keystore is not touched. A plan with problems is the error
 * InvalidParameter.Plan, listing every problem as `path:line:column: message`.
 */
import { stat } from 'node:fs/promises';
import { KmsError } from '../../../../src-shared/errors';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { PLAN_MAX_BYTES, formatProblems, lintPlan } from '../../../../src-shared/ceremony/plan/lintPlan';
import { describeErrno, openRegularFile } from '../../../files/readFile';

function unreadablePlan(path: string, why: string): KmsError {
  return new KmsError('InvalidParameter.Plan', `Cannot read the plan ${path}: ${why}. Give the path of the plan's YAML file.`);
}

/** The plan's exact bytes; anything but a regular file of at most PLAN_MAX_BYTES is refused. */
export async function readPlanFile(path: string): Promise<Uint8Array> {
  // stat first for a precise reason; openRegularFile then refuses whatever changed in between.
  const st = await stat(path).catch((e: unknown) => {
    throw unreadablePlan(path, describeErrno(e));
  });
  if (st.isDirectory()) throw unreadablePlan(path, 'it is a folder');
  if (!st.isFile()) throw unreadablePlan(path, 'it is not a regular file');
  const { handle, size } = await openRegularFile(path).catch(() => {
    throw unreadablePlan(path, 'it could not be opened as a regular file');
  });
  try {
    if (size > PLAN_MAX_BYTES) throw unreadablePlan(path, `it has ${size} bytes, and a plan has at most ${PLAN_MAX_BYTES}`);
    // One byte more than allowed: a file that grew since fstat is still caught.
    const buffer = new Uint8Array(PLAN_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null).catch((e: unknown) => {
        throw unreadablePlan(path, describeErrno(e));
      });
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > PLAN_MAX_BYTES) throw unreadablePlan(path, `it has more than ${PLAN_MAX_BYTES} bytes, the most a plan has`);
    }
    return buffer.slice(0, length);
  } finally {
    await handle.close();
  }
}

export async function lintCeremonyPlan(input: OperationInput<'LintCeremonyPlan'>): Promise<OperationOutput<'LintCeremonyPlan'>> {
  const bytes = await readPlanFile(input.Plan);
  const lint = lintPlan(bytes);
  if (!lint.ok) {
    const n = lint.problems.length;
    throw new KmsError(
      'InvalidParameter.Plan',
      `The plan ${input.Plan} has ${n} problem${n === 1 ? '' : 's'}; correct ${n === 1 ? 'it' : 'them'} and lint it again:\n${formatProblems(input.Plan, lint.problems)}`,
    );
  }
  return { Plan: input.Plan, ...lint.summary };
}
