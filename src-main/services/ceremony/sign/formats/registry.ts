/**
 * The formats SignFile can write, by name, and the checks made before anything is hashed or
 * signed: a format that cannot take the key is refused naming those that can. `raw` is SignFile's
 * own path (signFiles.ts); the others' bytes are made by src-main/formats/.
 */
import { KmsError } from '../../../../../src-shared/errors';
import type { KeySpec } from '../../../../../src-shared/domain/keySpecs';
import { SIGNATURE_FORMATS } from '../../../../../src-shared/domain/signatureFormats';
import type { FormatName, SignatureFormat } from './format';
import { sshFormat } from './ssh';
import { minisignFormat } from './minisign';
import { signifyFormat } from './signify';
import { openpgpFormat } from './openpgp';
import { cosignFormat } from './cosign';
import { jwsFormat } from './jws';

const FORMATS: Readonly<Partial<Record<Exclude<FormatName, 'raw'>, SignatureFormat>>> = {
  ssh: sshFormat,
  minisign: minisignFormat,
  signify: signifyFormat,
  openpgp: openpgpFormat,
  cosign: cosignFormat,
  jws: jwsFormat,
};

/** Every format takes every key spec in raw; the others as their module says. */
function accepts(name: FormatName, spec: KeySpec): boolean {
  if (name === 'raw') return true;
  return FORMATS[name]?.accepts(spec) ?? false;
}

export function formatsFor(spec: KeySpec): FormatName[] {
  return SIGNATURE_FORMATS.filter((f) => accepts(f, spec));
}

/**
 * The formats asked for, deduplicated in the order given, each checked against the key; returns
 * the non-raw modules and whether raw is among them.
 */
export function chooseFormats(names: readonly FormatName[], spec: KeySpec): { raw: boolean; formats: SignatureFormat[] } {
  const unique = [...new Set(names)];
  const formats: SignatureFormat[] = [];
  for (const name of unique) {
    if (name === 'raw') continue;
    const f = FORMATS[name];
    if (!f) throw new KmsError('InvalidParameter', `The ${name} format is not available yet in this build; ${formatsFor(spec).join(', ')} can sign with this ${spec} key.`);
    if (!f.accepts(spec)) throw new KmsError('Rejected.KeySpec', `The ${name} format cannot sign with a ${spec} key; the formats that can are ${formatsFor(spec).join(', ')}.`);
    formats.push(f);
  }
  return { raw: unique.includes('raw'), formats };
}
