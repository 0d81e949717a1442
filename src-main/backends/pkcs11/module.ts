/**
 * A PKCS#11 module (the vendor's shared library): find it, load it, C_Initialize, C_Finalize.
 *
 * A library is loaded once per process whatever the number of PKCS11 objects: a second
 * C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED and one C_Finalize ends every caller's
 * sessions. So modules are shared by path and counted: `Pkcs11Module.open` returns the one
 * loaded module for that path, and only the last `release()` finalises it.
 *
 * SoftHSM2 reads SOFTHSM2_CONF at C_Initialize (not at load), and reads it again at the next
 * C_Initialize after a C_Finalize.
 */
import { existsSync, realpathSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import { ckrName, moduleNotFound, toKmsError } from './errors';
import type { ModuleInfoJson } from '../../../src-shared/contract/types';
export type { ModuleInfoJson };

/** Where PKCS#11 libraries usually are, tried in this order when no path is given. */
export const DEFAULT_MODULE_PATHS: readonly string[] = [
  // SoftHSM2 (Debian/Ubuntu, Fedora, Homebrew)
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  // OpenSC (smart cards, many USB tokens)
  '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
  '/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so',
  '/usr/lib/opensc-pkcs11.so',
  '/usr/lib64/opensc-pkcs11.so',
  '/usr/local/lib/opensc-pkcs11.so',
  // Vendors: SafeNet/Thales eToken, YubiKey (ykcs11), Nitrokey/others via OpenSC, Utimaco, Feitian
  '/usr/lib/libeTPkcs11.so',
  '/usr/lib/libykcs11.so',
  '/usr/lib/x86_64-linux-gnu/libykcs11.so',
  '/usr/local/lib/libykcs11.so',
  '/usr/lib/libIDPrimePKCS11.so',
  '/opt/utimaco/lib/libcs_pkcs11_R3.so',
  '/usr/lib/libcs_pkcs11_R3.so',
  '/usr/lib/libshuttle_p11v220.so',
  '/usr/local/lib/libcs_pkcs11_R3.so',
];


interface Shared {
  module: Pkcs11Module;
  refs: number;
}

const LOADED = new Map<string, Shared>();

/** The first existing path: the given one alone, or the default search list. */
export function resolveModulePath(path?: string | null, searchPaths: readonly string[] = DEFAULT_MODULE_PATHS): string {
  if (path) {
    if (!existsSync(path)) throw moduleNotFound([path], 'the file does not exist');
    return path;
  }
  const found = searchPaths.find((p) => existsSync(p));
  if (!found) throw moduleNotFound(searchPaths, 'none of the usual locations has one');
  return found;
}

export class Pkcs11Module {
  /** The pkcs11js binding: every C_* call goes through it. */
  readonly p11: pkcs11js.PKCS11;
  private initialised = false;

  private constructor(
    readonly path: string,
    private readonly key: string,
  ) {
    this.p11 = new pkcs11js.PKCS11();
    try {
      this.p11.load(path);
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw moduleNotFound([path], `it exists but is not a loadable PKCS#11 library: ${why}`);
    }
  }

  /**
   * Load (or share) the module at `path`, or the first one found in `searchPaths`, and
   * C_Initialize it. Throws Hsm.ModuleNotFound naming every path tried.
   */
  static open(path?: string | null, searchPaths: readonly string[] = DEFAULT_MODULE_PATHS): Pkcs11Module {
    const resolved = resolveModulePath(path, searchPaths);
    const key = realpathSync(resolved);
    const shared = LOADED.get(key);
    if (shared) {
      shared.refs++;
      shared.module.initialize();
      return shared.module;
    }
    const module = new Pkcs11Module(resolved, key);
    module.initialize();
    LOADED.set(key, { module, refs: 1 });
    return module;
  }

  get isInitialised(): boolean {
    return this.initialised;
  }

  /** C_Initialize (with OS locking: pkcs11js runs slow calls on worker threads). Idempotent. */
  initialize(): void {
    try {
      this.p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (ckrName(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw toKmsError(e, { action: 'initialise the PKCS#11 library', modulePath: this.path });
    }
    this.initialised = true;
  }

  /** Initialise again after someone finalised the library (CKR_CRYPTOKI_NOT_INITIALIZED). */
  reinitialize(): void {
    this.initialised = false;
    this.initialize();
  }

  /** C_Finalize; a library that is already finalised is fine. */
  finalize(): void {
    if (!this.initialised) return;
    this.initialised = false;
    try {
      this.p11.C_Finalize();
    } catch (e) {
      if (ckrName(e) !== 'CKR_CRYPTOKI_NOT_INITIALIZED') throw toKmsError(e, { action: 'finalise the PKCS#11 library', modulePath: this.path });
    }
  }

  /** Give back one `open()`: the last one finalises the library (which closes its sessions). */
  release(): void {
    const shared = LOADED.get(this.key);
    if (!shared || shared.module !== this) return;
    shared.refs--;
    if (shared.refs > 0) return;
    LOADED.delete(this.key);
    try {
      this.finalize();
    } finally {
      try {
        this.p11.close();
      } catch {
        // unloading is best effort: the process may keep the library mapped
      }
    }
  }

  info(): ModuleInfoJson {
    try {
      const i = this.p11.C_GetInfo();
      return {
        Path: this.path,
        CryptokiVersion: `${i.cryptokiVersion.major}.${i.cryptokiVersion.minor}`,
        Manufacturer: i.manufacturerID.trim(),
        Description: i.libraryDescription.trim(),
        LibraryVersion: `${i.libraryVersion.major}.${i.libraryVersion.minor}`,
      };
    } catch (e) {
      throw toKmsError(e, { action: 'describe the PKCS#11 library', modulePath: this.path });
    }
  }
}

