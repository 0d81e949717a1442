/**
 * Anchoring the audit head on the token: the one witness of the keystore's age that a copy of
 * the file cannot bring along. Written when the keystore locks with the token logged in, on
 * request (AnchorAuditHead), and by anchorAfterStep() when a ceremony step ends; read by
 * VerifyAuditLog and at unlock while the token is logged in.
 *
 * Anchors only move forward: an anchor that the log does not continue (the keystore is older, or
 * another log) is never overwritten; that disagreement is reported instead.
 */
import { KmsError } from '../../../src-shared/errors';
import type { OperationOutput } from '../../../src-shared/contract/operations';
import type { Keystore } from '../../keystore/keystore';
import type { SqlExecutor } from '../../keystore/sqlcipher';
import type { Pkcs11SessionManager } from '../../backends/pkcs11/sessionManager';
import { anchorLabel, readAnchor, writeAnchor, type AnchoredHead } from '../../backends/pkcs11/auditAnchor';
import { anchorProblem } from './auditLog';
import type { Session } from '../session';

async function keystoreIdOf(db: SqlExecutor): Promise<string> {
  const row = await db.get<{ value: string }>("SELECT value FROM meta WHERE name = 'keystore_id'");
  if (!row) throw new KmsError('Internal', 'The keystore has no keystore_id (migration 2 adds it); open it with this Keyroom to migrate it.');
  return row.value;
}

async function headOf(db: SqlExecutor): Promise<AnchoredHead | undefined> {
  return db.get<AnchoredHead>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
}

function tokenName(manager: Pkcs11SessionManager): string {
  return `token "${manager.token.label}" (serial ${manager.token.serial})`;
}

/**
 * Write the keystore's head onto the token, after checking that the log continues the anchor
 * already there. @throws KmsError Keystore.Tampered (the anchor is ahead of, or not in, this log), Hsm.*
 */
export async function anchorHead(keystore: Keystore, manager: Pkcs11SessionManager): Promise<OperationOutput<'AnchorAuditHead'>> {
  const { id, head } = await keystore.read(async (db) => ({ id: await keystoreIdOf(db), head: await headOf(db) }));
  const out = { ObjectLabel: anchorLabel(id), TokenLabel: manager.token.label, TokenSerial: manager.token.serial };
  const existing = await readAnchor(manager, id);
  if (existing) {
    const problem = await keystore.read((db) => anchorProblem(db, existing, tokenName(manager)));
    if (problem) throw new KmsError('Keystore.Tampered', `The audit head was not anchored: ${problem}. The anchor was left as it is; find out which keystore file is the current one.`);
  }
  if (!head) return { ...out, AnchorSeq: 0, AnchorHash: '' };
  if (existing?.seq !== head.seq || existing.hash !== head.hash) await writeAnchor(manager, id, head);
  return { ...out, AnchorSeq: head.seq, AnchorHash: head.hash };
}

/** AnchorAuditHead: logs in to the configured token if needed (asking for its PIN). */
export async function anchorAuditHead(session: Session): Promise<OperationOutput<'AnchorAuditHead'>> {
  const manager = await session.tokenSessionManager(true);
  return anchorHead(session.kms.keystore, manager!);
}

/**
 * For the ceremony runner, when a step ends: anchor if a token is logged in, never log in for it.
 * Returns the anchored seq, or undefined when no token is logged in.
 */
export async function anchorAfterStep(session: Session): Promise<number | undefined> {
  const manager = await session.tokenSessionManager(false);
  if (!manager) return undefined;
  return (await anchorHead(session.kms.keystore, manager)).AnchorSeq;
}

/** The anchor of this keystore on the logged-in token, for VerifyAuditLog (none: undefined). */
export async function tokenAnchor(session: Session): Promise<{ seq: number; hash: string; token: string } | undefined> {
  const manager = await session.tokenSessionManager(false);
  if (!manager) return undefined;
  const id = await session.kms.keystore.read(keystoreIdOf);
  const anchor = await readAnchor(manager, id);
  return anchor && { ...anchor, token: tokenName(manager) };
}

/** At unlock with the token logged in: refuse a keystore that is older than its anchor. */
export async function assertNotOlderThanAnchor(keystore: Keystore, manager: Pkcs11SessionManager): Promise<void> {
  const id = await keystore.read(keystoreIdOf);
  const anchor = await readAnchor(manager, id);
  if (!anchor) return;
  const problem = await keystore.read((db) => anchorProblem(db, anchor, tokenName(manager)));
  if (problem) {
    throw new KmsError(
      'Keystore.Tampered',
      `The keystore ${keystore.path} was not opened: ${problem}. Find the current keystore file; to look at this one anyway, log out of the token first (LogoutToken).`,
    );
  }
}
