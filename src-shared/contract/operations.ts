/**
 * The contract: every operation once, with its runtime input schema and what it needs from the
 * session. The CLI, the IPC binding, the renderer client and the e2e host are derived from this
 * table; the handler table implements it. Error codes are derived from the code itself
 * (errorCodes.generated.ts), because hand-kept lists drifted.
 */
import { z } from 'zod';
import type { OperationOutputs } from './types';
import { CSR_TEMPLATES } from '../domain/csrRequest';
import { OPENPGP_USER_ID, PUBLIC_KEY_FORMATS, SIGNATURE_FORMATS, SSH_NAMESPACE } from '../domain/signatureFormats';
import { AUTO_LOCK_MAX_MINUTES, AUTO_LOCK_MIN_MINUTES } from '../domain/autoLock';
import {
  keyIdField,
  keyVersionIdField,
  aliasNameField,
  keySpecField,
  keyUsageField,
  protectionLevelField,
  originField,
  signingAlgorithmField,
  encryptionAlgorithmField,
  macAlgorithmField,
  base64Field,
  encryptionContextField,
  boolField,
  intField,
  pageNumberField,
  pageSizeField,
  passphraseField,
  filePathField,
  pinField,
  operationIdField,
  digestAlgorithmField,
  byokTargetField,
  wrappingKeySpecField,
  byokAlgorithmField,
  wrappingPublicKeyField,
  tokenExpireTimeField,
  importTokenField,
  sm2CiphertextEncodingField,
  rehearsalIdField,
  outputPathField,
} from './fields';
import { importTokenProblem } from '../domain/byokTargets';

/** What an operation needs before its handler runs. */
export type KeystoreNeed = 'none' | 'open';

/**
 * Who may call an operation. The app keeps one keystore session open across calls; the CLI opens
 * and locks the keystore around every command, so session operations mean nothing there.
 */
export type FrontDoor = 'cli' | 'app';
export const FRONT_DOORS = ['cli', 'app'] as const satisfies readonly FrontDoor[];

export interface OperationDef<I extends z.ZodObject = z.ZodObject> {
  summary: string;
  group: 'Keystore' | 'Keys' | 'Versions' | 'Aliases' | 'Cryptography' | 'Import' | 'Audit' | 'Tokens' | 'Files' | 'Ceremony';
  input: I;
  keystore: KeystoreNeed;
  /** Secret inputs: the CLI never takes them as arguments, only from a file, env or a prompt. */
  secrets?: readonly (keyof z.infer<I> & string)[];
  /** The front doors that offer the operation; both when absent. */
  frontDoors?: readonly FrontDoor[];
  /**
   * Long enough to need progress and a way out (RSA-4096 generation, hashing a large file): the
   * input takes an optional OperationId, progress events carry it, and CancelOperation with it
   * stops the operation before anything is written (it then answers Cancelled).
   */
  longRunning?: true;
}
const paging = { PageNumber: pageNumberField.optional(), PageSize: pageSizeField.optional() };

/** A date (2027-01-01) or an ISO-8601 time with its zone (2027-01-01T09:00:00+08:00). */
const planDateField = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/, 'a date, 2027-01-01, or a time with its zone, 2027-01-01T09:00:00Z')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a real date');

/** GenerateDataKey and GenerateDataKeyWithoutPlaintext take the same input. */
const dataKeyInput = z
  .object({
    KeyId: keyIdField,
    KeySpec: z.enum(['AES_128', 'AES_256']).optional(),
    NumberOfBytes: intField(1, 1024).optional(),
    EncryptionContext: encryptionContextField.optional(),
  })
  .strict();

/** Keeps each entry's front doors as a literal type, so AppOperationName is known statically. */
function op<I extends z.ZodObject, const D extends readonly FrontDoor[] = typeof FRONT_DOORS>(
  def: OperationDef<I> & { frontDoors?: D },
): OperationDef<I> & { frontDoors?: D } {
  return def;
}

export const OPERATIONS = {
  InitKeystore: op({
    summary: 'Create a new encrypted keystore (the passphrase comes from --passphrase-file, KEYROOM_PASSPHRASE or a prompt).',
    group: 'Keystore',
    keystore: 'none',
    input: z.object({ Passphrase: passphraseField }).strict(),
    secrets: ['Passphrase'],
  }),
  GetKeystoreStatus: op({
    summary: 'Where the keystore file is, whether it exists, and whether it is unlocked in this session.',
    group: 'Keystore',
    keystore: 'none',
    frontDoors: ['app'],
    input: z.object({}).strict(),
  }),
  UnlockKeystore: op({
    summary: 'Open the keystore with its passphrase for this session, and carry out what fell due while it was closed.',
    group: 'Keystore',
    keystore: 'none',
    frontDoors: ['app'],
    input: z.object({ Passphrase: passphraseField }).strict(),
    secrets: ['Passphrase'],
  }),
  LockKeystore: op({
    summary: 'Close the keystore: every operation that needs it answers Keystore.Locked until it is unlocked again.',
    group: 'Keystore',
    keystore: 'none',
    frontDoors: ['app'],
    input: z.object({}).strict(),
  }),
  ReportActivity: op({
    summary: 'The operator used the keyboard or mouse in the window: the main process restarts its auto-lock countdown (the window sends this at most every few seconds).',
    group: 'Keystore',
    keystore: 'none',
    frontDoors: ['app'],
    input: z.object({}).strict(),
  }),
  SetAutoLock: op({
    summary: 'How many minutes (1 to 60) without activity in the window before the main process locks the keystore and logs out of the token; restarts the countdown.',
    group: 'Keystore',
    keystore: 'none',
    frontDoors: ['app'],
    input: z.object({ Minutes: intField(AUTO_LOCK_MIN_MINUTES, AUTO_LOCK_MAX_MINUTES) }).strict(),
  }),
  ChangePassphrase: op({
    summary: 'Re-encrypt the keystore under a new passphrase. The current one is the passphrase that opens it; the new one comes from --new-passphrase-file, KEYROOM_NEW_PASSPHRASE or a prompt.',
    group: 'Keystore',
    keystore: 'open',
    // The current passphrase too: an unlocked window left unattended must not be enough to take
    // the keystore over. The command line passes the one it unlocked with.
    input: z.object({ CurrentPassphrase: z.string().min(1, 'give the current passphrase').max(1024), NewPassphrase: passphraseField }).strict(),
    secrets: ['CurrentPassphrase', 'NewPassphrase'],
  }),
  BackupKeystore: op({
    summary: 'Write an encrypted copy of the keystore that opens with the same passphrase.',
    group: 'Keystore',
    keystore: 'open',
    input: z.object({ OutputFile: outputPathField }).strict(),
  }),
  VerifyAuditLog: op({
    summary:
      'Check the whole hash chain of the audit log and name the first bad entry; with ExpectedHeadHash (a HeadHash written down earlier), also that it is this log\'s head or an earlier entry; with a logged-in token, also its anchor; list outputs recorded but never published (Unpublished).',
    group: 'Audit',
    keystore: 'open',
    input: z
      .object({ ExpectedHeadHash: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a HeadHash: 64 hexadecimal characters').optional() })
      .strict(),
  }),
  AnchorAuditHead: op({
    summary: 'Write the audit log\'s head onto the logged-in token (a private data object), so that a keystore put back from an older copy is reported later; also done when the keystore locks.',
    group: 'Audit',
    keystore: 'open',
    input: z.object({}).strict(),
  }),
  ExportAuditLog: op({
    summary: 'Write the audit log as JSON lines to a new file; the log then records the file and its SHA-256.',
    group: 'Audit',
    keystore: 'open',
    input: z.object({ OutputFile: outputPathField }).strict(),
  }),
  ListAuditEvents: op({
    summary: 'Read the audit log, newest entry first, a page at a time; optionally one operation\'s or one key\'s entries only.',
    group: 'Audit',
    keystore: 'open',
    input: z
      .object({
        Operation: z.string().regex(/^[A-Za-z]{1,64}$/, 'an operation name, such as CreateKey').optional(),
        KeyId: z.string().regex(/^[0-9a-f-]{36}$/i, 'a KeyId is a UUID').optional(),
        ...paging,
      })
      .strict(),
  }),

  CreateKey: op({
    summary: 'Create a key (CMK). KeySpec defaults to AES_256, ProtectionLevel to SOFTWARE.',
    group: 'Keys',
    keystore: 'open',
    input: z
      .object({
        KeySpec: keySpecField.optional(),
        KeyUsage: keyUsageField.optional(),
        Origin: originField.optional(),
        ProtectionLevel: protectionLevelField.optional(),
        Description: z.string().max(8192).optional(),
        Exportable: boolField.optional(),
        EnableAutomaticRotation: boolField.optional(),
        RotationInterval: z.string().optional(),
        OperationId: operationIdField.optional(),
      })
      .strict(),
    longRunning: true,
  }),
  DescribeKey: op({
    summary: 'Show a key\'s metadata.',
    group: 'Keys',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField }).strict(),
  }),
  ListKeys: op({
    summary: 'List keys, a page at a time.',
    group: 'Keys',
    keystore: 'open',
    input: z.object(paging).strict(),
  }),
  EnableKey: op({
    summary: 'Enable a disabled key.',
    group: 'Keys',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField }).strict(),
  }),
  DisableKey: op({
    summary: 'Disable a key: it encrypts, decrypts, signs and generates nothing until enabled.',
    group: 'Keys',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField }).strict(),
  }),
  ScheduleKeyDeletion: op({
    summary: 'Schedule a key\'s destruction after 7 to 30 days (default 30).',
    group: 'Keys',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, PendingWindowInDays: intField(7, 30).optional() }).strict(),
  }),
  CancelKeyDeletion: op({
    summary: 'Cancel a scheduled deletion; the key returns to Enabled.',
    group: 'Keys',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField }).strict(),
  }),
  UpdateKeyDescription: op({
    summary: 'Change a key\'s description.',
    group: 'Keys',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, Description: z.string().max(8192) }).strict(),
  }),
  UpdateRotationPolicy: op({
    summary: 'Turn automatic rotation on or off; RotationInterval 7d to 730d (e.g. "365d" or "604800s").',
    group: 'Versions',
    keystore: 'open',
    input: z
      .object({ KeyId: keyIdField, EnableAutomaticRotation: boolField, RotationInterval: z.string().optional() })
      .strict(),
  }),
  CreateKeyVersion: op({
    summary: 'Make a new key version (the new primary for symmetric keys).',
    group: 'Versions',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField }).strict(),
  }),
  DescribeKeyVersion: op({
    summary: 'Show one key version.',
    group: 'Versions',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, KeyVersionId: keyVersionIdField }).strict(),
  }),
  ListKeyVersions: op({
    summary: 'List a key\'s versions, newest first.',
    group: 'Versions',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, ...paging }).strict(),
  }),

  CreateAlias: op({
    summary: 'Give a key an alias (alias/...).',
    group: 'Aliases',
    keystore: 'open',
    input: z.object({ AliasName: aliasNameField, KeyId: keyIdField }).strict(),
  }),
  UpdateAlias: op({
    summary: 'Point an alias at another key; both keys are untouched.',
    group: 'Aliases',
    keystore: 'open',
    input: z.object({ AliasName: aliasNameField, KeyId: keyIdField }).strict(),
  }),
  DeleteAlias: op({
    summary: 'Delete an alias; the key is untouched.',
    group: 'Aliases',
    keystore: 'open',
    input: z.object({ AliasName: aliasNameField }).strict(),
  }),
  ListAliases: op({
    summary: 'List all aliases.',
    group: 'Aliases',
    keystore: 'open',
    input: z.object(paging).strict(),
  }),
  ListAliasesByKeyId: op({
    summary: 'List the aliases of one key.',
    group: 'Aliases',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, ...paging }).strict(),
  }),

  Encrypt: op({
    summary: 'Encrypt text (at most 6 KiB) with a symmetric key\'s primary version.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        Plaintext: z.string().max(6144, 'Plaintext has at most 6144 characters; use GenerateDataKey for more'),
        EncryptionContext: encryptionContextField.optional(),
      })
      .strict(),
  }),
  Decrypt: op({
    summary: 'Decrypt a CiphertextBlob made by Encrypt or GenerateDataKey; the key is found from the blob.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({ CiphertextBlob: base64Field('CiphertextBlob'), EncryptionContext: encryptionContextField.optional() })
      .strict(),
  }),
  ReEncrypt: op({
    summary: 'Decrypt and encrypt again under another key, without the plaintext leaving the keystore.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        CiphertextBlob: base64Field('CiphertextBlob'),
        SourceEncryptionContext: encryptionContextField.optional(),
        DestinationKeyId: keyIdField,
        DestinationEncryptionContext: encryptionContextField.optional(),
        SourceKeyId: keyIdField.optional(),
        SourceKeyVersionId: keyVersionIdField.optional(),
        SourceEncryptionAlgorithm: encryptionAlgorithmField.optional(),
      })
      .strict(),
  }),
  GenerateDataKey: op({
    summary: 'Make a random data key; returns it in plaintext (base64) and encrypted under the key.',
    group: 'Cryptography',
    keystore: 'open',
    input: dataKeyInput,
  }),
  GenerateDataKeyWithoutPlaintext: op({
    summary: 'Make a random data key; returns it only encrypted under the key.',
    group: 'Cryptography',
    keystore: 'open',
    input: dataKeyInput,
  }),
  GenerateMac: op({
    summary: 'HMAC of a message (base64, at most 4096 bytes) with an HMAC key.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({ KeyId: keyIdField, Message: base64Field('Message', 5464), MacAlgorithm: macAlgorithmField.optional() })
      .strict(),
  }),
  VerifyMac: op({
    summary: 'Check an HMAC made by GenerateMac.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField.optional(),
        Message: base64Field('Message', 5464),
        Mac: base64Field('Mac', 200),
        MacAlgorithm: macAlgorithmField.optional(),
      })
      .strict(),
  }),

  GetPublicKey: op({
    summary: 'The public key of an asymmetric key version, as PEM (SubjectPublicKeyInfo).',
    group: 'Cryptography',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, KeyVersionId: keyVersionIdField }).strict(),
  }),
  ExportPublicKey: op({
    summary: 'Write the public key of an asymmetric key version to a new file (never overwriting one): PEM by default, or DER, SSH (authorized_keys line), MINISIGN or SIGNIFY.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField,
        OutputFile: outputPathField,
        Format: z.enum(PUBLIC_KEY_FORMATS).optional(),
        OpenPgpUserId: z.string().max(256).regex(OPENPGP_USER_ID, 'OpenPgpUserId is "Name <email>", such as "Release Team <release@example.org>"').optional(),
      })
      .strict(),
  }),
  AsymmetricSign: op({
    summary: 'Sign a digest (base64) computed by the caller with the algorithm\'s hash; ED25519 signs the message itself (Message, base64, up to 4096 bytes).',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField,
        Algorithm: signingAlgorithmField,
        Digest: base64Field('Digest', 100).optional(),
        Message: base64Field('Message', 5464).optional(),
      })
      .strict(),
  }),
  AsymmetricVerify: op({
    summary: 'Check a signature (base64) over a digest, or over the message itself for ED25519 (Message).',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField,
        Algorithm: signingAlgorithmField,
        Digest: base64Field('Digest', 100).optional(),
        Message: base64Field('Message', 5464).optional(),
        Value: base64Field('Value', 2000),
      })
      .strict(),
  }),
  AsymmetricEncrypt: op({
    summary: 'Encrypt a short message (base64) with an asymmetric key\'s public key.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField,
        Algorithm: encryptionAlgorithmField,
        Plaintext: base64Field('Plaintext', 8000),
      })
      .strict(),
  }),
  AsymmetricDecrypt: op({
    summary: 'Decrypt with an asymmetric key\'s private key.',
    group: 'Cryptography',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField,
        Algorithm: encryptionAlgorithmField,
        CiphertextBlob: base64Field('CiphertextBlob', 8000),
      })
      .strict(),
  }),

  GetParametersForImport: op({
    summary: 'Get a wrapping public key and an import token (valid 24 h) for an EXTERNAL key.',
    group: 'Import',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        WrappingAlgorithm: z.enum(['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']),
        WrappingKeySpec: z.enum(['RSA_2048']),
      })
      .strict(),
  }),
  ImportKeyMaterial: op({
    summary: 'Import wrapped key material into an EXTERNAL key; KeyMaterialExpireUnix 0 means never.',
    group: 'Import',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        EncryptedKeyMaterial: base64Field('EncryptedKeyMaterial', 2000),
        ImportToken: z.string().min(1).max(200),
        KeyMaterialExpireUnix: intField(0, 253402300799).optional(),
      })
      .strict(),
  }),
  DeleteKeyMaterial: op({
    summary: 'Delete an EXTERNAL key\'s imported material; the key returns to PendingImport.',
    group: 'Import',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField }).strict(),
  }),

  ListTokens: op({
    summary: 'List the PKCS#11 library\'s slots and tokens: label, serial, flags, and the mechanisms Keyroom uses.',
    group: 'Tokens',
    keystore: 'none',
    input: z.object({}).strict(),
  }),
  LoginToken: op({
    summary: 'Log in to the PKCS#11 token with its user PIN, for the HSM keys used after; the PIN stays in the main process.',
    group: 'Tokens',
    keystore: 'none',
    input: z.object({ Pin: pinField, TokenLabel: z.string().min(1).max(32).optional() }).strict(),
    secrets: ['Pin'],
    // The command line asks for the PIN when an HSM key is first used; it keeps no login.
    frontDoors: ['app'],
  }),
  LogoutToken: op({
    summary: 'Log out of the PKCS#11 token and forget its PIN; HSM keys then need LoginToken again.',
    group: 'Tokens',
    keystore: 'none',
    input: z.object({}).strict(),
    frontDoors: ['app'],
  }),

  ListOrphanHsmKeys: op({
    summary: 'List the key objects on the token that Keyroom made (label keyroom/<KeyId>/<KeyVersionId>) but no key version in this keystore names: left by a crash between generating on the token and recording the key.',
    group: 'Tokens',
    keystore: 'open',
    input: z.object({}).strict(),
  }),
  DeleteOrphanHsmKey: op({
    summary: 'Destroy the Keyroom key objects on the token with this CKA_ID (ObjectId, as ListOrphanHsmKeys shows it) or this label, after checking that no key version in this keystore names them; audited.',
    group: 'Tokens',
    keystore: 'open',
    input: z
      .object({
        ObjectId: z.string().regex(/^(?:[0-9a-f]{2}){1,64}$/i, 'an ObjectId is the CKA_ID in hex, as ListOrphanHsmKeys shows it').optional(),
        Label: z.string().regex(/^keyroom\/[0-9A-Za-z/-]{1,120}$/, 'a label of Keyroom\'s, keyroom/<KeyId>/<KeyVersionId>').optional(),
      })
      .strict(),
  }),

  DigestFile: op({
    summary: 'Hash a file (SHA-256, SHA-384 or SM3), reading it as a stream: the digest to sign, with the file\'s size.',
    group: 'Files',
    keystore: 'none',
    input: z.object({ InputFile: filePathField, Algorithm: digestAlgorithmField, OperationId: operationIdField.optional() }).strict(),
    longRunning: true,
  }),
  CancelOperation: op({
    summary: 'Stop a long-running operation (by the OperationId its caller gave it) before it writes anything.',
    group: 'Files',
    keystore: 'none',
    input: z.object({ OperationId: operationIdField }).strict(),
    frontDoors: ['app'],
  }),
  AirGapSelfTest: op({
    summary: 'The air-gap self-test: network interfaces, default routes, radios, swap, mounts (removable media marked), core dumps and the clock, each PASS, WARN or FAIL with the values read, and what software cannot see. Reads only; with a keystore open in the app, the verdict is recorded in the audit log.',
    group: 'Ceremony',
    keystore: 'none',
    input: z
      .object({
        /** The plan's dates: the clock must read within them. */
        NotBefore: planDateField.optional(),
        NotAfter: planDateField.optional(),
      })
      .strict(),
  }),
  CheckImportParameters: op({
    summary: 'Check a cloud\'s import parameters before wrapping: the public key parses and fits the wrapping algorithm, the token has not expired; prints the key\'s fingerprint to read aloud.',
    group: 'Ceremony',
    keystore: 'none',
    input: z
      .object({
        Target: byokTargetField,
        WrappingAlgorithm: byokAlgorithmField,
        WrappingKeySpec: wrappingKeySpecField.optional(),
        KeySpec: keySpecField.optional(),
        PublicKey: wrappingPublicKeyField,
        TokenExpireTime: tokenExpireTimeField.optional(),
      })
      .strict(),
  }),
  WrapKeyMaterial: op({
    summary: 'Wrap an exportable key\'s material under a cloud\'s import public key and write the files the cloud\'s CLI takes, with a manifest (never overwriting a file).',
    group: 'Ceremony',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField.optional(),
        Target: byokTargetField,
        WrappingAlgorithm: byokAlgorithmField,
        PublicKey: wrappingPublicKeyField,
        WrappingKeySpec: wrappingKeySpecField.optional(),
        ImportToken: importTokenField.optional(),
        TokenExpireTime: tokenExpireTimeField.optional(),
        CloudKeyId: z.string().min(1).max(1024).optional(),
        KeyEncryptionKeyId: z.string().min(1).max(1024).optional(),
        OutputDir: outputPathField,
        Sm2CiphertextEncoding: sm2CiphertextEncodingField.optional(),
        Base64UrlPadding: boolField.optional(),
      })
      .strict()
      // The token goes into the cloud's import command as given: refuse what that cloud never issues.
      .superRefine((v, ctx) => {
        const problem = v.ImportToken === undefined ? undefined : importTokenProblem(v.Target, v.ImportToken);
        if (problem) ctx.addIssue({ code: 'custom', path: ['ImportToken'], message: problem });
      }),
  }),
  GetKeyCheckValue: op({
    summary: 'The key check value witnesses compare: AES/SM4 cipher or HMAC of zero bytes (first 3 bytes, hex), or the SHA-256 of an asymmetric key\'s public key.',
    group: 'Ceremony',
    keystore: 'open',
    input: z.object({ KeyId: keyIdField, KeyVersionId: keyVersionIdField.optional() }).strict(),
  }),
  GenerateCsr: op({
    summary: 'A PKCS#10 certification request for an asymmetric key, signed by the key itself (inside the token for HSM keys), written to a new file when OutputFile is given.',
    group: 'Ceremony',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField.optional(),
        Algorithm: signingAlgorithmField.optional(),
        Subject: z.string().min(1, 'give a subject, e.g. CN=Release signing,O=Example,C=DE').max(4096),
        SubjectAltNames: z.string().max(8192).optional(),
        KeyUsage: z.string().max(512).optional(),
        ExtendedKeyUsage: z.string().max(1024).optional(),
        BasicConstraints: z.string().max(64).optional(),
        Template: z.enum(CSR_TEMPLATES).optional(),
        OutputFile: outputPathField.optional(),
        Encoding: z.enum(['PEM', 'DER']).optional(),
      })
      .strict(),
  }),
  SignFile: op({
    summary: 'Sign files (or every file in a folder): each is hashed as a stream, only the digest goes to the key; writes <file>.sig beside it or in OutputDir, the public key, and optionally a signed SHA256SUMS-style manifest. Format (repeatable) adds openpgp, ssh, minisign, signify, cosign or jws signatures, each with its public key file (openpgp needs OpenPgpUserId).',
    group: 'Files',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField,
        KeyVersionId: keyVersionIdField.optional(),
        /** Raw signatures' algorithm; the key's first when absent. The other formats follow the key. */
        Algorithm: signingAlgorithmField.optional(),
        File: z.union([filePathField, z.array(filePathField).min(1, 'give at least one file').max(10_000)]).transform((v) => (Array.isArray(v) ? v : [v])),
        Format: z
          .union([z.enum(SIGNATURE_FORMATS), z.array(z.enum(SIGNATURE_FORMATS)).min(1).max(SIGNATURE_FORMATS.length)])
          .transform((v) => (Array.isArray(v) ? v : [v]))
          .optional(),
        SshNamespace: z.string().regex(SSH_NAMESPACE, 'SshNamespace is 1 to 64 printable characters without spaces or quotes, such as file').optional(),
        OpenPgpUserId: z.string().max(256).regex(OPENPGP_USER_ID, 'OpenPgpUserId is "Name <email>", such as "Release Team <release@example.org>"').optional(),
        Manifest: outputPathField.optional(),
        OutputDir: outputPathField.optional(),
        SignatureEncoding: z.enum(['raw', 'base64']).optional(),
        UserId: z.string().min(1).max(1024).optional(),
        OperationId: operationIdField.optional(),
      })
      .strict(),
    longRunning: true,
  }),
  VerifyFile: op({
    summary: 'Check a detached signature over a file with a keystore key or a public key PEM (signatures made elsewhere), in the Format it was made (raw, openpgp, ssh, minisign, signify, cosign, jws): Value false when it does not verify.',
    group: 'Files',
    keystore: 'open',
    input: z
      .object({
        KeyId: keyIdField.optional(),
        KeyVersionId: keyVersionIdField.optional(),
        PublicKey: z.string().min(1).max(20_000).optional(),
        /** Raw signatures' algorithm; the key's first when absent. */
        Algorithm: signingAlgorithmField.optional(),
        /** raw (default), openpgp (with KeyId), ssh, minisign, signify, cosign (the .sigstore.json) or jws (SignatureFile is then the signed manifest, e.g. SHA256.sig). */
        Format: z.enum(SIGNATURE_FORMATS).optional(),
        SshNamespace: z.string().regex(SSH_NAMESPACE, 'SshNamespace is 1 to 64 printable characters without spaces or quotes, such as file').optional(),
        File: filePathField,
        SignatureFile: filePathField,
        UserId: z.string().min(1).max(1024).optional(),
        OperationId: operationIdField.optional(),
      })
      .strict(),
    longRunning: true,
  }),
  RotateAlias: op({
    summary: 'Rotate an alias to a new key with the same spec, usage and protection (same token for HSM keys), in one transaction; optionally disable the previous key or schedule its deletion.',
    group: 'Aliases',
    keystore: 'open',
    input: z
      .object({
        AliasName: aliasNameField,
        DisablePrevious: boolField.optional(),
        SchedulePreviousDeletionInDays: intField(7, 30).optional(),
        Description: z.string().max(8192).optional(),
      })
      .strict(),
  }),
  ReEncryptFiles: op({
    summary: 'Re-encrypt files holding one CiphertextBlob each under another key (an alias after rotation), writing <file>.reencrypted beside each, never over a file.',
    group: 'Aliases',
    keystore: 'open',
    input: z
      .object({
        File: z.union([filePathField, z.array(filePathField).min(1, 'give at least one file').max(10_000)]).transform((v) => (Array.isArray(v) ? v : [v])),
        DestinationKeyId: keyIdField,
        SourceEncryptionContext: encryptionContextField.optional(),
        DestinationEncryptionContext: encryptionContextField.optional(),
        OperationId: operationIdField.optional(),
      })
      .strict(),
    longRunning: true,
  }),
  ListDueRotations: op({
    summary: 'The keys whose automatic rotation fell due (an offline machine has no scheduler): RotateDueKeys carries them out.',
    group: 'Versions',
    keystore: 'open',
    input: z.object({}).strict(),
  }),
  RotateDueKeys: op({
    summary: 'Carry out the automatic rotations that are due: a new primary version for each, once; a key whose token is absent waits.',
    group: 'Versions',
    keystore: 'open',
    input: z.object({}).strict(),
  }),
  GetAliasHistory: op({
    summary: 'Which keys an alias pointed to, when, and by which request, read from the audit log.',
    group: 'Aliases',
    keystore: 'open',
    input: z.object({ AliasName: aliasNameField }).strict(),
  }),
  PrepareRehearsal: op({
    summary: 'Play the cloud for a rehearsal: a stand-in wrapping key pair and import token for the target (the private half stays in the main process).',
    group: 'Ceremony',
    keystore: 'open',
    input: z
      .object({ Target: byokTargetField, WrappingAlgorithm: byokAlgorithmField, WrappingKeySpec: wrappingKeySpecField.optional(), KeySpec: keySpecField })
      .strict(),
    frontDoors: ['app'],
  }),
  CheckRehearsal: op({
    summary: 'Unwrap a rehearsal\'s output with the stand-in private key and compare the material with the manifest\'s key check value.',
    group: 'Ceremony',
    keystore: 'open',
    input: z.object({ RehearsalId: rehearsalIdField, OutputDir: filePathField }).strict(),
    frontDoors: ['app'],
  }),
  LintCeremonyPlan: op({
    summary: 'Check a ceremony plan (YAML) without the keystore: its structure, every step\'s operation and parameters against the contract, references between steps, no secrets, roles that can be filled; answers with the plan\'s SHA-256 (hex groups and PGP words), its steps, roles and time estimate.',
    group: 'Ceremony',
    keystore: 'none',
    input: z.object({ Plan: filePathField }).strict(),
  }),
} as const;

export type Operations = typeof OPERATIONS;
export type OperationName = keyof Operations & keyof OperationOutputs;
export type OperationInput<N extends OperationName> = z.output<Operations[N]['input']>;
export type OperationOutput<N extends OperationName> = OperationOutputs[N];
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

/** The operations a front door offers, as a type: `OperationNameFor<'app'>`. */
export type OperationNameFor<F extends FrontDoor> = {
  [N in OperationName]: F extends NonNullable<Operations[N]['frontDoors']>[number] ? N : never;
}[OperationName];
export type AppOperationName = OperationNameFor<'app'>;
export type CliOperationName = OperationNameFor<'cli'>;

export function isForFrontDoor(name: OperationName, door: FrontDoor): boolean {
  const doors = (OPERATIONS[name] as OperationDef).frontDoors;
  return doors === undefined || doors.includes(door);
}

/** The operations a front door offers, in the contract's order. */
export function operationNamesFor(door: FrontDoor): OperationName[] {
  return OPERATION_NAMES.filter((n) => isForFrontDoor(n, door));
}
