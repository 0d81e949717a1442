/**
 * GenerateCsr: a PKCS#10 request for an asymmetric key, signed by the key through its backend
 * (inside the token for HSM keys), exactly as AsymmetricSign signs a digest. Everything the
 * operator typed is checked before the key is touched. Plan, compute, record, publish: the file's
 * name is checked free first; the request is signed, staged and its audit entry (subject, key,
 * file and SHA-256) committed; only then does the file take its name (files/outputWriter.ts).
 */
import { createHash } from 'node:crypto';
import { KmsError } from '../../../../src-shared/errors';
import { KEY_SPEC_INFO, SIGNING_DIGEST, isAsymmetric, type KeySpec, type SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import {
  CSR_TEMPLATE_DEFAULTS,
  commonName,
  formatDn,
  parseBasicConstraints,
  parseDn,
  parseExtendedKeyUsage,
  parseKeyUsage,
  parseSubjectAltNames,
  sanEntry,
  type CsrTemplate,
  type ParsedDn,
} from '../../../../src-shared/domain/csrRequest';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { ecPointFromSpki } from '../../../crypto/keyEncoding';
import { sm2MessageDigest } from '../../../crypto/sm2';
import { shellWord } from '../../../files/shellWord';
import type { SqlExecutor } from '../../../keystore/sqlcipher';
import { appendAudit } from '../../audit/auditLog';
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordWithStaging, staleReport } from '../../audit/outputRecord';
import { requireAlgorithm, requireState, requireUsage, resolveKey, resolveVersion, useSecret } from '../../kms/keyAccess';
import { now, type KmsContext } from '../../kms/context';
import { requestInfo, signedRequestDer, tbsDer, type CsrExtensions } from './csrDer';

/** The algorithm a spec signs requests with when none is named. */
export function defaultCsrAlgorithm(spec: KeySpec): SigningAlgorithm {
  const info = KEY_SPEC_INFO[spec];
  if (info.family === 'RSA') return 'RSA_PKCS1_SHA_256';
  return info.signingAlgorithms[0]!;
}

export interface CsrContent {
  dn: ParsedDn;
  extensions: CsrExtensions;
}

/** The subject and extensions, from the operator's text and the template's defaults. */
export function csrContent(input: Pick<OperationInput<'GenerateCsr'>, 'Subject' | 'SubjectAltNames' | 'KeyUsage' | 'ExtendedKeyUsage' | 'BasicConstraints' | 'Template'>, spec: KeySpec): CsrContent {
  const dn = parseDn(input.Subject);
  const template = input.Template ? CSR_TEMPLATE_DEFAULTS[input.Template as CsrTemplate] : undefined;
  const cn = commonName(dn);
  if (template?.requiresCn && !cn) {
    throw new KmsError('InvalidParameter.Subject', `The ${template.label} template needs a CN in the subject.`);
  }
  let subjectAltNames = input.SubjectAltNames ? parseSubjectAltNames(input.SubjectAltNames) : [];
  if (input.Template === 'tls-server' && subjectAltNames.length === 0 && cn) {
    // TLS clients match host names against subjectAltName only (RFC 6125); the CN is the host.
    subjectAltNames = [sanEntry('DNS', cn)];
  }
  const rsa = KEY_SPEC_INFO[spec].family === 'RSA';
  const extensions: CsrExtensions = {
    subjectAltNames,
    keyUsage: input.KeyUsage !== undefined ? parseKeyUsage(input.KeyUsage) : template ? (rsa ? template.keyUsage.rsa : template.keyUsage.ec) : [],
    extendedKeyUsage: input.ExtendedKeyUsage !== undefined ? parseExtendedKeyUsage(input.ExtendedKeyUsage) : (template?.extendedKeyUsage ?? []),
  };
  const bc = input.BasicConstraints !== undefined ? parseBasicConstraints(input.BasicConstraints) : template?.basicConstraints;
  if (bc) extensions.basicConstraints = bc;
  if (!rsa && extensions.keyUsage.some((k) => k === 'keyEncipherment' || k === 'dataEncipherment')) {
    throw new KmsError('InvalidParameter.Extension', `A ${spec} key cannot encipher: keyEncipherment and dataEncipherment are for RSA keys.`);
  }
  return { dn, extensions };
}

/**
 * What the key signs: SHA-256/384 of the DER, for SM2 e = SM3(Z_A || DER) with the default ID, and
 * for Ed25519 the DER itself (pure EdDSA, RFC 8410 §6).
 */
function digestOf(algorithm: SigningAlgorithm, spki: Buffer, tbs: Buffer): Buffer {
  if (algorithm === 'SM2DSA') return sm2MessageDigest(ecPointFromSpki(spki), tbs);
  if (algorithm === 'ED25519') return tbs;
  return createHash(SIGNING_DIGEST[algorithm].digest).update(tbs).digest();
}

function pem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

export function verifyCommand(file: string, encoding: 'PEM' | 'DER', algorithm: SigningAlgorithm): string {
  return [
    'openssl req',
    ...(encoding === 'DER' ? ['-inform DER'] : []),
    `-in ${shellWord(file)}`,
    '-verify -noout',
    ...(algorithm === 'SM2DSA' ? ['-vfyopt distid:1234567812345678'] : []),
  ].join(' ');
}

/** The key that signs, checked for the request, and the request's content. */
async function csrKey(db: SqlExecutor, input: OperationInput<'GenerateCsr'>) {
  const key = await resolveKey(db, input.KeyId);
  if (!isAsymmetric(key.key_spec)) {
    throw new KmsError('Rejected.KeySpec', `Key ${key.key_id} is ${key.key_spec}; a certification request needs an asymmetric key (RSA, EC, SM2 or Ed25519).`);
  }
  requireUsage(key, 'SIGN/VERIFY', 'sign a certification request');
  requireState(key, ['Enabled'], 'sign a certification request');
  const algorithm = input.Algorithm ?? defaultCsrAlgorithm(key.key_spec);
  requireAlgorithm(key, 'signing', algorithm);
  const version = await resolveVersion(db, key, input.KeyVersionId);
  const spki = version.public_key;
  if (!spki) throw new KmsError('Internal', `Key version ${version.key_version_id} has no public key recorded.`);
  return { key, algorithm, version, spki, ...csrContent(input, key.key_spec) };
}

export async function generateCsr(kms: KmsContext, input: OperationInput<'GenerateCsr'>, requestId: string): Promise<OperationOutput<'GenerateCsr'>> {
  const encoding = input.Encoding ?? 'PEM';
  // What the operator typed and the key's refusals come before the file's.
  await kms.keystore.read((db) => csrKey(db, input));
  const plan = input.OutputFile ? await planRecordedOutputs(kms, [input.OutputFile], requestId) : undefined;
  const { result: out, staged } = await recordWithStaging(kms, async (tx, stage) => {
    // Checked again inside the transaction: the key may have changed since.
    const { key, algorithm, version, spki, dn, extensions } = await csrKey(tx, input);

    const info = requestInfo(dn, spki, extensions);
    const digest = digestOf(algorithm, spki, tbsDer(info));
    const signature = await useSecret(kms, tx, key, version, (backend, v) => backend.sign(v, algorithm, digest));
    const der = signedRequestDer(info, algorithm, signature);
    const text = pem(der);
    const bytes = encoding === 'DER' ? der : Buffer.from(text, 'utf8');
    const file = plan ? (await stage(plan, [{ path: plan.paths[0]!, content: bytes }])).files[0]! : undefined;
    const sha256 = file?.sha256 ?? createHash('sha256').update(bytes).digest('hex');
    const subject = formatDn(dn);
    const sans = extensions.subjectAltNames.map((s) => `${s.type}:${s.value}`);

    await appendAudit(
      tx,
      {
        requestId,
        operation: 'GenerateCsr',
        keyId: key.key_id,
        keyVersionId: version.key_version_id,
        details: {
          Algorithm: algorithm,
          Subject: subject,
          SubjectAltNames: sans.join(','),
          OutputFile: input.OutputFile ?? null,
          Sha256: sha256,
          ...(file ? { OutputFiles: outputFilesDetail([file]) } : {}),
        },
      },
      now(kms),
    );

    const out: OperationOutput<'GenerateCsr'> = {
      KeyId: key.key_id,
      KeyVersionId: version.key_version_id,
      Algorithm: algorithm,
      Csr: text,
      Sha256: sha256,
      Subject: subject,
      SubjectAltNames: sans,
      PublicKeyFingerprint: createHash('sha256').update(spki).digest('hex'),
      VerifyCommand: verifyCommand(input.OutputFile ?? 'request.csr', encoding, algorithm),
    };
    if (input.OutputFile) out.OutputFile = input.OutputFile;
    return out;
  });
  for (const st of staged) await publishRecorded(kms, st, { requestId, operation: 'GenerateCsr', keyId: out.KeyId, keyVersionId: out.KeyVersionId });
  return plan ? { ...out, ...staleReport(plan) } : out;
}

