/**
 * Second verifiers for BYOK output, stricter than `openssl pkey` (which stops reading at the end
 * of the DER SEQUENCE and so accepts a PKCS#8 with zero bytes after it):
 * - RFC 5649 unwrap by Node's own OpenSSL binding (`id-aes256-wrap-pad`), beside the CLI's;
 * - PKCS#8 read by @peculiar/asn1-schema and serialised again: the DER must give back exactly the
 *   bytes unwrapped, no more, no fewer;
 * - Python's `cryptography` (when installed): aes_key_unwrap_with_padding, then
 *   load_der_private_key, which refuses trailing bytes, as a strict cloud importer would.
 */
import { spawnSync } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { AsnParser, AsnSerializer } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';

/** RFC 5649 unwrap with Node's crypto; throws when the integrity check fails. */
export function kwpUnwrapNode(kek: Buffer, wrapped: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', kek, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([d.update(wrapped), d.final()]);
}

/** Whether `der` is exactly one PrivateKeyInfo: parsed, then serialised back to the same bytes. */
export function exactPkcs8(der: Buffer): { exact: boolean; derLength?: number } {
  try {
    const again = Buffer.from(AsnSerializer.serialize(AsnParser.parse(der, PrivateKeyInfo)));
    return { exact: again.equals(der), derLength: again.length };
  } catch {
    return { exact: false };
  }
}

let pythonChecked: boolean | undefined;
/** Whether python3 with the `cryptography` package is on this machine. */
export function hasPythonCryptography(): boolean {
  pythonChecked ??= spawnSync('python3', ['-c', 'import cryptography'], { stdio: 'ignore' }).status === 0;
  return pythonChecked;
}

const PYTHON_UNWRAP = `
import sys, json
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
from cryptography.hazmat.primitives.serialization import load_der_private_key
kek = bytes.fromhex(sys.argv[1]); wrapped = bytes.fromhex(sys.argv[2]); pkcs8 = sys.argv[3] == 'pkcs8'
out = {}
try:
    m = aes_key_unwrap_with_padding(kek, wrapped)
    out['material'] = m.hex()
    if pkcs8:
        try:
            load_der_private_key(m, None); out['pkcs8'] = 'ok'
        except Exception as e:
            out['pkcs8'] = 'refused: ' + str(e).split('.')[0]
except Exception as e:
    out['unwrap'] = 'refused: ' + str(e)
print(json.dumps(out))
`;

/** Python's verdict on a KWP blob: the material it unwraps and, for PKCS#8, whether it loads. */
export function pythonUnwrap(kek: Buffer, wrapped: Buffer, pkcs8: boolean): { material?: Buffer; pkcs8?: string; unwrap?: string } {
  const r = spawnSync('python3', ['-c', PYTHON_UNWRAP, kek.toString('hex'), wrapped.toString('hex'), pkcs8 ? 'pkcs8' : 'raw'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { material?: string; pkcs8?: string; unwrap?: string };
  return { ...out, material: out.material === undefined ? undefined : Buffer.from(out.material, 'hex') };
}
