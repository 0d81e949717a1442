/**
 * One handler per contract entry. Handlers are thin: the input is already parsed by the
 * contract's schema (see dispatch.ts); they pick the service and pass the session's collaborators.
 */
import type { OperationInput, OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { Session } from '../services/session';
import * as keystoreOps from '../services/keystoreOps';
import * as keys from '../services/kms/keys';
import * as versions from '../services/kms/versions';
import * as aliases from '../services/kms/aliases';
import * as symmetric from '../services/kms/symmetric';
import * as mac from '../services/kms/mac';
import * as asymmetric from '../services/kms/asymmetric';
import * as importMaterial from '../services/kms/importMaterial';
import * as tokens from '../services/tokens';
import * as orphanHsmKeys from '../services/kms/orphanHsmKeys';
import { digestFile } from '../services/files/digestFile';
import { checkImportParameters } from '../services/ceremony/byok/importParameters';
import { airGapSelfTest } from '../services/ceremony/airGapSelfTest';
import { getKeyCheckValue, wrapKeyMaterial } from '../services/ceremony/byok/wrapKeyMaterial';
import { checkRehearsal, prepareRehearsal } from '../services/ceremony/byok/rehearsal';
import { generateCsr } from '../services/ceremony/csr/generateCsr';
import { signFiles } from '../services/ceremony/sign/signFiles';
import { verifyFile } from '../services/ceremony/sign/verifyFile';
import { rotateAlias } from '../services/ceremony/rotate/rotateAlias';
import { reEncryptFiles } from '../services/ceremony/rotate/reEncryptFiles';
import { listDueRotations, rotateDueKeys } from '../services/ceremony/rotate/dueRotations';
import { getAliasHistory } from '../services/kms/aliases';
import type { OperationControl } from '../services/operationControl';
import * as keystoreSession from './keystoreSession';
import { anchorAuditHead } from '../services/audit/anchor';
import { cancelOperation } from './operationsUnderWay';
import { lintCeremonyPlan } from '../services/ceremony/plan/lintCeremonyPlan';

/** The session, the request's id, and (for long-running operations) its cancel signal and progress. */
export interface HandlerContext extends OperationControl {
  session: Session;
  requestId: string;
}

export type Handler<N extends OperationName> = (input: OperationInput<N>, ctx: HandlerContext) => Promise<OperationOutput<N>>;
export type HandlerTable = { [N in OperationName]: Handler<N> };

export const HANDLERS: HandlerTable = {
  InitKeystore: (i, c) => keystoreOps.initKeystore(c.session, i, c.requestId),
  GetKeystoreStatus: (_i, c) => keystoreSession.getKeystoreStatus(c.session),
  UnlockKeystore: (i, c) => keystoreSession.unlockKeystore(c.session, i),
  LockKeystore: (_i, c) => keystoreSession.lockKeystore(c.session),
  ReportActivity: (_i, c) => keystoreSession.reportActivity(c.session),
  SetAutoLock: (i, c) => keystoreSession.setAutoLock(c.session, i),
  ChangePassphrase: (i, c) => keystoreOps.changePassphrase(c.session, i, c.requestId),
  BackupKeystore: (i, c) => keystoreOps.backupKeystore(c.session, i, c.requestId),
  VerifyAuditLog: (i, c) => keystoreOps.verifyAuditLog(c.session, i),
  AnchorAuditHead: (_i, c) => anchorAuditHead(c.session),
  ExportAuditLog: (i, c) => keystoreOps.exportAuditLog(c.session, i, c.requestId),
  ListAuditEvents: (i, c) => keystoreOps.listAuditEvents(c.session, i),

  CreateKey: (i, c) => keys.createKey(c.session.kms, i, c.requestId, c),
  DescribeKey: (i, c) => keys.describeKey(c.session.kms, i),
  ListKeys: (i, c) => keys.listKeys(c.session.kms, i),
  EnableKey: (i, c) => keys.enableKey(c.session.kms, i, c.requestId),
  DisableKey: (i, c) => keys.disableKey(c.session.kms, i, c.requestId),
  ScheduleKeyDeletion: (i, c) => keys.scheduleKeyDeletion(c.session.kms, i, c.requestId),
  CancelKeyDeletion: (i, c) => keys.cancelKeyDeletion(c.session.kms, i, c.requestId),
  UpdateKeyDescription: (i, c) => keys.updateKeyDescription(c.session.kms, i, c.requestId),
  UpdateRotationPolicy: (i, c) => keys.updateRotationPolicy(c.session.kms, i, c.requestId),
  CreateKeyVersion: (i, c) => versions.createKeyVersion(c.session.kms, i, c.requestId),
  DescribeKeyVersion: (i, c) => versions.describeKeyVersion(c.session.kms, i),
  ListKeyVersions: (i, c) => versions.listKeyVersions(c.session.kms, i),

  CreateAlias: (i, c) => aliases.createAlias(c.session.kms, i, c.requestId),
  UpdateAlias: (i, c) => aliases.updateAlias(c.session.kms, i, c.requestId),
  DeleteAlias: (i, c) => aliases.deleteAlias(c.session.kms, i, c.requestId),
  ListAliases: (i, c) => aliases.listAliases(c.session.kms, i),
  ListAliasesByKeyId: (i, c) => aliases.listAliasesByKeyId(c.session.kms, i),

  Encrypt: (i, c) => symmetric.encrypt(c.session.kms, i, c.requestId),
  Decrypt: (i, c) => symmetric.decrypt(c.session.kms, i, c.requestId),
  ReEncrypt: (i, c) => symmetric.reEncrypt(c.session.kms, i, c.requestId),
  GenerateDataKey: (i, c) => symmetric.generateDataKey(c.session.kms, i, c.requestId),
  GenerateDataKeyWithoutPlaintext: (i, c) => symmetric.generateDataKeyWithoutPlaintext(c.session.kms, i, c.requestId),
  GenerateMac: (i, c) => mac.generateMac(c.session.kms, i, c.requestId),
  VerifyMac: (i, c) => mac.verifyMac(c.session.kms, i, c.requestId),

  GetPublicKey: (i, c) => asymmetric.getPublicKey(c.session.kms, i),
  ExportPublicKey: (i, c) => asymmetric.exportPublicKey(c.session.kms, i, c.requestId),
  AsymmetricSign: (i, c) => asymmetric.asymmetricSign(c.session.kms, i, c.requestId),
  AsymmetricVerify: (i, c) => asymmetric.asymmetricVerify(c.session.kms, i, c.requestId),
  AsymmetricEncrypt: (i, c) => asymmetric.asymmetricEncrypt(c.session.kms, i, c.requestId),
  AsymmetricDecrypt: (i, c) => asymmetric.asymmetricDecrypt(c.session.kms, i, c.requestId),

  GetParametersForImport: (i, c) => importMaterial.getParametersForImport(c.session.kms, i, c.requestId),
  ImportKeyMaterial: (i, c) => importMaterial.importKeyMaterial(c.session.kms, i, c.requestId),
  DeleteKeyMaterial: (i, c) => importMaterial.deleteKeyMaterial(c.session.kms, i, c.requestId),

  ListTokens: (_i, c) => tokens.listTokens(c.session),
  LoginToken: (i, c) => tokens.loginToken(c.session, i),
  LogoutToken: (_i, c) => tokens.logoutToken(c.session),
  ListOrphanHsmKeys: (_i, c) => orphanHsmKeys.listOrphanHsmKeys(c.session.kms),
  DeleteOrphanHsmKey: (i, c) => orphanHsmKeys.deleteOrphanHsmKey(c.session.kms, i, c.requestId),

  DigestFile: (i, c) => digestFile(i, c),
  CancelOperation: (i, c) => cancelOperation(c.session, i),

  AirGapSelfTest: (i, c) => airGapSelfTest(c.session, i, c.requestId),
  CheckImportParameters: async (i, c) => checkImportParameters(i, c.session.clock()).report,
  WrapKeyMaterial: (i, c) => wrapKeyMaterial(c.session.kms, i, c.requestId, { isRehearsalKey: (fp) => c.session.rehearsals.isStandIn(fp) }),
  GetKeyCheckValue: (i, c) => getKeyCheckValue(c.session.kms, i),
  GenerateCsr: (i, c) => generateCsr(c.session.kms, i, c.requestId),
  SignFile: (i, c) => signFiles(c.session.kms, i, c.requestId, c),
  VerifyFile: (i, c) => verifyFile(c.session.kms, i, c.requestId, c),
  RotateAlias: (i, c) => rotateAlias(c.session.kms, i, c.requestId),
  ReEncryptFiles: (i, c) => reEncryptFiles(c.session.kms, i, c.requestId, c),
  ListDueRotations: (_i, c) => listDueRotations(c.session.kms),
  RotateDueKeys: (_i, c) => rotateDueKeys(c.session.kms, c.requestId),
  GetAliasHistory: (i, c) => getAliasHistory(c.session.kms, i),
  PrepareRehearsal: async (i, c) => prepareRehearsal(c.session.rehearsals, i, c.session.clock()),
  CheckRehearsal: (i, c) => checkRehearsal(c.session.rehearsals, i),
  LintCeremonyPlan: (i) => lintCeremonyPlan(i),
};
