/**
 * One handler per contract entry. Handlers are thin: the input is already parsed by the
 * contract's schema (see dispatch.ts); they pick the service and pass the session's collaborators.
 */
import type { OperationInput, OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { Session } from '../services/session';
import type { OperationControl } from '../services/operationControl';
import * as keystoreSession from './keystoreSession';
import { cancelOperation } from './operationsUnderWay';

/** The session, the request's id, and (for long-running operations) its cancel signal and progress. */
export interface HandlerContext extends OperationControl {
  session: Session;
  requestId: string;
}

export type Handler<N extends OperationName> = (input: OperationInput<N>, ctx: HandlerContext) => Promise<OperationOutput<N>>;
export type HandlerTable = { [N in OperationName]: Handler<N> };

/**
 * Each service module loads when the first operation that needs it runs, not when the table does:
 * a command runs one operation, and importing every service up front (ASN.1, the curves, the
 * ceremony code) cost the `keyroom` command about 0.1 s of start-up. The bundle puts each module
 * in its own chunk. The promise is kept, so later calls do not go through the module loader again.
 */
function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    if (!loading) {
      loading = load();
      // A failed load is tried again next time rather than remembered.
      loading.catch(() => (loading = undefined));
    }
    return loading;
  };
}

const load = {
  keystoreOps: lazy(() => import('../services/keystoreOps')),
  keys: lazy(() => import('../services/kms/keys')),
  versions: lazy(() => import('../services/kms/versions')),
  aliases: lazy(() => import('../services/kms/aliases')),
  symmetric: lazy(() => import('../services/kms/symmetric')),
  mac: lazy(() => import('../services/kms/mac')),
  asymmetric: lazy(() => import('../services/kms/asymmetric')),
  importMaterial: lazy(() => import('../services/kms/importMaterial')),
  tokens: lazy(() => import('../services/tokens')),
  orphanHsmKeys: lazy(() => import('../services/kms/orphanHsmKeys')),
  digestFile: lazy(() => import('../services/files/digestFile')),
  importParameters: lazy(() => import('../services/ceremony/byok/importParameters')),
  airGapSelfTest: lazy(() => import('../services/ceremony/airGapSelfTest')),
  lintCeremonyPlan: lazy(() => import('../services/ceremony/plan/lintCeremonyPlan')),
  wrapKeyMaterial: lazy(() => import('../services/ceremony/byok/wrapKeyMaterial')),
  rehearsal: lazy(() => import('../services/ceremony/byok/rehearsal')),
  generateCsr: lazy(() => import('../services/ceremony/csr/generateCsr')),
  signFiles: lazy(() => import('../services/ceremony/sign/signFiles')),
  verifyFile: lazy(() => import('../services/ceremony/sign/verifyFile')),
  rotateAlias: lazy(() => import('../services/ceremony/rotate/rotateAlias')),
  reEncryptFiles: lazy(() => import('../services/ceremony/rotate/reEncryptFiles')),
  dueRotations: lazy(() => import('../services/ceremony/rotate/dueRotations')),
  anchor: lazy(() => import('../services/audit/anchor')),
};

export const HANDLERS: HandlerTable = {
  InitKeystore: async (i, c) => (await load.keystoreOps()).initKeystore(c.session, i, c.requestId),
  GetKeystoreStatus: (_i, c) => keystoreSession.getKeystoreStatus(c.session),
  UnlockKeystore: (i, c) => keystoreSession.unlockKeystore(c.session, i),
  LockKeystore: (_i, c) => keystoreSession.lockKeystore(c.session),
  ReportActivity: (_i, c) => keystoreSession.reportActivity(c.session),
  SetAutoLock: (i, c) => keystoreSession.setAutoLock(c.session, i),
  ChangePassphrase: async (i, c) => (await load.keystoreOps()).changePassphrase(c.session, i, c.requestId),
  BackupKeystore: async (i, c) => (await load.keystoreOps()).backupKeystore(c.session, i, c.requestId),
  VerifyAuditLog: async (i, c) => (await load.keystoreOps()).verifyAuditLog(c.session, i),
  AnchorAuditHead: async (_i, c) => (await load.anchor()).anchorAuditHead(c.session),
  ExportAuditLog: async (i, c) => (await load.keystoreOps()).exportAuditLog(c.session, i, c.requestId),
  ListAuditEvents: async (i, c) => (await load.keystoreOps()).listAuditEvents(c.session, i),

  CreateKey: async (i, c) => (await load.keys()).createKey(c.session.kms, i, c.requestId, c),
  DescribeKey: async (i, c) => (await load.keys()).describeKey(c.session.kms, i),
  ListKeys: async (i, c) => (await load.keys()).listKeys(c.session.kms, i),
  EnableKey: async (i, c) => (await load.keys()).enableKey(c.session.kms, i, c.requestId),
  DisableKey: async (i, c) => (await load.keys()).disableKey(c.session.kms, i, c.requestId),
  ScheduleKeyDeletion: async (i, c) => (await load.keys()).scheduleKeyDeletion(c.session.kms, i, c.requestId),
  CancelKeyDeletion: async (i, c) => (await load.keys()).cancelKeyDeletion(c.session.kms, i, c.requestId),
  UpdateKeyDescription: async (i, c) => (await load.keys()).updateKeyDescription(c.session.kms, i, c.requestId),
  UpdateRotationPolicy: async (i, c) => (await load.keys()).updateRotationPolicy(c.session.kms, i, c.requestId),
  CreateKeyVersion: async (i, c) => (await load.versions()).createKeyVersion(c.session.kms, i, c.requestId),
  DescribeKeyVersion: async (i, c) => (await load.versions()).describeKeyVersion(c.session.kms, i),
  ListKeyVersions: async (i, c) => (await load.versions()).listKeyVersions(c.session.kms, i),

  CreateAlias: async (i, c) => (await load.aliases()).createAlias(c.session.kms, i, c.requestId),
  UpdateAlias: async (i, c) => (await load.aliases()).updateAlias(c.session.kms, i, c.requestId),
  DeleteAlias: async (i, c) => (await load.aliases()).deleteAlias(c.session.kms, i, c.requestId),
  ListAliases: async (i, c) => (await load.aliases()).listAliases(c.session.kms, i),
  ListAliasesByKeyId: async (i, c) => (await load.aliases()).listAliasesByKeyId(c.session.kms, i),

  Encrypt: async (i, c) => (await load.symmetric()).encrypt(c.session.kms, i, c.requestId),
  Decrypt: async (i, c) => (await load.symmetric()).decrypt(c.session.kms, i, c.requestId),
  ReEncrypt: async (i, c) => (await load.symmetric()).reEncrypt(c.session.kms, i, c.requestId),
  GenerateDataKey: async (i, c) => (await load.symmetric()).generateDataKey(c.session.kms, i, c.requestId),
  GenerateDataKeyWithoutPlaintext: async (i, c) => (await load.symmetric()).generateDataKeyWithoutPlaintext(c.session.kms, i, c.requestId),
  GenerateMac: async (i, c) => (await load.mac()).generateMac(c.session.kms, i, c.requestId),
  VerifyMac: async (i, c) => (await load.mac()).verifyMac(c.session.kms, i, c.requestId),

  GetPublicKey: async (i, c) => (await load.asymmetric()).getPublicKey(c.session.kms, i),
  ExportPublicKey: async (i, c) => (await load.asymmetric()).exportPublicKey(c.session.kms, i, c.requestId),
  AsymmetricSign: async (i, c) => (await load.asymmetric()).asymmetricSign(c.session.kms, i, c.requestId),
  AsymmetricVerify: async (i, c) => (await load.asymmetric()).asymmetricVerify(c.session.kms, i, c.requestId),
  AsymmetricEncrypt: async (i, c) => (await load.asymmetric()).asymmetricEncrypt(c.session.kms, i, c.requestId),
  AsymmetricDecrypt: async (i, c) => (await load.asymmetric()).asymmetricDecrypt(c.session.kms, i, c.requestId),

  GetParametersForImport: async (i, c) => (await load.importMaterial()).getParametersForImport(c.session.kms, i, c.requestId),
  ImportKeyMaterial: async (i, c) => (await load.importMaterial()).importKeyMaterial(c.session.kms, i, c.requestId),
  DeleteKeyMaterial: async (i, c) => (await load.importMaterial()).deleteKeyMaterial(c.session.kms, i, c.requestId),

  ListTokens: async (_i, c) => (await load.tokens()).listTokens(c.session),
  LoginToken: async (i, c) => (await load.tokens()).loginToken(c.session, i),
  LogoutToken: async (_i, c) => (await load.tokens()).logoutToken(c.session),
  ListOrphanHsmKeys: async (_i, c) => (await load.orphanHsmKeys()).listOrphanHsmKeys(c.session.kms),
  DeleteOrphanHsmKey: async (i, c) => (await load.orphanHsmKeys()).deleteOrphanHsmKey(c.session.kms, i, c.requestId),

  DigestFile: async (i, c) => (await load.digestFile()).digestFile(i, c),
  CancelOperation: (i, c) => cancelOperation(c.session, i),

  AirGapSelfTest: async (i, c) => (await load.airGapSelfTest()).airGapSelfTest(c.session, i, c.requestId),
  CheckImportParameters: async (i, c) => (await load.importParameters()).checkImportParameters(i, c.session.clock()).report,
  WrapKeyMaterial: async (i, c) => (await load.wrapKeyMaterial()).wrapKeyMaterial(c.session.kms, i, c.requestId, { isRehearsalKey: (fp) => c.session.rehearsals.isStandIn(fp) }),
  GetKeyCheckValue: async (i, c) => (await load.wrapKeyMaterial()).getKeyCheckValue(c.session.kms, i),
  GenerateCsr: async (i, c) => (await load.generateCsr()).generateCsr(c.session.kms, i, c.requestId),
  SignFile: async (i, c) => (await load.signFiles()).signFiles(c.session.kms, i, c.requestId, c),
  VerifyFile: async (i, c) => (await load.verifyFile()).verifyFile(c.session.kms, i, c.requestId, c),
  RotateAlias: async (i, c) => (await load.rotateAlias()).rotateAlias(c.session.kms, i, c.requestId),
  ReEncryptFiles: async (i, c) => (await load.reEncryptFiles()).reEncryptFiles(c.session.kms, i, c.requestId, c),
  ListDueRotations: async (_i, c) => (await load.dueRotations()).listDueRotations(c.session.kms),
  RotateDueKeys: async (_i, c) => (await load.dueRotations()).rotateDueKeys(c.session.kms, c.requestId),
  GetAliasHistory: async (i, c) => (await load.aliases()).getAliasHistory(c.session.kms, i),
  PrepareRehearsal: async (i, c) => (await load.rehearsal()).prepareRehearsal(c.session.rehearsals, i, c.session.clock()),
  CheckRehearsal: async (i, c) => (await load.rehearsal()).checkRehearsal(c.session.rehearsals, i),
  LintCeremonyPlan: async (i) => (await load.lintCeremonyPlan()).lintCeremonyPlan(i),
};
