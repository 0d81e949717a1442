/** ListTokens: what a PKCS#11 library shows, without logging in. */
import type { OperationOutput } from '../../src-shared/contract/operations';
import { Pkcs11Module } from '../backends/pkcs11/module';
import { listTokens as describeTokens } from '../backends/pkcs11/tokens';
import type { Session } from './session';

export async function listTokens(session: Session): Promise<OperationOutput<'ListTokens'>> {
  const module = Pkcs11Module.open(session.hsmModulePath ?? null);
  try {
    return { Module: module.info(), Tokens: describeTokens(module) };
  } finally {
    module.release();
  }
}
