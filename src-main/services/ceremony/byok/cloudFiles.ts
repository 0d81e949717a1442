/**
 * What each cloud's CLI takes, as files in the output folder, and the command that imports them on
 * the connected side (run from inside that folder). Base64 text where the CLI takes a string,
 * binary where it takes a file (AWS `fileb://`, gcloud `--wrapped-key-file`), Azure's `.byok` JSON.
 */
import { KmsError } from '../../../../src-shared/errors';
import type { KeySpec, KeyUsage } from '../../../../src-shared/domain/keySpecs';
import type { ByokTarget } from '../../../../src-shared/domain/byokTargets';
import type { WrappedMaterial } from '../../../backends/backend';
import { KEYROOM_VERSION } from '../../../version';
import { shellWord } from '../../../files/shellWord';

export interface CloudFile {
  name: string;
  content: Buffer;
  purpose: string;
}

export interface CloudOutput {
  files: CloudFile[];
  command: string;
}

export interface CloudFileOptions {
  target: ByokTarget;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  wrapped: WrappedMaterial;
  importToken?: string;
  cloudKeyId?: string;
  keyEncryptionKeyId?: string;
  base64UrlPadding?: boolean;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function text(s: string): Buffer {
  return Buffer.from(`${s}\n`, 'utf8');
}

function placeholder(value: string | undefined, name: string): string {
  return value ? shellWord(value) : `<${name}>`;
}

/** The token file, carried through untouched (the text as given, with the newline a text file ends with). */
function tokenFile(name: string, token: string | undefined): CloudFile[] {
  return token === undefined ? [] : [{ name, content: Buffer.from(token.endsWith('\n') ? token : `${token}\n`, 'utf8'), purpose: 'import token, as given' }];
}

export function cloudOutput(o: CloudFileOptions): CloudOutput {
  const blob64 = o.wrapped.blob.toString('base64');
  switch (o.target) {
    case 'ALIYUN':
      return {
        files: [{ name: 'EncryptedKeyMaterial.txt', content: text(blob64), purpose: 'EncryptedKeyMaterial (base64)' }, ...tokenFile('ImportToken.txt', o.importToken)],
        command: [
          'aliyun kms ImportKeyMaterial',
          `--KeyId ${placeholder(o.cloudKeyId, 'KeyId')}`,
          '--EncryptedKeyMaterial "$(cat EncryptedKeyMaterial.txt)"',
          o.importToken === undefined ? '--ImportToken <ImportToken>' : '--ImportToken "$(cat ImportToken.txt)"',
          '--KeyMaterialExpireUnix 0',
        ].join(' '),
      };
    case 'HUAWEI': {
      const files: CloudFile[] = [{ name: 'encrypted_key_material.txt', content: text(blob64), purpose: 'encrypted_key_material (base64)' }];
      if (o.wrapped.privateKeyField) {
        files.push({ name: 'encrypted_privatekey.txt', content: text(o.wrapped.privateKeyField.toString('base64')), purpose: 'encrypted_privatekey (base64)' });
      }
      files.push(...tokenFile('import_token.txt', o.importToken));
      return {
        files,
        command: [
          'hcloud KMS ImportKeyMaterial',
          `--key_id=${placeholder(o.cloudKeyId, 'key_id')}`,
          o.importToken === undefined ? '--import_token=<import_token>' : '--import_token="$(cat import_token.txt)"',
          '--encrypted_key_material="$(cat encrypted_key_material.txt)"',
          ...(o.wrapped.privateKeyField ? ['--encrypted_privatekey="$(cat encrypted_privatekey.txt)"'] : []),
        ].join(' '),
      };
    }
    case 'AWS': {
      const files: CloudFile[] = [
        { name: 'EncryptedKeyMaterial.bin', content: o.wrapped.blob, purpose: 'encrypted key material (binary, for fileb://)' },
        { name: 'EncryptedKeyMaterial.b64', content: text(blob64), purpose: 'encrypted key material (base64)' },
      ];
      if (o.importToken !== undefined) {
        const token = o.importToken.trim();
        if (!BASE64.test(token)) {
          throw new KmsError('InvalidParameter', 'The AWS ImportToken is the base64 text of get-parameters-for-import\'s JSON output; this token is not base64.');
        }
        files.push({ name: 'ImportToken.bin', content: Buffer.from(token, 'base64'), purpose: 'import token (binary, for fileb://)' });
        files.push(...tokenFile('ImportToken.b64', o.importToken));
      }
      return {
        files,
        command: [
          'aws kms import-key-material',
          `--key-id ${placeholder(o.cloudKeyId, 'key-id')}`,
          '--encrypted-key-material fileb://EncryptedKeyMaterial.bin',
          `--import-token ${o.importToken === undefined ? '<fileb://ImportToken.bin>' : 'fileb://ImportToken.bin'}`,
          '--expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE',
        ].join(' '),
      };
    }
    case 'GCP': {
      // For Google the "token" is the ImportJob's name; CloudKeyId is the CryptoKey's resource name.
      const key = /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)$/.exec(o.cloudKeyId ?? '');
      const files: CloudFile[] = [
        { name: 'wrapped_key.bin', content: o.wrapped.blob, purpose: 'wrapped key (binary, for --wrapped-key-file)' },
        { name: 'wrapped_key.b64', content: text(blob64), purpose: 'wrapped key (base64)' },
        ...tokenFile('import_job.txt', o.importToken),
      ];
      return {
        files,
        command: [
          // 'import' stands alone: electron-vite's import scanner takes `import'` inside a string for a statement.
          'gcloud kms keys versions', 'import',
          `--import-job ${placeholder(o.importToken?.trim(), 'import-job')}`,
          `--location ${key ? shellWord(key[2]!) : '<location>'}`,
          `--keyring ${key ? shellWord(key[3]!) : '<keyring>'}`,
          `--key ${key ? shellWord(key[4]!) : placeholder(o.cloudKeyId, 'key')}`,
          `--algorithm ${gcpAlgorithm(o.keySpec, o.keyUsage)}`,
          '--wrapped-key-file wrapped_key.bin',
        ].join(' '),
      };
    }
    case 'AZURE': {
      if (!o.keyEncryptionKeyId) {
        throw new KmsError('MissingParameter', 'Azure needs the key-exchange key\'s id (KeyEncryptionKeyId, https://<vault>.vault.azure.net/keys/<kek>/<version>) to put in the .byok file.');
      }
      let ciphertext = o.wrapped.blob.toString('base64url');
      if (o.base64UrlPadding) ciphertext += '='.repeat((4 - (ciphertext.length % 4)) % 4);
      const byok = {
        schema_version: '1.0.0',
        header: { kid: o.keyEncryptionKeyId, alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' },
        ciphertext,
        generator: `Keyroom ${KEYROOM_VERSION}`,
      };
      const host = /^https:\/\/([^./]+)\.(vault\.azure\.net|managedhsm\.azure\.net)\//.exec(o.keyEncryptionKeyId);
      const where = host?.[2] === 'managedhsm.azure.net' ? `--hsm-name ${shellWord(host[1]!)}` : `--vault-name ${host ? shellWord(host[1]!) : '<vault-name>'}`;
      return {
        files: [{ name: 'KeyMaterial.byok', content: Buffer.from(`${JSON.stringify(byok, null, 2)}\n`, 'utf8'), purpose: 'Azure BYOK transfer blob (.byok)' }],
        command: ['az keyvault key', 'import', where, `--name ${placeholder(o.cloudKeyId, 'key-name')}`, `--kty ${azureKty(o.keySpec)}`, ...azureCurve(o.keySpec), '--byok-file KeyMaterial.byok'].join(' '),
      };
    }
    default: {
      const never: never = o.target;
      throw new KmsError('Internal', `Unknown target ${String(never)}.`);
    }
  }
}

/** gcloud's --algorithm for the imported version (the CryptoKey's purpose decides among them). */
function gcpAlgorithm(spec: KeySpec, usage: KeyUsage): string {
  switch (spec) {
    case 'AES_256':
      return 'google-symmetric-encryption';
    case 'HMAC_256':
      return 'hmac-sha256';
    case 'HMAC_384':
      return 'hmac-sha384';
    case 'HMAC_512':
      return 'hmac-sha512';
    case 'EC_P256':
      return 'ec-sign-p256-sha256';
    case 'EC_P384':
      return 'ec-sign-p384-sha384';
    case 'EC_P256K':
      return 'ec-sign-secp256k1-sha256';
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096': {
      const bits = spec.slice(4);
      return usage === 'ENCRYPT/DECRYPT' ? `rsa-decrypt-oaep-${bits}-sha256` : `rsa-sign-pkcs1-${bits}-sha256`;
    }
    default:
      return '<algorithm>';
  }
}

function azureKty(spec: KeySpec): string {
  if (spec.startsWith('RSA_')) return 'RSA-HSM';
  if (spec.startsWith('EC_')) return 'EC-HSM';
  return 'oct-HSM';
}

function azureCurve(spec: KeySpec): string[] {
  const curve = ({ EC_P256: 'P-256', EC_P384: 'P-384', EC_P256K: 'P-256K' } as Partial<Record<KeySpec, string>>)[spec];
  return curve ? [`--curve ${curve}`] : [];
}

/**
 * The wrapped material back from the files cloudOutput wrote, as the cloud would read them (a
 * rehearsal's check). `read` returns a file's bytes from the output folder.
 */
export async function wrappedFromFiles(target: ByokTarget, read: (name: string) => Promise<Buffer>): Promise<WrappedMaterial> {
  const fromBase64 = async (name: string) => Buffer.from((await read(name)).toString('utf8').trim(), 'base64');
  switch (target) {
    case 'ALIYUN':
      return { blob: await fromBase64('EncryptedKeyMaterial.txt') };
    case 'HUAWEI': {
      const blob = await fromBase64('encrypted_key_material.txt');
      const second = await read('encrypted_privatekey.txt').then(
        (b) => Buffer.from(b.toString('utf8').trim(), 'base64'),
        () => undefined,
      );
      return second ? { blob, privateKeyField: second } : { blob };
    }
    case 'AWS':
      return { blob: await read('EncryptedKeyMaterial.bin') };
    case 'GCP':
      return { blob: await read('wrapped_key.bin') };
    case 'AZURE': {
      const byok = JSON.parse((await read('KeyMaterial.byok')).toString('utf8')) as { ciphertext?: unknown };
      if (typeof byok.ciphertext !== 'string') throw new KmsError('InvalidEncryptedKeyMaterial', 'KeyMaterial.byok has no ciphertext.');
      return { blob: Buffer.from(byok.ciphertext.replace(/=+$/, ''), 'base64url') };
    }
    default: {
      const never: never = target;
      throw new KmsError('Internal', `Unknown target ${String(never)}.`);
    }
  }
}
