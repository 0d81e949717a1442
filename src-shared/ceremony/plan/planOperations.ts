/**
 * Which contract operations a plan's `operation` step may call, as data. The table is keyed by
 * every OperationName, so adding an operation to the contract fails to type-check until someone
 * decides here whether a ceremony may call it (fail closed: nothing is callable by default).
 *
 * A plan is reviewed beforehand and printed, so it carries no secret; an operation that needs one
 * (or answers with one, which the transcript would record) is refused. Session verbs belong to the
 * ceremony runner, not to the plan.
 */
import { OPERATIONS, type OperationDef, type OperationName } from '../../contract/operations';

export type PlanUse = { inPlans: true } | { inPlans: false; reason: string };

const ALLOWED: PlanUse = { inPlans: true };
const refuse = (reason: string): PlanUse => ({ inPlans: false, reason });

const SESSION = 'is a session verb of the app; the ceremony runner opens, locks and keeps the session itself (a break step locks the keystore)';
const SECRET_IN = 'takes a secret (passphrase, PIN or plaintext), and a plan never holds one';
const SECRET_OUT = 'answers with plaintext, which the transcript would record';

export const PLAN_OPERATION_USE: { readonly [N in OperationName]: PlanUse } = {
  InitKeystore: refuse('runs before a ceremony: a ceremony starts in an existing keystore and records its audit head'),
  GetKeystoreStatus: refuse(SESSION),
  UnlockKeystore: refuse(SESSION),
  LockKeystore: refuse(SESSION),
  ReportActivity: refuse(SESSION),
  SetAutoLock: refuse(SESSION),
  ChangePassphrase: refuse(`${SECRET_IN}; change the passphrase outside the ceremony, or record it as an exception`),
  BackupKeystore: ALLOWED,
  VerifyAuditLog: ALLOWED,
  AnchorAuditHead: ALLOWED,
  ExportAuditLog: ALLOWED,
  ListAuditEvents: ALLOWED,
  CreateKey: ALLOWED,
  DescribeKey: ALLOWED,
  ListKeys: ALLOWED,
  EnableKey: ALLOWED,
  DisableKey: ALLOWED,
  ScheduleKeyDeletion: ALLOWED,
  CancelKeyDeletion: ALLOWED,
  UpdateKeyDescription: ALLOWED,
  UpdateRotationPolicy: ALLOWED,
  CreateKeyVersion: ALLOWED,
  DescribeKeyVersion: ALLOWED,
  ListKeyVersions: ALLOWED,
  CreateAlias: ALLOWED,
  UpdateAlias: ALLOWED,
  DeleteAlias: ALLOWED,
  ListAliases: ALLOWED,
  ListAliasesByKeyId: ALLOWED,
  Encrypt: refuse(SECRET_IN),
  Decrypt: refuse(SECRET_OUT),
  ReEncrypt: ALLOWED,
  GenerateDataKey: refuse(`${SECRET_OUT}; use GenerateDataKeyWithoutPlaintext`),
  GenerateDataKeyWithoutPlaintext: ALLOWED,
  GenerateMac: ALLOWED,
  VerifyMac: ALLOWED,
  GetPublicKey: ALLOWED,
  ExportPublicKey: ALLOWED,
  AsymmetricSign: ALLOWED,
  AsymmetricVerify: ALLOWED,
  AsymmetricEncrypt: refuse(SECRET_IN),
  AsymmetricDecrypt: refuse(SECRET_OUT),
  GetParametersForImport: ALLOWED,
  ImportKeyMaterial: ALLOWED,
  DeleteKeyMaterial: ALLOWED,
  ListTokens: ALLOWED,
  LoginToken: refuse(`${SECRET_IN}; the runner asks for the PIN when an HSM key is first used`),
  LogoutToken: refuse(SESSION),
  ListOrphanHsmKeys: ALLOWED,
  DeleteOrphanHsmKey: ALLOWED,
  DigestFile: ALLOWED,
  CancelOperation: refuse(SESSION),
  AirGapSelfTest: refuse('is the selftest action: write `action: selftest` in the step instead'),
  CheckImportParameters: ALLOWED,
  WrapKeyMaterial: ALLOWED,
  GetKeyCheckValue: ALLOWED,
  GenerateCsr: ALLOWED,
  SignFile: ALLOWED,
  VerifyFile: ALLOWED,
  RotateAlias: ALLOWED,
  ReEncryptFiles: ALLOWED,
  ListDueRotations: ALLOWED,
  RotateDueKeys: ALLOWED,
  GetAliasHistory: ALLOWED,
  PrepareRehearsal: refuse('is the app\'s stand-in cloud for a BYOK wizard rehearsal; one plan serves the rehearsal and the real run, so it cannot call a stand-in'),
  CheckRehearsal: refuse('is the app\'s BYOK wizard rehearsal check; one plan serves the rehearsal and the real run'),
  LintCeremonyPlan: refuse('checks a plan; a plan does not check plans (lint it before the day)'),
};

/** The operations a plan may call, in the contract's order. */
export const PLAN_OPERATIONS = (Object.keys(PLAN_OPERATION_USE) as OperationName[]).filter((n) => PLAN_OPERATION_USE[n].inPlans);

/** Why `name` cannot be a plan step, or undefined when it can. */
export function planRefusal(name: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(PLAN_OPERATION_USE, name)) return `${name} is not a Keyroom operation`;
  const use = PLAN_OPERATION_USE[name as OperationName];
  return use.inPlans ? undefined : `${name} cannot be a plan step: it ${use.reason}`;
}

/**
 * Words in a parameter's name that mark a secret, beyond the contract's own `secrets` lists (a
 * later operation whose author forgets `secrets` is still caught). Names are PascalCase and split
 * into words, so `Pin` matches `Pin` and `PinFile` but not `Spinner`; `KeyMaterial` is secret
 * unless it is `EncryptedKeyMaterial` or `WrappedKeyMaterial` (ciphertext, which may travel), and
 * `PrivateKey` always is. A PIN's or passphrase's file path is refused too: credentials and
 * where they live belong to the machine, not to the reviewed plan (boulder issue #8377). `Share`
 * is not on the list: recovery shares are issued by the `shares` action, never typed into a plan,
 * and their operations will take counts such as `Shares` and `Threshold`.
 */
const SECRET_WORDS = new Set(['Passphrase', 'Password', 'Pin', 'Plaintext', 'Secret', 'Seed', 'Mnemonic']);

function words(name: string): string[] {
  return name.match(/[A-Z][a-z0-9]*|[a-z0-9]+/g) ?? [];
}

/** Why parameter `param` of `operation` may not appear in a plan, or undefined. */
export function secretParameter(operation: OperationName, param: string): string | undefined {
  const secrets = (OPERATIONS[operation] as OperationDef).secrets ?? [];
  if ((secrets as readonly string[]).includes(param)) return `${param} is a secret input of ${operation}; a plan never holds one`;
  const w = words(param);
  const hit = w.find((x) => SECRET_WORDS.has(x));
  if (hit) return `${param} names a secret (${hit}); a plan never holds a passphrase, PIN, plaintext or key material`;
  for (let i = 0; i + 1 < w.length; i++) {
    if (w[i] === 'Private' && w[i + 1] === 'Key') return `${param} names a private key; a plan never holds key material`;
    if (w[i] === 'Key' && w[i + 1] === 'Material' && w[i - 1] !== 'Encrypted' && w[i - 1] !== 'Wrapped') {
      return `${param} names key material; a plan holds only wrapped (EncryptedKeyMaterial) material`;
    }
  }
  return undefined;
}

/** Key material pasted into any text of a plan: a PEM private key block. */
export const PRIVATE_KEY_PEM = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
