/**
 * What to ask the token for when Keyroom generates a key version: the mechanism and the
 * attribute templates for each HSM spec, and the mechanisms the token needs for the key and its
 * use. Every object: CKA_TOKEN, CKA_PRIVATE, CKA_ID, CKA_LABEL `keyroom/<KeyId>/<KeyVersionId>`;
 * secret and private keys CKA_SENSITIVE, and CKA_EXTRACTABLE only when Exportable (then they can
 * leave the token only wrapped). Usage flags follow the key's usage when it is known, and allow
 * both of an RSA/EC key's usages otherwise.
 */
import pkcs11js from 'pkcs11js';
import { KEY_SPEC_INFO, type KeySpec, type KeyUsage, type MacAlgorithm } from '../../../src-shared/domain/keySpecs';
import { ED25519_EC_PARAMS, ecParamsDer, type TokenCurve } from './encoding';
import { CKK_EC_EDWARDS } from './constants';
import { KEYROOM_MECHANISMS as M, type KeyroomMechanism } from './tokens';

export interface TemplateOptions {
  id: Buffer;
  keyId: string;
  keyVersionId: string;
  exportable: boolean;
  usage?: KeyUsage;
}

export type GenerationPlan =
  | { kind: 'secret'; mechanism: pkcs11js.Mechanism; template: pkcs11js.Template }
  | {
      kind: 'pair';
      mechanism: pkcs11js.Mechanism;
      publicTemplate: pkcs11js.Template;
      privateTemplate: pkcs11js.Template;
      /** RSA, the EC curve, or Ed25519. */
      publicKey: { family: 'RSA' } | { family: 'EC'; curve: TokenCurve } | { family: 'ED25519' };
    }
  | { kind: 'unsupported'; why: string };

export const HMAC_MECHANISM: Readonly<Record<MacAlgorithm, { mechanism: KeyroomMechanism; bytes: number }>> = {
  HMAC_SHA_256: { mechanism: 'SHA256_HMAC', bytes: 32 },
  HMAC_SHA_384: { mechanism: 'SHA384_HMAC', bytes: 48 },
  HMAC_SHA_512: { mechanism: 'SHA512_HMAC', bytes: 64 },
};

const RSA_PUBLIC_EXPONENT = Buffer.from([0x01, 0x00, 0x01]);
const SM_UNSUPPORTED = 'SM2 and SM4 need vendor-defined mechanisms, which Keyroom does not drive';

function attr(type: number, value: pkcs11js.Attribute['value']): pkcs11js.Attribute {
  return { type, value };
}

/** The mechanisms a key of this spec and usage needs, or why no token can hold it here. */
export function requiredMechanisms(spec: KeySpec, usage: KeyUsage | undefined): KeyroomMechanism[] | { unsupported: string } {
  const info = KEY_SPEC_INFO[spec];
  switch (info.family) {
    case 'AES':
      return ['AES_KEY_GEN', 'AES_GCM'];
    case 'HMAC':
      return ['GENERIC_SECRET_KEY_GEN', HMAC_MECHANISM[info.macAlgorithm!].mechanism];
    case 'RSA':
      return usage === 'ENCRYPT/DECRYPT' ? ['RSA_PKCS_KEY_PAIR_GEN', 'RSA_PKCS_OAEP'] : ['RSA_PKCS_KEY_PAIR_GEN', 'RSA_PKCS', 'RSA_PKCS_PSS'];
    case 'EC':
      return usage === 'ENCRYPT/DECRYPT' ? ['EC_KEY_PAIR_GEN', 'ECDH1_DERIVE'] : ['EC_KEY_PAIR_GEN', 'ECDSA'];
    case 'ED25519':
      return ['EC_EDWARDS_KEY_PAIR_GEN', 'EDDSA'];
    case 'SM2':
    case 'SM4':
      return { unsupported: SM_UNSUPPORTED };
    default: {
      const never: never = info.family;
      return { unsupported: `unknown key family ${String(never)}` };
    }
  }
}

export function generationPlan(spec: KeySpec, o: TemplateOptions): GenerationPlan {
  const info = KEY_SPEC_INFO[spec];
  const common = [
    attr(pkcs11js.CKA_TOKEN, true),
    attr(pkcs11js.CKA_PRIVATE, true),
    attr(pkcs11js.CKA_ID, o.id),
    attr(pkcs11js.CKA_LABEL, `keyroom/${o.keyId}/${o.keyVersionId}`),
  ];
  const secretSide = [attr(pkcs11js.CKA_SENSITIVE, true), attr(pkcs11js.CKA_EXTRACTABLE, o.exportable)];
  switch (info.family) {
    case 'AES':
    case 'HMAC': {
      const aes = info.family === 'AES';
      return {
        kind: 'secret',
        mechanism: { mechanism: aes ? M.AES_KEY_GEN : M.GENERIC_SECRET_KEY_GEN },
        template: [
          ...common,
          ...secretSide,
          attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_SECRET_KEY),
          // HMAC keys are generic secrets: SoftHSM 2.6 refuses CKK_SHA256_HMAC with its generator.
          attr(pkcs11js.CKA_KEY_TYPE, aes ? pkcs11js.CKK_AES : pkcs11js.CKK_GENERIC_SECRET),
          attr(pkcs11js.CKA_VALUE_LEN, info.secretBytes!),
          attr(pkcs11js.CKA_ENCRYPT, aes),
          attr(pkcs11js.CKA_DECRYPT, aes),
          attr(pkcs11js.CKA_SIGN, !aes),
          attr(pkcs11js.CKA_VERIFY, !aes),
          attr(pkcs11js.CKA_WRAP, false),
          attr(pkcs11js.CKA_UNWRAP, false),
          attr(pkcs11js.CKA_DERIVE, false),
        ],
      };
    }
    case 'RSA':
    case 'EC': {
      const rsa = info.family === 'RSA';
      const sign = o.usage === undefined || o.usage === 'SIGN/VERIFY';
      const decrypt = o.usage === undefined || o.usage === 'ENCRYPT/DECRYPT';
      const curve = info.curve as TokenCurve;
      return {
        kind: 'pair',
        mechanism: { mechanism: rsa ? M.RSA_PKCS_KEY_PAIR_GEN : M.EC_KEY_PAIR_GEN },
        publicTemplate: [
          ...common,
          attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_PUBLIC_KEY),
          attr(pkcs11js.CKA_VERIFY, sign),
          attr(pkcs11js.CKA_ENCRYPT, rsa && decrypt),
          attr(pkcs11js.CKA_WRAP, false),
          ...(rsa
            ? [attr(pkcs11js.CKA_KEY_TYPE, pkcs11js.CKK_RSA), attr(pkcs11js.CKA_MODULUS_BITS, info.modulusBits!), attr(pkcs11js.CKA_PUBLIC_EXPONENT, RSA_PUBLIC_EXPONENT)]
            : [attr(pkcs11js.CKA_KEY_TYPE, pkcs11js.CKK_EC), attr(pkcs11js.CKA_EC_PARAMS, ecParamsDer(curve))]),
        ],
        privateTemplate: [
          ...common,
          ...secretSide,
          attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_PRIVATE_KEY),
          attr(pkcs11js.CKA_KEY_TYPE, rsa ? pkcs11js.CKK_RSA : pkcs11js.CKK_EC),
          attr(pkcs11js.CKA_SIGN, sign),
          attr(pkcs11js.CKA_DECRYPT, rsa && decrypt),
          // An EC key for ECIES decrypts by ECDH inside the token.
          attr(pkcs11js.CKA_DERIVE, !rsa && decrypt),
          attr(pkcs11js.CKA_UNWRAP, false),
        ],
        publicKey: rsa ? { family: 'RSA' } : { family: 'EC', curve },
      };
    }
    case 'ED25519':
      // Sign-only: an Ed25519 key neither encrypts nor derives.
      return {
        kind: 'pair',
        mechanism: { mechanism: M.EC_EDWARDS_KEY_PAIR_GEN },
        publicTemplate: [
          ...common,
          attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_PUBLIC_KEY),
          attr(pkcs11js.CKA_KEY_TYPE, CKK_EC_EDWARDS),
          attr(pkcs11js.CKA_EC_PARAMS, ED25519_EC_PARAMS),
          attr(pkcs11js.CKA_VERIFY, true),
          attr(pkcs11js.CKA_ENCRYPT, false),
          attr(pkcs11js.CKA_WRAP, false),
        ],
        privateTemplate: [
          ...common,
          ...secretSide,
          attr(pkcs11js.CKA_CLASS, pkcs11js.CKO_PRIVATE_KEY),
          attr(pkcs11js.CKA_KEY_TYPE, CKK_EC_EDWARDS),
          attr(pkcs11js.CKA_SIGN, true),
          attr(pkcs11js.CKA_DECRYPT, false),
          attr(pkcs11js.CKA_DERIVE, false),
          attr(pkcs11js.CKA_UNWRAP, false),
        ],
        publicKey: { family: 'ED25519' },
      };
    case 'SM2':
    case 'SM4':
      return { kind: 'unsupported', why: SM_UNSUPPORTED };
    default: {
      const never: never = info.family;
      return { kind: 'unsupported', why: `unknown key family ${String(never)}` };
    }
  }
}
