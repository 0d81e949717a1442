/**
 * The ceremony plan's structure, defined once: the linter parses plans with it, and
 * schemas/ceremony-plan.schema.json (for editors and other tools) is generated from it
 * (`npm run gen:plan-schema`; a unit test fails when the file differs). What JSON Schema cannot
 * say (references between steps, parameters against the contract, roles that can be filled, a
 * valid time zone or regular expression) the linter checks after this (lintPlan.ts).
 */
import { z } from 'zod';
import type { OperationName } from '../../contract/operations';
import { PLAN_OPERATIONS, planRefusal } from './planOperations';

/** Step ids are referred to as `${id.Field}`; `output` is the output folder's own name. */
export const STEP_ID = /^(?!output$)[a-z][a-z0-9-]{0,62}$/;
const ROLE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const RECORD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const PARAMETER_NAME = /^[A-Z][A-Za-z0-9]{0,63}$/;
export const STEP_ACTIONS = ['operation', 'confirm', 'compare', 'selftest', 'handover', 'break'] as const;

const text = (max: number) => z.string().min(1, 'must not be empty').max(max);
const count = (what: string) => z.number().int(`${what} is a whole number`).min(0).max(1000);

const role = z
  .object({
    min: count('min').describe('How many participants must hold the role.'),
    max: z.number().int('max is a whole number').min(1).max(1000).optional().describe('At most this many; no limit when absent.'),
  })
  .strict();

/** A value to write down at the step (a bag serial, a seal number), with the pattern it must match as a whole. */
const recordedValue = z.object({ pattern: text(512).describe('A regular expression (JavaScript syntax); the whole value must match.') }).strict();

const scalar = z.union([z.string().max(20_000), z.number(), z.boolean()]);
const parameterValue = z.union([scalar, z.array(scalar).max(10_000), z.record(z.string(), scalar)]);

const stepFields = {
  id: z.string().regex(STEP_ID, 'a step id is lower-case letters, digits and hyphens, starting with a letter, and not "output"'),
  title: text(300),
  notes: text(4000).optional().describe('More words for the run sheet, under the title.'),
  performer: z.string().regex(ROLE_NAME, 'a role name is lower-case letters, digits and hyphens').describe('The role whose holder performs the step.'),
  witnesses: count('witnesses').optional().describe('How many participants other than the performer confirm the step (0 when absent).'),
  minutes: z.number().positive('minutes is more than 0').max(24 * 60).optional().describe('Time estimate.'),
};

const operationError = (issue: { input?: unknown }): string => {
  const name = typeof issue.input === 'string' ? issue.input : JSON.stringify(issue.input);
  return planRefusal(String(name)) ?? `${name} is not an operation a plan can call`;
};

const operationStep = z
  .object({
    ...stepFields,
    action: z.literal('operation'),
    operation: z.enum(PLAN_OPERATIONS as [OperationName, ...OperationName[]], { error: operationError }),
    parameters: z
      .record(z.string().regex(PARAMETER_NAME, 'a parameter name is the operation\'s own, in PascalCase'), parameterValue)
      .optional()
      .describe('Fixed by the plan; strings may hold ${step.Field} and ${output} references.'),
  })
  .strict();
const confirmStep = z
  .object({ ...stepFields, action: z.literal('confirm'), record: z.record(z.string().regex(RECORD_NAME, 'a value name is a letter then letters, digits or _'), recordedValue).optional() })
  .strict();
const compareStep = z
  .object({
    ...stepFields,
    action: z.literal('compare'),
    value: text(20_000).describe('Read aloud in hex groups and PGP words; usually a reference such as ${make-key.PublicKeyFingerprint}.'),
    against: text(300).optional().describe('What the witnesses hold to compare with (the connected side\'s screen, last ceremony\'s paper).'),
  })
  .strict();
const selftestStep = z.object({ ...stepFields, action: z.literal('selftest') }).strict();
const handoverStep = z
  .object({
    ...stepFields,
    action: z.literal('handover'),
    object: text(300).describe('What changes hands: a bag, a token, a share.'),
    from: z.string().regex(ROLE_NAME, 'a role name').describe('The role that gives it.'),
    to: z.string().regex(ROLE_NAME, 'a role name').describe('The role that takes it.'),
    record: z.record(z.string().regex(RECORD_NAME, 'a value name is a letter then letters, digits or _'), recordedValue).optional(),
  })
  .strict();
const breakStep = z.object({ ...stepFields, action: z.literal('break') }).strict();

const actionError = (issue: { input?: unknown }): string => {
  const action = (issue.input as { action?: unknown } | undefined)?.action;
  if (action === 'shares') return 'the shares action arrives with recovery shares and is not available yet';
  if (action === undefined) return `a step needs an action: one of ${STEP_ACTIONS.join(', ')}`;
  return `unknown action ${JSON.stringify(action)}: one of ${STEP_ACTIONS.join(', ')}`;
};

export const planStepSchema = z.discriminatedUnion('action', [operationStep, confirmStep, compareStep, selftestStep, handoverStep, breakStep], {
  error: actionError,
});

export const ceremonyPlanSchema = z
  .object({
    ceremony: z
      .object({
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a ceremony id is letters, digits, ., _ and -'),
        title: text(300),
        timezone: text(64).describe('IANA time zone (Asia/Shanghai, Europe/Berlin, UTC): how local times are shown beside UTC.'),
        expectedMinutes: z.number().int('expectedMinutes is a whole number').min(1).max(7 * 24 * 60).optional(),
      })
      .strict(),
    roles: z.record(z.string().regex(ROLE_NAME, 'a role name is lower-case letters, digits and hyphens'), role),
    steps: z.array(planStepSchema).min(1, 'a plan has at least one step').max(1000),
    transcript: z
      .object({ signWith: text(300).optional().describe('A KeyId, an alias or a reference such as ${make-key.KeyId}: the key that signs transcript.json.') })
      .strict()
      .optional(),
  })
  .strict()
  .describe('A Keyroom ceremony plan (docs: README, "Ceremony plans").');

export type CeremonyPlan = z.infer<typeof ceremonyPlanSchema>;
export type PlanStep = z.infer<typeof planStepSchema>;

/** The JSON Schema the repository ships: draft-07, which editors' YAML support reads most widely. */
export function ceremonyPlanJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ceremonyPlanSchema, { target: 'draft-7' }),
    $id: 'https://keyroom.invalid/schemas/ceremony-plan.schema.json',
    title: 'Keyroom ceremony plan',
  };
}
