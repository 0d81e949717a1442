/**
 * The lint rules that prove the architecture (eslint.config.js) must fire: each planted import
 * that crosses a boundary is an error at the path where it would sit, and the allowed ones are not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message);
}

const REFUSED: [string, string][] = [
  ['src-shared/domain/x.ts', "import { readFileSync } from 'node:fs';"],
  ['src-shared/domain/x.ts', "import fs from 'fs';"],
  ['src-shared/domain/x.ts', "import { app } from 'electron';"],
  ['src-shared/domain/x.ts', 'export const w = window.innerWidth;'],
  ['src-shared/domain/x.ts', "import { KmsError } from '../../src-main/keystore/keystore';"],
  ['src-renderer/src/x.ts', "import { dispatch } from '../../src-main/handlers/dispatch';"],
  ['src-renderer/src/x.ts', "import { createHash } from 'node:crypto';"],
  ['src-main/services/x.ts', "import { app } from 'electron';"],
  ['src-main/app/window.ts', "import { ipcMain } from 'electron';"],
  ['src-main/app/ipc.ts', "import { ipcRenderer } from 'electron';"],
  ['src-main/app/preload.ts', "import { ipcMain } from 'electron';"],
  ['src-main/services/kms/x.ts', "import { dispatch } from '../../handlers/dispatch';"],
  ['src-main/services/kms/x.ts', "import { main } from '../../cli/main';"],
  ['src-main/backends/pkcs11/x.ts', "import { Keystore } from '../../keystore/keystore';"],
  ['src-main/backends/x.ts', "import { createKey } from '../services/kms/keys';"],
  ['src-main/crypto/x.ts', "import type { KeyBackend } from '../backends/backend';"],
  ['src-main/keystore/x.ts', "import { appendAudit } from '../services/audit/auditLog';"],
  ['src-main/services/x.ts', 'export function f(a: any): void { void a; }'],
];

const ALLOWED: [string, string][] = [
  ['src-shared/domain/x.ts', "import { KEY_SPECS } from './keySpecs';"],
  ['src-renderer/src/x.ts', "import { KEY_SPECS } from '../../src-shared/domain/keySpecs';"],
  ['src-main/app/ipc.ts', "import { ipcMain } from 'electron';"],
  ['src-main/app/preload.ts', "import { ipcRenderer } from 'electron';"],
  ['src-main/app/main.ts', "import { app } from 'electron';"],
  ['src-main/services/kms/x.ts', "import { Keystore } from '../../keystore/keystore';"],
  ['src-main/backends/x.ts', "import { wipe } from '../crypto/wipe';"],
];

describe('lint proves the runtime boundaries', () => {
  for (const [path, code] of REFUSED) {
    it(`refuses in ${path}: ${code}`, async () => {
      assert.ok((await problems(path, code)).length > 0, 'expected a lint error');
    });
  }
  for (const [path, code] of ALLOWED) {
    it(`allows in ${path}: ${code}`, async () => {
      assert.deepEqual(await problems(path, code), []);
    });
  }
});
