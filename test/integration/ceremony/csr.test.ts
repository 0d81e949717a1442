/**
 * GenerateCsr for every asymmetric spec and signing algorithm, SOFTWARE and (where SoftHSM holds
 * the spec) HSM keys, judged by OpenSSL: `openssl req -verify` (SM2 with the default distinguishing
 * ID), the subject, SANs and extensions read back from `openssl req -text`, the string types from
 * `openssl asn1parse`, and the public key inside equal to GetPublicKey's. Then the refusals.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeySpec, SigningAlgorithm } from '../../../src-shared/domain/keySpecs';
import { openHarness, type Harness } from '../../support/kmsHarness';
import { makeSoftHsm, openHsmHarnessOn, type SoftHsm } from '../../support/softhsm';
import { openssl, opensslOk, Scratch } from '../../support/openssl';

const SUBJECT = 'CN=release.example.org,OU=Build\\, Release,O=Keyroom 测试有限公司,L=München,ST=Bayern,C=DE,emailAddress=release@example.org';
const SANS = 'DNS:release.example.org,DNS:*.cdn.example.org,IP:192.0.2.1,IP:2001:db8::7,email:ops@example.org,URI:https://example.org/release';

const CASES: [KeySpec, SigningAlgorithm][] = [
  ['RSA_2048', 'RSA_PKCS1_SHA_256'],
  ['RSA_2048', 'RSA_PSS_SHA_256'],
  ['RSA_3072', 'RSA_PSS_SHA_256'],
  ['RSA_4096', 'RSA_PKCS1_SHA_256'],
  ['EC_P256', 'ECDSA_SHA_256'],
  ['EC_P256K', 'ECDSA_SHA_256'],
  ['EC_P384', 'ECDSA_SHA_384'],
  ['EC_SM2', 'SM2DSA'],
];

function verify(file: string, algorithm: SigningAlgorithm, der = false): void {
  const r = opensslOk(['req', ...(der ? ['-inform', 'DER'] : []), '-in', file, '-verify', '-noout', ...(algorithm === 'SM2DSA' ? ['-vfyopt', 'distid:1234567812345678'] : [])]);
  assert.ok(r.ok && /verify OK/i.test(r.output), r.output);
}

function text(file: string): string {
  return openssl(['req', '-in', file, '-noout', '-text', '-nameopt', 'RFC2253,-esc_msb']).toString('utf8');
}

async function checkCsr(h: Harness, s: Scratch, spec: KeySpec, algorithm: SigningAlgorithm, keyId: string): Promise<void> {
  const file = join(s.dir, `${spec}-${algorithm}-${Math.random().toString(36).slice(2)}.csr`);
  const r = await h.call('GenerateCsr', {
    KeyId: keyId, Algorithm: algorithm, Subject: SUBJECT, SubjectAltNames: SANS,
    KeyUsage: 'digitalSignature,nonRepudiation', ExtendedKeyUsage: 'codeSigning,1.3.6.1.4.1.311.10.3.13', OutputFile: file,
  });
  assert.equal(r.Algorithm, algorithm);
  assert.equal(readFileSync(file, 'utf8'), r.Csr);
  verify(file, algorithm);
  assert.equal(r.VerifyCommand, `openssl req -in ${file} -verify -noout${algorithm === 'SM2DSA' ? ' -vfyopt distid:1234567812345678' : ''}`);

  const t = text(file);
  assert.ok(t.includes('DNS:release.example.org, DNS:*.cdn.example.org, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:7, email:ops@example.org, URI:https://example.org/release'), t);
  assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
  assert.match(t, /X509v3 Extended Key Usage:\s+Code Signing, 1\.3\.6\.1\.4\.1\.311\.10\.3\.13/);
  if (algorithm === 'RSA_PSS_SHA_256') {
    assert.match(t, /Signature Algorithm: rsassaPss/);
    assert.match(t, /Hash Algorithm: sha256/);
    assert.match(t, /Mask Algorithm: mgf1 with sha256/);
    assert.match(t, /Salt Length: 0x20/);
  }
  // RFC 2253 prints the most specific RDN first, as it was given; non-ASCII comes back as UTF-8.
  const subjectLine = openssl(['req', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']).toString('utf8').trim();
  assert.equal(subjectLine, `subject=${SUBJECT}`);
  assert.equal(r.Subject, SUBJECT);

  // String types: PrintableString where it fits, UTF8String for the non-ASCII names, IA5String for email.
  const asn1 = openssl(['asn1parse', '-in', file]).toString('utf8');
  assert.match(asn1, /PRINTABLESTRING\s+:DE/);
  assert.match(asn1, /PRINTABLESTRING\s+:release\.example\.org/);
  assert.match(asn1, /UTF8STRING\s+:Keyroom /);
  assert.match(asn1, /UTF8STRING\s+:M/);
  assert.match(asn1, /IA5STRING\s+:release@example\.org/);

  // The key inside is the key's own.
  const inside = openssl(['req', '-in', file, '-noout', '-pubkey']).toString();
  const versions = await h.call('ListKeyVersions', { KeyId: keyId });
  const expected = (await h.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versions.KeyVersions.KeyVersion[0]!.KeyVersionId })).PublicKey;
  assert.equal(inside, expected);
}

describe('GenerateCsr, SOFTWARE keys', () => {
  let h: Harness;
  const s = new Scratch();
  const keys = new Map<KeySpec, string>();
  before(async () => {
    h = await openHarness();
    for (const spec of new Set(CASES.map(([sp]) => sp))) {
      keys.set(spec, (await h.call('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId);
    }
  });
  after(async () => {
    await h.close();
    s.remove();
  });

  for (const [spec, algorithm] of CASES) {
    it(`${spec} ${algorithm}: openssl req -verify passes, and subject, SANs, extensions and key read back`, () => checkCsr(h, s, spec, algorithm, keys.get(spec)!));
  }

  it('uses each spec\'s default algorithm when none is named', async () => {
    const expected: Record<string, string> = { RSA_2048: 'RSA_PKCS1_SHA_256', EC_P256: 'ECDSA_SHA_256', EC_P384: 'ECDSA_SHA_384', EC_SM2: 'SM2DSA' };
    for (const [spec, algorithm] of Object.entries(expected)) {
      const r = await h.call('GenerateCsr', { KeyId: keys.get(spec as KeySpec)!, Subject: 'CN=default' });
      assert.equal(r.Algorithm, algorithm, spec);
      const f = s.file(`default-${spec}.csr`, r.Csr);
      verify(f, r.Algorithm);
      assert.equal(r.OutputFile, undefined);
    }
  });

  it('templates: tls-server takes the CN as DNS name; intermediate-ca asks CA:TRUE, pathlen 0, critical', async () => {
    const tls = await h.call('GenerateCsr', { KeyId: keys.get('EC_P256')!, Subject: 'CN=www.example.org,O=Example,C=US', Template: 'tls-server' });
    assert.deepEqual(tls.SubjectAltNames, ['DNS:www.example.org']);
    const tt = text(s.file('tls.csr', tls.Csr));
    assert.match(tt, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(tt, /TLS Web Server Authentication/);
    assert.match(tt, /DNS:www\.example\.org/);
    const rsaTls = await h.call('GenerateCsr', { KeyId: keys.get('RSA_2048')!, Subject: 'CN=rsa.example.org', Template: 'tls-server', SubjectAltNames: 'DNS:a.example.org' });
    assert.match(text(s.file('rsatls.csr', rsaTls.Csr)), /Digital Signature, Key Encipherment/);

    const ca = await h.call('GenerateCsr', { KeyId: keys.get('EC_P384')!, Subject: 'CN=Keyroom Intermediate CA 2026,O=Example,C=DE', Template: 'intermediate-ca' });
    const ct = text(s.file('ca.csr', ca.Csr));
    assert.match(ct, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(ct, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    verify(s.file('ca2.csr', ca.Csr), 'ECDSA_SHA_384');
    // A template's defaults can be adjusted.
    const ca1 = await h.call('GenerateCsr', { KeyId: keys.get('EC_P384')!, Subject: 'CN=Root-near CA', Template: 'intermediate-ca', BasicConstraints: 'CA:true,pathlen:2' });
    assert.match(text(s.file('ca1.csr', ca1.Csr)), /CA:TRUE, pathlen:2/);
  });

  it('writes DER on request, and the SHA-256 is of the file', async () => {
    const file = join(s.dir, 'req.der');
    const r = await h.call('GenerateCsr', { KeyId: keys.get('EC_SM2')!, Subject: 'CN=sm2 签名', OutputFile: file, Encoding: 'DER' });
    verify(file, 'SM2DSA', true);
    assert.equal(r.Sha256, openssl(['dgst', '-sha256', '-r', file]).toString().split(' ')[0]);
    assert.equal(r.VerifyCommand, `openssl req -inform DER -in ${file} -verify -noout -vfyopt distid:1234567812345678`);
    const audit = await h.call('ListAuditEvents', { Operation: 'GenerateCsr', KeyId: keys.get('EC_SM2')! });
    assert.equal(audit.Events[0]!.Details.Sha256, r.Sha256);
    assert.equal(audit.Events[0]!.Details.Subject, 'CN=sm2 签名');
  });

  describe('refusals, each changing nothing', () => {
    const ec = () => keys.get('EC_P256')!;
    it('a country of three letters, an unknown attribute, a bad escape', async () => {
      assert.match((await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x,C=DEU' }, 'InvalidParameter.Subject')).Message, /two capital letters/);
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x,Foo=bar' }, 'InvalidParameter.Subject');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=a\\qb' }, 'InvalidParameter.Subject');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=' }, 'InvalidParameter.Subject');
    });
    it('a malformed IP, host name or email in the SANs', async () => {
      assert.match((await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', SubjectAltNames: 'IP:192.0.2.300' }, 'InvalidParameter.SubjectAltNames')).Message, /192\.0\.2\.300/);
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', SubjectAltNames: 'IP:2001:db8:::1' }, 'InvalidParameter.SubjectAltNames');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', SubjectAltNames: 'DNS:bad_host!' }, 'InvalidParameter.SubjectAltNames');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', SubjectAltNames: 'email:nobody' }, 'InvalidParameter.SubjectAltNames');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', SubjectAltNames: 'FTP:x' }, 'InvalidParameter.SubjectAltNames');
    });
    it('a template that needs a CN, extensions that do not fit the key', async () => {
      assert.match((await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'O=Example', Template: 'tls-server' }, 'InvalidParameter.Subject')).Message, /needs a CN/);
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', KeyUsage: 'keyEncipherment' }, 'InvalidParameter.Extension');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', KeyUsage: 'signEverything' }, 'InvalidParameter.Extension');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', BasicConstraints: 'CA:false,pathlen:1' }, 'InvalidParameter.Extension');
    });
    it('a symmetric key, an encryption key, a disabled key, an algorithm that does not fit', async () => {
      const aes = (await h.call('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
      await h.refuse('GenerateCsr', { KeyId: aes, Subject: 'CN=x' }, 'Rejected.KeySpec');
      const enc = (await h.call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' })).KeyMetadata.KeyId;
      await h.refuse('GenerateCsr', { KeyId: enc, Subject: 'CN=x' }, 'Rejected.KeyUsage');
      const off = (await h.call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' })).KeyMetadata.KeyId;
      await h.call('DisableKey', { KeyId: off });
      await h.refuse('GenerateCsr', { KeyId: off, Subject: 'CN=x' }, 'Rejected.KeyState');
      assert.match((await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', Algorithm: 'ECDSA_SHA_384' }, 'Rejected.Algorithm')).Message, /ECDSA_SHA_256/);
    });
    it('an existing output file is never overwritten', async () => {
      const file = s.file('taken.csr', 'mine');
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', OutputFile: file }, 'AlreadyExists.File');
      assert.equal(readFileSync(file, 'utf8'), 'mine');
      assert.equal(existsSync(join(s.dir, 'no-such-dir')), false);
      await h.refuse('GenerateCsr', { KeyId: ec(), Subject: 'CN=x', OutputFile: join(s.dir, 'no-such-dir', 'r.csr') }, 'InvalidParameter.OutputFile');
    });
  });
});

describe('GenerateCsr, HSM keys on SoftHSM (signed inside the token)', () => {
  let hsm: SoftHsm;
  let h: Harness;
  const s = new Scratch();
  before(async () => {
    hsm = makeSoftHsm('csr-test');
    h = await openHsmHarnessOn(hsm);
  });
  after(async () => {
    await h.close();
    hsm.cleanup();
    s.remove();
  });
  const HSM_CASES = CASES.filter(([spec]) => spec !== 'EC_SM2' && spec !== 'RSA_4096');
  for (const [spec, algorithm] of HSM_CASES) {
    it(`${spec} ${algorithm}`, async () => {
      const keyId = (await h.call('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' })).KeyMetadata.KeyId;
      await checkCsr(h, s, spec, algorithm, keyId);
    });
  }
  it('EC_SM2 cannot live in the token here, so no HSM SM2 request', async () => {
    await h.refuse('CreateKey', { KeySpec: 'EC_SM2', KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM' }, 'Hsm.MechanismUnsupported');
  });
});
