/**
 * Writes src-shared/contract/errorCodes.generated.ts from the code. Run it after a change that adds
 * or removes a thrown code: `npm run gen:errors`. A unit test fails while the file disagrees.
 */
import { writeFileSync } from 'node:fs';
import { GENERATED, renderErrorCodes } from './render';

writeFileSync(GENERATED, renderErrorCodes());
console.log(`wrote ${GENERATED}`);
