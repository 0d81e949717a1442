/** The Tokens screen: ListTokens (what a PKCS#11 library shows, without logging in), LoginToken, LogoutToken. */
import type { OperationInput, OperationOutput } from '../../src-shared/contract/operations';
import type { LoggedInToken } from '../../src-shared/contract/types';
import { Pkcs11Module } from '../backends/pkcs11/module';
import { listTokens as describeTokens } from '../backends/pkcs11/tokens';
import type { TokenIdentity } from '../backends/pkcs11/sessionManager';
import type { Session } from './session';

function loggedIn(t: TokenIdentity): LoggedInToken {
  return { Label: t.label, SerialNumber: t.serial, SlotId: t.slotId };
}

export async function listTokens(session: Session): Promise<OperationOutput<'ListTokens'>> {
  const module = Pkcs11Module.open(session.hsmModulePath ?? null);
  try {
    const token = session.loggedInToken;
    return { Module: module.info(), Tokens: describeTokens(module), ...(token ? { LoggedIn: loggedIn(token) } : {}) };
  } finally {
    module.release();
  }
}

/** The PIN crosses as a string (IPC); its Buffer copy is zeroed by the session once used. */
export async function loginToken(session: Session, input: OperationInput<'LoginToken'>): Promise<OperationOutput<'LoginToken'>> {
  return loggedIn(await session.loginToken(Buffer.from(input.Pin, 'utf8'), input.TokenLabel));
}

export async function logoutToken(session: Session): Promise<OperationOutput<'LogoutToken'>> {
  await session.logoutToken();
  return {};
}
