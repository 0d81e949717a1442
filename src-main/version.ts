/** Keyroom's version, for what it writes into files (BYOK manifests, Azure's .byok generator). */
import pkg from '../package.json';

export const KEYROOM_VERSION: string = pkg.version;

/**
 * The day this version was released: a clock that reads earlier is certainly wrong (the air-gap
 * self-test's clock check). Raise it with the version.
 */
export const KEYROOM_RELEASE_DATE = '2026-12-01';
