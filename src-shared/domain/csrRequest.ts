/**
 * What a certification request asks for, as text an operator types, parsed and checked before
 * any key is touched: the subject (RFC 4514), subjectAltName entries, keyUsage, extendedKeyUsage,
 * basicConstraints, and the templates that fill them. Pure (no Node), so the wizard checks its
 * fields with the same rules the main process applies.
 */
import { KmsError } from '../errors';

/** The attribute types Keyroom writes, by the short name RFC 4514 and OpenSSL print. */
export const DN_ATTRIBUTES = {
  CN: { oid: '2.5.4.3', label: 'Common name' },
  O: { oid: '2.5.4.10', label: 'Organisation' },
  OU: { oid: '2.5.4.11', label: 'Organisational unit' },
  L: { oid: '2.5.4.7', label: 'Locality' },
  ST: { oid: '2.5.4.8', label: 'State or province' },
  C: { oid: '2.5.4.6', label: 'Country (two letters)' },
  STREET: { oid: '2.5.4.9', label: 'Street' },
  serialNumber: { oid: '2.5.4.5', label: 'Serial number' },
  title: { oid: '2.5.4.12', label: 'Title' },
  GN: { oid: '2.5.4.42', label: 'Given name' },
  SN: { oid: '2.5.4.4', label: 'Surname' },
  emailAddress: { oid: '1.2.840.113549.1.9.1', label: 'Email address' },
  DC: { oid: '0.9.2342.19200300.100.1.25', label: 'Domain component' },
  UID: { oid: '0.9.2342.19200300.100.1.1', label: 'User id' },
} as const;
export type DnAttribute = keyof typeof DN_ATTRIBUTES;

/** The ASN.1 string type a value is written as. */
export type DnStringType = 'printableString' | 'utf8String' | 'ia5String';

export interface DnEntry {
  type: DnAttribute;
  value: string;
  stringType: DnStringType;
}

/** RDNs in the order written (most specific first, as RFC 4514 prints); each RDN has 1+ entries. */
export type ParsedDn = DnEntry[][];

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
// eslint-disable-next-line no-control-regex
const IA5 = /^[\x00-\x7f]*$/;
const MAX_VALUE = 256;

function subjectError(message: string): KmsError {
  return new KmsError('InvalidParameter.Subject', message);
}

function attributeOf(name: string): DnAttribute {
  const key = (Object.keys(DN_ATTRIBUTES) as DnAttribute[]).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key) return key;
  if (name.toLowerCase() === 'e' || name.toLowerCase() === 'email') return 'emailAddress';
  throw subjectError(`Unknown attribute "${name}" in the subject; Keyroom writes ${Object.keys(DN_ATTRIBUTES).join(', ')}.`);
}

/** Checks one attribute value and picks its string type: PrintableString where it fits, else UTF8String. */
export function dnEntry(type: DnAttribute, value: string): DnEntry {
  if (value.length === 0) throw subjectError(`${type} is empty; leave it out or give a value.`);
  if (value.length > MAX_VALUE) throw subjectError(`${type} is longer than ${MAX_VALUE} characters.`);
  if (type === 'C') {
    if (!/^[A-Z]{2}$/.test(value)) throw subjectError(`C (country) is two capital letters (ISO 3166), such as CN, DE or US; "${value}" is not.`);
    return { type, value, stringType: 'printableString' };
  }
  if (type === 'emailAddress' || type === 'DC') {
    if (!IA5.test(value)) throw subjectError(`${type} must be ASCII.`);
    if (type === 'emailAddress' && !/^[^@\s]+@[^@\s]+$/.test(value)) throw subjectError(`emailAddress "${value}" is not an email address.`);
    return { type, value, stringType: 'ia5String' };
  }
  if (type === 'serialNumber' && !PRINTABLE.test(value)) throw subjectError('serialNumber takes only PrintableString characters (letters, digits, space and \'()+,-./:=?).');
  return { type, value, stringType: PRINTABLE.test(value) ? 'printableString' : 'utf8String' };
}

/**
 * RFC 4514 string to RDNs: `CN=Release signing,O=Example\, Inc.,C=DE`; `+` joins attributes of
 * one RDN; backslash escapes a special character or two hex digits of UTF-8.
 */
export function parseDn(text: string): ParsedDn {
  const rdns: ParsedDn = [];
  let rdn: DnEntry[] = [];
  let i = 0;
  const s = text.trim();
  if (s.length === 0) throw subjectError('The subject is empty; give at least CN=...');
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw subjectError(`"${s.slice(i)}" has no "=": write attributes as NAME=value, separated by commas.`);
    const type = attributeOf(s.slice(i, eq).trim());
    i = eq + 1;
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    let end: string | undefined;
    while (i < s.length) {
      const ch = s[i]!;
      if (ch === ',' || ch === '+') {
        end = ch;
        i++;
        break;
      }
      if (ch === '\\') {
        const next = s.slice(i + 1, i + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(next)) {
          bytes.push(parseInt(next, 16));
          i += 3;
          continue;
        }
        const escaped = s[i + 1];
        if (escaped === undefined || !`,+"\\<>;= #`.includes(escaped)) throw subjectError('A backslash in the subject escapes one of , + " \\ < > ; = # or two hex digits.');
        bytes.push(...encoder.encode(escaped));
        i += 2;
        continue;
      }
      bytes.push(...encoder.encode(ch));
      i++;
    }
    let value: string;
    try {
      value = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
    } catch {
      throw subjectError(`The value of ${type} is not valid UTF-8 (check its \\XX escapes).`);
    }
    rdn.push(dnEntry(type, value.trim()));
    if (end !== '+') {
      rdns.push(rdn);
      rdn = [];
    }
  }
  if (rdn.length) rdns.push(rdn);
  return rdns;
}

/** A subject built from form fields, in RFC 4514 order (CN first, C last). */
export function dnFromFields(fields: Partial<Record<DnAttribute, string>>): ParsedDn {
  const order: DnAttribute[] = ['CN', 'emailAddress', 'serialNumber', 'title', 'GN', 'SN', 'UID', 'OU', 'O', 'STREET', 'L', 'ST', 'C', 'DC'];
  const out: ParsedDn = [];
  for (const t of order) {
    const v = fields[t]?.trim();
    if (v) out.push([dnEntry(t, v)]);
  }
  if (out.length === 0) throw subjectError('The subject is empty; give at least CN.');
  return out;
}

/** RFC 4514 text of a parsed DN (for display, and for the CLI's output). */
export function formatDn(dn: ParsedDn): string {
  const escape = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
  return dn.map((rdn) => rdn.map((e) => `${e.type}=${escape(e.value)}`).join('+')).join(',');
}

export function commonName(dn: ParsedDn): string | undefined {
  return dn.flat().find((e) => e.type === 'CN')?.value;
}

// ---- subjectAltName ---------------------------------------------------------------------------

export type SanType = 'DNS' | 'IP' | 'email' | 'URI';
export interface SanEntry {
  type: SanType;
  value: string;
}

function sanError(message: string): KmsError {
  return new KmsError('InvalidParameter.SubjectAltNames', message);
}

const DNS_NAME = /^(\*\.)?(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(v: string): boolean {
  return IPV4.test(v);
}

/** RFC 4291 textual IPv6 (with an optional embedded IPv4 tail); no zone ids. */
export function isIpv6(v: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(v) || v.includes(':::')) return false;
  const halves = v.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = [...groups(halves[0]!), ...(halves.length === 2 ? groups(halves[1]!) : [])];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

export function sanEntry(type: string, value: string): SanEntry {
  const t = ({ dns: 'DNS', ip: 'IP', email: 'email', uri: 'URI' } as Record<string, SanType>)[type.toLowerCase()];
  if (!t) throw sanError(`Unknown subjectAltName type "${type}"; use DNS:, IP:, email: or URI:.`);
  const v = value.trim();
  if (t === 'DNS' && !DNS_NAME.test(v)) throw sanError(`DNS:${v} is not a host name (letters, digits and hyphens in dot-separated labels; a leading *. for a wildcard).`);
  if (t === 'IP' && !isIpv4(v) && !isIpv6(v)) throw sanError(`IP:${v} is not an IPv4 or IPv6 address.`);
  if (t === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) throw sanError(`email:${v} is not an email address.`);
  if (t === 'URI' && !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(v)) throw sanError(`URI:${v} is not an absolute URI (scheme:...).`);
  if (t !== 'URI' && !IA5.test(v)) throw sanError(`${t}:${v} must be ASCII (an internationalised domain goes in its xn-- form).`);
  return { type: t, value: v };
}

/** `DNS:a.example,IP:192.0.2.1,email:x@example.org,URI:https://example.org/` */
export function parseSubjectAltNames(text: string): SanEntry[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  return parts.map((p) => {
    const colon = p.indexOf(':');
    if (colon < 0) throw sanError(`"${p}" has no type; write DNS:host, IP:address, email:address or URI:uri.`);
    return sanEntry(p.slice(0, colon), p.slice(colon + 1));
  });
}

// ---- keyUsage, extendedKeyUsage, basicConstraints --------------------------------------------

export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

export const EXTENDED_KEY_USAGES = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGES;

function extensionError(message: string): KmsError {
  return new KmsError('InvalidParameter.Extension', message);
}

function list(text: string): string[] {
  return text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseKeyUsage(text: string): KeyUsageName[] {
  return list(text).map((name) => {
    const found = KEY_USAGE_NAMES.find((k) => k.toLowerCase() === name.toLowerCase());
    if (!found) throw extensionError(`Unknown keyUsage "${name}"; use ${KEY_USAGE_NAMES.join(', ')}.`);
    return found;
  });
}

/** Names from the table, or dotted OIDs for purposes it lacks. */
export function parseExtendedKeyUsage(text: string): string[] {
  return list(text).map((name) => {
    const found = (Object.keys(EXTENDED_KEY_USAGES) as ExtendedKeyUsageName[]).find((k) => k.toLowerCase() === name.toLowerCase());
    if (found) return found;
    if (/^[0-2](\.(0|[1-9]\d*)){2,}$/.test(name)) return name;
    throw extensionError(`Unknown extendedKeyUsage "${name}"; use ${Object.keys(EXTENDED_KEY_USAGES).join(', ')} or a dotted OID.`);
  });
}

export interface BasicConstraintsRequest {
  ca: boolean;
  pathLen?: number;
}

/** `CA:true,pathlen:0` or `CA:false`, as OpenSSL writes it. */
export function parseBasicConstraints(text: string): BasicConstraintsRequest {
  let ca: boolean | undefined;
  let pathLen: number | undefined;
  for (const part of list(text)) {
    const [k, v] = part.split(':').map((x) => x.trim().toLowerCase());
    if (k === 'ca' && (v === 'true' || v === 'false')) ca = v === 'true';
    else if (k === 'pathlen' && v !== undefined && /^\d{1,3}$/.test(v)) pathLen = Number(v);
    else throw extensionError(`"${part}" is not a basicConstraints part; write CA:true,pathlen:0 or CA:false.`);
  }
  if (ca === undefined) throw extensionError('basicConstraints needs CA:true or CA:false.');
  if (pathLen !== undefined && !ca) throw extensionError('pathlen only means something with CA:true.');
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

// ---- templates --------------------------------------------------------------------------------

export const CSR_TEMPLATES = ['tls-server', 'code-signing', 'intermediate-ca'] as const;
export type CsrTemplate = (typeof CSR_TEMPLATES)[number];

export interface TemplateDefaults {
  label: string;
  /** keyUsage for RSA keys and for EC/SM2 keys (which cannot encipher keys). */
  keyUsage: { rsa: KeyUsageName[]; ec: KeyUsageName[] };
  extendedKeyUsage: string[];
  basicConstraints?: BasicConstraintsRequest;
  /** The template needs a CN (and, for tls-server, the CN becomes a DNS name when no SAN is given). */
  requiresCn: true;
}

export const CSR_TEMPLATE_DEFAULTS: Readonly<Record<CsrTemplate, TemplateDefaults>> = {
  'tls-server': {
    label: 'TLS server',
    keyUsage: { rsa: ['digitalSignature', 'keyEncipherment'], ec: ['digitalSignature'] },
    extendedKeyUsage: ['serverAuth'],
    requiresCn: true,
  },
  'code-signing': {
    label: 'Code signing',
    keyUsage: { rsa: ['digitalSignature'], ec: ['digitalSignature'] },
    extendedKeyUsage: ['codeSigning'],
    requiresCn: true,
  },
  'intermediate-ca': {
    label: 'Intermediate CA',
    keyUsage: { rsa: ['keyCertSign', 'cRLSign'], ec: ['keyCertSign', 'cRLSign'] },
    extendedKeyUsage: [],
    basicConstraints: { ca: true, pathLen: 0 },
    requiresCn: true,
  },
};
