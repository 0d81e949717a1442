/** The text of schemas/ceremony-plan.schema.json, from the plan's one definition (planSchema.ts). */
import { fileURLToPath } from 'node:url';
import { ceremonyPlanJsonSchema } from '../../src-shared/ceremony/plan/planSchema';

export const PLAN_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/ceremony-plan.schema.json', import.meta.url));

export function renderPlanSchema(): string {
  return `${JSON.stringify(ceremonyPlanJsonSchema(), null, 2)}\n`;
}
