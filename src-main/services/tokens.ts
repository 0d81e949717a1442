/** The Tokens screen: ListTokens (what a PKCS#11 library shows, without logging in), LoginToken, LogoutToken. */
import type { OperationInput, OperationOutput } from '../../src-shared/contract/operations';
import type { LoggedInToken } from '../../src-shared/contract/types';
import { Pkcs11Module } from '../backends/pkcs11/module';
import { listTokens as describeTokens } from '../backends/pkcs11/tokens';
import type { TokenIdentity } from '../backends/pkcs11/sessionManager';
import type { Session } from './session';
import { listOrphanHsmKeys } from './kms/orphanHsmKeys';

function loggedIn(t: TokenIdentity): LoggedInToken {
  return { Label: t.label, SerialNumber: t.serial, SlotId: t.slotId };
}

export async function listTokens(session: Session): Promise<OperationOutput<'ListTokens'>> {
  const module = Pkcs11Module.open(session.hsmModulePath ?? null);
  let out: OperationOutput<'ListTokens'>;
  try {
    const token = session.loggedInToken;
    out = { Module: module.info(), Tokens: describeTokens(module), ...(token ? { LoggedIn: loggedIn(token) } : {}) };
  } finally {
    module.release();
  }
  const orphans = await orphanCount(session);
  return orphans === undefined ? out : { ...out, OrphanHsmKeys: orphans };
}

/**
 * With the keystore open and the token logged in, how many orphan HSM keys ListOrphanHsmKeys
 * would list: the Tokens screen is where a crash's leftovers get noticed. Never a reason for
 * ListTokens to fail: a token that cannot be read now just leaves the count out.
 */
async function orphanCount(session: Session): Promise<number | undefined> {
  if (!session.isOpen || !session.loggedInToken) return undefined;
  try {
    return (await listOrphanHsmKeys(session.kms)).OrphanHsmKeys.length;
  } catch {
    return undefined;
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
