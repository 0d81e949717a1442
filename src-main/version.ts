/** Keyroom's version, for what it writes into files (BYOK manifests, Azure's .byok generator). */
import pkg from '../package.json';

export const KEYROOM_VERSION: string = pkg.version;
