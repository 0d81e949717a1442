/**
 * A BYOK rehearsal: Keyroom plays the cloud. It makes a stand-in wrapping key pair and token for
 * the chosen target, the operator runs the ceremony exactly as on the day, and then Keyroom
 * unwraps the output with the stand-in private key, as the cloud would, and compares the material
 * with the manifest's key check value. The stand-in private keys live only in this process's
 * memory, for as long as the keystore is open; they are zeroed when it locks.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readSmallFile } from '../../../files/readBounded';
import { join, resolve } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import { KEY_SPEC_INFO, isAsymmetric, type KeySpec } from '../../../../src-shared/domain/keySpecs';
import { materialForm, type ByokTarget, type Sm2CiphertextEncoding, type WrappingKeySpec } from '../../../../src-shared/domain/byokTargets';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import type { ExportWrapRequest } from '../../../backends/backend';
import { unwrapMaterial, type StandInPrivateKey } from '../../../crypto/byokLayouts';
import { publicKeyOfMaterial, secretCheckValue } from '../../../crypto/keyCheckValue';
import { ecSpkiFromPoint, spkiToPem } from '../../../crypto/keyEncoding';
import { sm2GeneratePrivateKey, sm2PublicKeyFromPrivate } from '../../../crypto/sm2';
import { wipe } from '../../../crypto/wipe';
import { DAY_MS, isoTime } from '../../kms/context';
import { findRow } from './importParameters';
import { wrappedFromFiles } from './cloudFiles';
import { MANIFEST_FILE } from './wrapKeyMaterial';
import type { Rehearsals } from './rehearsals';

function standInKeyPair(spec: WrappingKeySpec): { privateKey: StandInPrivateKey; spki: Buffer } {
  if (spec === 'EC_SM2') {
    const d = sm2GeneratePrivateKey();
    return { privateKey: { kind: 'SM2', d }, spki: ecSpkiFromPoint('SM2', sm2PublicKeyFromPrivate(d)) };
  }
  const bits = Number(spec.slice(4));
  const pair = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return {
    privateKey: { kind: 'RSA', pkcs8: pair.privateKey.export({ format: 'der', type: 'pkcs8' }) },
    spki: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

/** What the cloud's GetParametersForImport (or console) would hand over, in its own formats. */
function cloudSide(target: ByokTarget, spki: Buffer, now: Date): Omit<OperationOutput<'PrepareRehearsal'>, 'RehearsalId' | 'Target' | 'WrappingAlgorithm' | 'WrappingKeySpec'> {
  const tag = randomBytes(4).toString('hex');
  const in24h = new Date(now.getTime() + DAY_MS);
  switch (target) {
    case 'ALIYUN':
      return { PublicKey: spki.toString('base64'), ImportToken: randomBytes(96).toString('base64'), TokenExpireTime: isoTime(in24h), CloudKeyId: `key-rehearsal-${randomUUID()}` };
    case 'HUAWEI':
      return { PublicKey: spki.toString('base64'), ImportToken: randomBytes(96).toString('base64'), TokenExpireTime: String(Math.floor(in24h.getTime() / 1000)), CloudKeyId: randomUUID() };
    case 'AWS':
      return {
        PublicKey: spki.toString('base64'),
        ImportToken: randomBytes(128).toString('base64'),
        TokenExpireTime: isoTime(in24h),
        CloudKeyId: `arn:aws:kms:us-east-1:111122223333:key/${randomUUID()}`,
      };
    case 'GCP':
      return {
        PublicKey: spkiToPem(spki),
        ImportToken: `projects/keyroom-rehearsal/locations/global/keyRings/rehearsal/importJobs/rehearsal-${tag}`,
        TokenExpireTime: isoTime(new Date(now.getTime() + 3 * DAY_MS)),
        CloudKeyId: `projects/keyroom-rehearsal/locations/global/keyRings/rehearsal/cryptoKeys/rehearsal-${tag}`,
      };
    case 'AZURE':
      return {
        PublicKey: spkiToPem(spki),
        CloudKeyId: `rehearsal-${tag}`,
        KeyEncryptionKeyId: `https://keyroom-rehearsal.vault.azure.net/keys/rehearsal-kek/${randomBytes(16).toString('hex')}`,
      };
    default: {
      const never: never = target;
      throw new KmsError('Internal', `Unknown target ${String(never)}.`);
    }
  }
}

export function prepareRehearsal(rehearsals: Rehearsals, input: OperationInput<'PrepareRehearsal'>, now: Date): OperationOutput<'PrepareRehearsal'> {
  const row = findRow(input.Target, input.WrappingAlgorithm, input.KeySpec);
  const spec = input.WrappingKeySpec ?? row.wrappingKeySpecs[0]!;
  if (!row.wrappingKeySpecs.includes(spec)) {
    throw new KmsError('InvalidParameter.WrappingKeySpec', `${row.algorithm} wraps with a ${row.wrappingKeySpecs.join(' or ')} key, not ${spec}.`);
  }
  const { privateKey, spki } = standInKeyPair(spec);
  const fingerprint = createHash('sha256').update(spki).digest('hex');
  const id = rehearsals.add({ target: input.Target, row, wrappingKeySpec: spec, privateKey, fingerprint });
  return { RehearsalId: id, Target: input.Target, WrappingAlgorithm: row.algorithm, WrappingKeySpec: spec, ...cloudSide(input.Target, spki, now) };
}

interface Manifest {
  Target?: unknown;
  KeySpec?: unknown;
  WrappingAlgorithm?: unknown;
  WrappingPublicKeyFingerprint?: unknown;
  KeyCheckValue?: unknown;
  Sm2CiphertextEncoding?: unknown;
  Files?: { File?: unknown; Sha256?: unknown }[];
}

/** Wrapped material, its manifest and the cloud files are kilobytes; this is ample. */
const REHEARSAL_FILE_MAX_BYTES = 1 << 20;

export async function checkRehearsal(rehearsals: Rehearsals, input: OperationInput<'CheckRehearsal'>): Promise<OperationOutput<'CheckRehearsal'>> {
  const standIn = rehearsals.get(input.RehearsalId);
  const dir = resolve(input.OutputDir);
  // What a ceremony wrote there is small; a FIFO or device put in its place is refused, not waited on.
  const read = (name: string) =>
    readSmallFile(join(dir, name), REHEARSAL_FILE_MAX_BYTES, (why) => new KmsError('InvalidParameter.OutputDir', `Cannot read ${join(dir, name)}: ${why}.`));
  let manifest: Manifest;
  try {
    manifest = JSON.parse((await read(MANIFEST_FILE)).toString('utf8')) as Manifest;
  } catch {
    throw new KmsError('InvalidParameter.OutputDir', `${join(dir, MANIFEST_FILE)} is missing or not JSON: choose the folder the ceremony wrote.`);
  }
  const details: string[] = [];
  let matches = true;
  const expect = (ok: boolean, good: string, bad: string) => {
    details.push(ok ? good : bad);
    if (!ok) matches = false;
  };

  expect(manifest.Target === standIn.target, `Target ${standIn.target}.`, `The manifest names target ${String(manifest.Target)}; this rehearsal plays ${standIn.target}.`);
  expect(
    manifest.WrappingPublicKeyFingerprint === standIn.fingerprint,
    'Wrapped under this rehearsal\'s stand-in key.',
    'The manifest names another wrapping key than this rehearsal\'s stand-in.',
  );
  let filesChecked = 0;
  for (const f of manifest.Files ?? []) {
    if (typeof f.File !== 'string' || f.File.includes('/') || f.File.includes('\\')) {
      expect(false, '', `The manifest lists a file outside its folder (${String(f.File)}).`);
      continue;
    }
    const content = await read(f.File).catch(() => null);
    const ok = content !== null && createHash('sha256').update(content).digest('hex') === f.Sha256;
    expect(ok, `${f.File}: SHA-256 matches.`, content === null ? `${f.File} is missing.` : `${f.File}: SHA-256 does not match the manifest.`);
    filesChecked++;
  }

  const spec = manifest.KeySpec as KeySpec;
  if (!KEY_SPEC_INFO[spec]) throw new KmsError('InvalidParameter.OutputDir', 'The manifest names no known KeySpec.');
  const row = findRow(standIn.target, standIn.row.algorithm, spec);
  const request: ExportWrapRequest = {
    scheme: row.scheme,
    wrappingKey: Buffer.alloc(0),
    materialForm: materialForm(row, spec),
    ...(row.oaepHash ? { oaepHash: row.oaepHash } : {}),
    ...(row.sm2Encoding ? { sm2Encoding: (manifest.Sm2CiphertextEncoding as Sm2CiphertextEncoding | undefined) ?? row.sm2Encoding } : {}),
  };
  let kcv = '';
  try {
    const wrapped = await wrappedFromFiles(standIn.target, read);
    const material = unwrapMaterial(request, standIn.privateKey, wrapped, KEY_SPEC_INFO[spec].secretBytes);
    try {
      kcv = isAsymmetric(spec)
        ? createHash('sha256').update(publicKeyOfMaterial(spec, material, request.materialForm)).digest('hex')
        : secretCheckValue(spec, material).toString('hex');
    } finally {
      wipe(material);
    }
    details.push(`Unwrapped with the stand-in private key (${row.algorithm}).`);
  } catch (e) {
    matches = false;
    details.push(`Unwrapping failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const manifestKcv = typeof manifest.KeyCheckValue === 'string' ? manifest.KeyCheckValue : '';
  if (kcv) expect(kcv === manifestKcv, `Key check value ${kcv} matches the manifest.`, `Key check value ${kcv} does not match the manifest's ${manifestKcv}.`);
  return { RehearsalId: input.RehearsalId, Matches: matches && kcv !== '', KeyCheckValue: kcv, ManifestKeyCheckValue: manifestKcv, FilesChecked: filesChecked, Details: details };
}
