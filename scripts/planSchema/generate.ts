/**
 * Writes schemas/ceremony-plan.schema.json from the plan's zod definition. Run it after changing
 * src-shared/ceremony/plan/planSchema.ts: `npm run gen:plan-schema`. A unit test fails while the
 * file differs.
 */
import { writeFileSync } from 'node:fs';
import { PLAN_SCHEMA_FILE, renderPlanSchema } from './render';

writeFileSync(PLAN_SCHEMA_FILE, renderPlanSchema());
console.log(`wrote ${PLAN_SCHEMA_FILE}`);
