/**
 * The CSR wizard's state, kept across its steps (and across a visit to the Tokens screen to log
 * in): the key and signature algorithm, the subject, subjectAltNames and requested extensions as
 * the operator types them, the output file, and what was written. Every field is checked with the
 * same pure functions the main process applies (src-shared/domain/csrRequest.ts), so the message
 * under a field is the message GenerateCsr would give. Only public things are ever here: KeyIds,
 * names, fingerprints, the request itself. Everything is forgotten when the keystore locks.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { call, type Input, type Output } from '../../client/keyroom';
import { KmsError } from '../../../../src-shared/errors';
import { KEY_SPEC_INFO, isAsymmetric, type KeySpec, type SigningAlgorithm } from '../../../../src-shared/domain/keySpecs';
import {
  CSR_TEMPLATE_DEFAULTS,
  EXTENDED_KEY_USAGES,
  KEY_USAGE_NAMES,
  commonName,
  dnEntry,
  dnFromFields,
  formatDn,
  parseBasicConstraints,
  parseDn,
  parseExtendedKeyUsage,
  parseKeyUsage,
  sanEntry,
  type CsrTemplate,
  type DnAttribute,
  type ExtendedKeyUsageName,
  type KeyUsageName,
  type ParsedDn,
  type SanType,
} from '../../../../src-shared/domain/csrRequest';
import { useKeysStore, type KeyListEntry } from '../../stores/keys';
import { useKeystoreStore } from '../../stores/keystore';
import { fileStem } from '../../views/keys/keyFormat';

export const CSR_STEPS = [
  { key: 'key', title: 'Key' },
  { key: 'subject', title: 'Subject and extensions' },
  { key: 'review', title: 'Review', kind: 'review' },
  { key: 'result', title: 'Result', kind: 'result' },
] as const;

/** The specs a request can be made for, in the order the create form offers them. */
export const CSR_KEY_SPECS: readonly KeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K', 'EC_P384', 'EC_SM2'];

/** The subject fields the form offers, in the order it shows them. */
export const SUBJECT_FIELDS = ['CN', 'O', 'OU', 'L', 'ST', 'C', 'emailAddress', 'serialNumber'] as const satisfies readonly DnAttribute[];
export type SubjectField = (typeof SUBJECT_FIELDS)[number];

export const SAN_TYPES: readonly SanType[] = ['DNS', 'IP', 'email', 'URI'];

/** basicConstraints: left out, an end entity (CA:false), or a CA (CA:true, optional pathlen). */
export type BasicConstraintsMode = 'none' | 'endEntity' | 'ca';

export interface SanRow {
  id: number;
  type: SanType;
  value: string;
}

/** What each signature algorithm is called in a certificate, and when to choose it. */
export const ALGORITHM_WORDS: Readonly<Record<SigningAlgorithm, string>> = {
  RSA_PKCS1_SHA_256: 'sha256WithRSAEncryption (PKCS #1 v1.5): accepted by every CA',
  RSA_PSS_SHA_256: 'RSASSA-PSS with SHA-256, salt 32: only where the CA accepts PSS',
  ECDSA_SHA_256: 'ecdsa-with-SHA256',
  ECDSA_SHA_384: 'ecdsa-with-SHA384',
  SM2DSA: 'SM2-with-SM3 (GB/T 32918, default ID 1234567812345678)',
  ED25519: 'Ed25519 (RFC 8410): where the CA accepts it',
};

/** What GenerateCsr signs with when no algorithm is named: PKCS #1 v1.5 for RSA (what CAs take). */
export function defaultCsrAlgorithm(spec: KeySpec): SigningAlgorithm {
  const info = KEY_SPEC_INFO[spec];
  return info.family === 'RSA' ? 'RSA_PKCS1_SHA_256' : info.signingAlgorithms[0]!;
}

/** The algorithms a spec may sign a request with, its default first. */
export function csrAlgorithms(spec: KeySpec): SigningAlgorithm[] {
  const first = defaultCsrAlgorithm(spec);
  return [first, ...KEY_SPEC_INFO[spec].signingAlgorithms.filter((a) => a !== first)];
}

/** Whether a key can sign a request now: asymmetric, SIGN/VERIFY, Enabled. */
export function canSignCsr(entry: KeyListEntry): boolean {
  const m = entry.metadata;
  return isAsymmetric(m.KeySpec) && m.KeyUsage === 'SIGN/VERIFY' && m.KeyState === 'Enabled';
}

/** The KmsError's message (what the main process would say), or the thrown thing as text. */
function messageOf(e: unknown): string {
  return e instanceof KmsError ? e.message : e instanceof Error ? e.message : String(e);
}

/** `fn`'s answer, or the message it threw. */
function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, message: messageOf(e) };
  }
}

const emptyFields = (): Record<SubjectField, string> => ({ CN: '', O: '', OU: '', L: '', ST: '', C: '', emailAddress: '', serialNumber: '' });

export const useCsrStore = defineStore('csr', () => {
  const keys = useKeysStore();
  const keystore = useKeystoreStore();
  const step = ref(0);

  // ---- step 1: the key and the algorithm ----
  const keySource = ref<'existing' | 'new'>('existing');
  const keyId = ref('');
  /** The keys a request can be made for, newest first. */
  const candidates = computed(() =>
    keys.list.filter(canSignCsr).sort((a, b) => b.metadata.CreationDate.localeCompare(a.metadata.CreationDate) || a.metadata.KeyId.localeCompare(b.metadata.KeyId)),
  );
  const key = computed<KeyListEntry | undefined>(() => candidates.value.find((c) => c.metadata.KeyId === keyId.value));
  const spec = computed<KeySpec | undefined>(() => key.value?.metadata.KeySpec);
  const isRsa = computed(() => spec.value !== undefined && KEY_SPEC_INFO[spec.value].family === 'RSA');
  const algorithmChoices = computed<SigningAlgorithm[]>(() => (spec.value ? csrAlgorithms(spec.value) : []));
  const algorithm = ref<SigningAlgorithm | ''>('');
  /** A key made in step 1, to say so once it is chosen. */
  const createdKeyId = ref('');

  // A key of another spec takes that spec's default algorithm.
  watch(spec, (s, old) => {
    if (!s) algorithm.value = '';
    else if (s !== old || !algorithmChoices.value.includes(algorithm.value as SigningAlgorithm)) algorithm.value = defaultCsrAlgorithm(s);
  });

  async function loadKeys(): Promise<void> {
    await keys.loadList();
    if (keyId.value && !key.value) keyId.value = '';
  }

  const keyReady = computed(() => keySource.value === 'existing' && key.value !== undefined && algorithm.value !== '' && algorithmChoices.value.includes(algorithm.value));

  // ---- step 2: subject, subjectAltNames, extensions ----
  const template = ref<CsrTemplate | ''>('');
  const rawSubjectMode = ref(false);
  const fields = ref<Record<SubjectField, string>>(emptyFields());
  const rawSubject = ref('');
  let nextSanId = 1;
  const sans = ref<SanRow[]>([]);
  const keyUsage = ref<KeyUsageName[]>([]);
  const extendedKeyUsage = ref<ExtendedKeyUsageName[]>([]);
  const bcMode = ref<BasicConstraintsMode>('none');
  const pathLen = ref('');

  const templateDefaults = computed(() => (template.value ? CSR_TEMPLATE_DEFAULTS[template.value] : undefined));

  /** Fill key usage, extended key usage and basicConstraints from the template; the operator may change them after. */
  function applyTemplate(t: CsrTemplate | ''): void {
    if (!t) return;
    const d = CSR_TEMPLATE_DEFAULTS[t];
    keyUsage.value = [...(isRsa.value ? d.keyUsage.rsa : d.keyUsage.ec)];
    extendedKeyUsage.value = d.extendedKeyUsage.filter((e): e is ExtendedKeyUsageName => e in EXTENDED_KEY_USAGES);
    if (d.basicConstraints) {
      bcMode.value = d.basicConstraints.ca ? 'ca' : 'endEntity';
      pathLen.value = d.basicConstraints.pathLen === undefined ? '' : String(d.basicConstraints.pathLen);
    } else {
      bcMode.value = 'none';
      pathLen.value = '';
    }
  }
  watch(template, applyTemplate);
  // An EC or SM2 key cannot encipher: a key chosen after the template drops what it cannot ask for,
  // and an RSA key chosen after a TLS template gets keyEncipherment back.
  watch(isRsa, (rsa) => {
    const d = templateDefaults.value;
    if (!rsa) keyUsage.value = keyUsage.value.filter((k) => k !== 'keyEncipherment' && k !== 'dataEncipherment');
    else if (d) keyUsage.value = [...new Set([...keyUsage.value, ...d.keyUsage.rsa.filter((k) => !d.keyUsage.ec.includes(k))])];
  });

  function addSan(type: SanType = 'DNS'): void {
    sans.value = [...sans.value, { id: nextSanId++, type, value: '' }];
  }
  function removeSan(id: number): void {
    sans.value = sans.value.filter((s) => s.id !== id);
  }

  /** Nothing typed yet: a hint, not an error, until the operator starts. */
  const subjectEmpty = computed(() =>
    rawSubjectMode.value ? rawSubject.value.trim() === '' : SUBJECT_FIELDS.every((f) => fields.value[f].trim() === ''),
  );

  /** The message under each subject field, if its value is refused. */
  const fieldErrors = computed<Partial<Record<SubjectField, string>>>(() => {
    const out: Partial<Record<SubjectField, string>> = {};
    for (const f of SUBJECT_FIELDS) {
      const v = fields.value[f].trim();
      if (!v) continue;
      const r = attempt(() => dnEntry(f, v));
      if (!r.ok) out[f] = r.message;
    }
    const d = templateDefaults.value;
    if (!out.CN && d?.requiresCn && fields.value.CN.trim() === '' && !subjectEmpty.value) out.CN = `The ${d.label} template needs a CN in the subject.`;
    return out;
  });

  /** The subject as parsed, or the message for the whole subject (empty, malformed raw text). */
  const parsedSubject = computed<{ ok: true; value: ParsedDn } | { ok: false; message: string }>(() => {
    if (rawSubjectMode.value) {
      const r = attempt(() => parseDn(rawSubject.value));
      if (!r.ok) return r;
      const d = templateDefaults.value;
      if (d?.requiresCn && !commonName(r.value)) return { ok: false, message: `The ${d.label} template needs a CN in the subject.` };
      return r;
    }
    const own = Object.values(fieldErrors.value)[0];
    if (own) return { ok: false, message: own };
    const picked: Partial<Record<DnAttribute, string>> = {};
    for (const f of SUBJECT_FIELDS) if (fields.value[f].trim()) picked[f] = fields.value[f];
    return attempt(() => dnFromFields(picked));
  });
  /** A subject-wide message: shown above the fields when no single field carries it. */
  const subjectError = computed(() => {
    const p = parsedSubject.value;
    if (p.ok || subjectEmpty.value) return null;
    if (!rawSubjectMode.value && Object.keys(fieldErrors.value).length > 0) return null;
    return p.message;
  });
  const subjectText = computed(() => (parsedSubject.value.ok ? formatDn(parsedSubject.value.value) : ''));

  /** Type the subject as text: start from what the fields make. */
  function useRawSubject(on: boolean): void {
    if (on && subjectText.value && rawSubject.value.trim() === '') rawSubject.value = subjectText.value;
    if (!on) {
      // Back to fields: take the text over when every attribute has a field of its own.
      const r = attempt(() => parseDn(rawSubject.value));
      if (r.ok && r.value.every((rdn) => rdn.length === 1 && (SUBJECT_FIELDS as readonly string[]).includes(rdn[0]!.type))) {
        const next = emptyFields();
        const seen = new Set<string>();
        let fits = true;
        for (const rdn of r.value) {
          const e = rdn[0]!;
          if (seen.has(e.type)) fits = false;
          seen.add(e.type);
          next[e.type as SubjectField] = e.value;
        }
        if (fits) fields.value = next;
      }
    }
    rawSubjectMode.value = on;
  }

  /** The message under each SAN row (by row id); empty rows are left out of the request. */
  const sanErrors = computed<Record<number, string>>(() => {
    const out: Record<number, string> = {};
    for (const row of sans.value) {
      const v = row.value.trim();
      if (!v) continue;
      // GenerateCsr takes the list as one comma-separated string.
      if (v.includes(',')) {
        out[row.id] = `${row.type}:${v} contains a comma, which separates subjectAltName entries; give each name its own row.`;
        continue;
      }
      const r = attempt(() => sanEntry(row.type, v));
      if (!r.ok) out[row.id] = r.message;
    }
    return out;
  });
  const sanList = computed(() => sans.value.filter((s) => s.value.trim() !== '').map((s) => `${s.type}:${s.value.trim()}`));
  /** tls-server with no SAN: GenerateCsr puts the CN in as a DNS name (RFC 6125). */
  const cnAsDnsName = computed<{ ok: true; value: string } | { ok: false; message: string } | null>(() => {
    if (template.value !== 'tls-server' || sanList.value.length > 0 || !parsedSubject.value.ok) return null;
    const cn = commonName(parsedSubject.value.value);
    if (!cn) return null;
    const r = attempt(() => sanEntry('DNS', cn));
    return r.ok ? { ok: true, value: `DNS:${r.value.value}` } : { ok: false, message: `${r.message} The TLS server template uses the CN as a DNS name when no subjectAltName is given: add one.` };
  });
  const sanListError = computed(() => (cnAsDnsName.value && !cnAsDnsName.value.ok ? cnAsDnsName.value.message : null));
  /** The SANs the request will carry, as the review and result show them. */
  const effectiveSans = computed(() => (cnAsDnsName.value?.ok ? [cnAsDnsName.value.value] : sanList.value));

  const keyUsageText = computed(() => KEY_USAGE_NAMES.filter((k) => keyUsage.value.includes(k)).join(','));
  const extendedKeyUsageText = computed(() =>
    (Object.keys(EXTENDED_KEY_USAGES) as ExtendedKeyUsageName[]).filter((k) => extendedKeyUsage.value.includes(k)).join(','),
  );
  const basicConstraintsText = computed(() => {
    if (bcMode.value === 'none') return '';
    if (bcMode.value === 'endEntity') return 'CA:false';
    return pathLen.value.trim() === '' ? 'CA:true' : `CA:true,pathlen:${pathLen.value.trim()}`;
  });
  const keyUsageError = computed(() => {
    const r = attempt(() => parseKeyUsage(keyUsageText.value));
    if (!r.ok) return r.message;
    if (spec.value && !isRsa.value && r.value.some((k) => k === 'keyEncipherment' || k === 'dataEncipherment')) {
      return `A ${spec.value} key cannot encipher: keyEncipherment and dataEncipherment are for RSA keys.`;
    }
    return null;
  });
  const extendedKeyUsageError = computed(() => {
    const r = attempt(() => parseExtendedKeyUsage(extendedKeyUsageText.value));
    return r.ok ? null : r.message;
  });
  const basicConstraintsError = computed(() => {
    if (!basicConstraintsText.value) return null;
    const r = attempt(() => parseBasicConstraints(basicConstraintsText.value));
    return r.ok ? null : r.message;
  });

  const subjectReady = computed(
    () =>
      parsedSubject.value.ok &&
      Object.keys(sanErrors.value).length === 0 &&
      sanListError.value === null &&
      keyUsageError.value === null &&
      extendedKeyUsageError.value === null &&
      basicConstraintsError.value === null,
  );

  /** Why Next is not available on the subject step, in one line; null when it is. */
  const subjectBlocker = computed(() => {
    if (subjectReady.value) return null;
    if (subjectEmpty.value) return templateDefaults.value ? 'Give the subject, with at least a CN, to go on.' : 'Give the subject (at least a CN) to go on.';
    const count =
      (rawSubjectMode.value ? (subjectError.value ? 1 : 0) : Object.keys(fieldErrors.value).length + (subjectError.value ? 1 : 0)) +
      Object.keys(sanErrors.value).length +
      [sanListError.value, keyUsageError.value, extendedKeyUsageError.value, basicConstraintsError.value].filter((e) => e !== null).length;
    return count === 1 ? 'Fix the entry marked in red above to go on.' : `Fix the ${count} entries marked in red above to go on.`;
  });

  /** GenerateCsr's input, from the checked fields (OutputFile and Encoding from the review). */
  const request = computed<Omit<Input<'GenerateCsr'>, 'OutputFile' | 'Encoding'> | null>(() => {
    if (!keyReady.value || !subjectReady.value || !key.value || !algorithm.value) return null;
    const t = template.value;
    // A template's basicConstraints apply unless the request names its own; "leave it out" drops the
    // template then (its CN rule is checked above all the same).
    const sendTemplate = t !== '' && !(bcMode.value === 'none' && CSR_TEMPLATE_DEFAULTS[t].basicConstraints);
    return {
      KeyId: key.value.metadata.KeyId,
      Algorithm: algorithm.value,
      Subject: subjectText.value,
      ...(sanList.value.length ? { SubjectAltNames: sanList.value.join(',') } : {}),
      ...(keyUsageText.value || t ? { KeyUsage: keyUsageText.value } : {}),
      ...(extendedKeyUsageText.value || t ? { ExtendedKeyUsage: extendedKeyUsageText.value } : {}),
      ...(basicConstraintsText.value ? { BasicConstraints: basicConstraintsText.value } : {}),
      ...(sendTemplate ? { Template: t } : {}),
    };
  });

  // ---- step 3: the file ----
  const encoding = ref<'PEM' | 'DER'>('PEM');
  const outputFile = ref('');
  /** Typed by the operator: then it is theirs, and no longer follows the CN or the encoding. */
  const outputEdited = ref(false);
  const suggestedFile = computed(() => {
    const cn = parsedSubject.value.ok ? commonName(parsedSubject.value.value) : undefined;
    const fromCn = (cn ?? '').toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
    const stem = fromCn || (key.value ? fileStem(key.value.metadata.KeyId, key.value.aliases) : 'request');
    return `${keystore.folder}/${stem}.csr${encoding.value === 'DER' ? '.der' : '.pem'}`;
  });
  watch([suggestedFile, step], () => {
    if (!outputEdited.value) outputFile.value = suggestedFile.value;
  });
  function editOutputFile(path: string): void {
    outputFile.value = path;
    outputEdited.value = true;
  }

  const canAdvance = computed(() => {
    switch (CSR_STEPS[step.value]?.key) {
      case 'key':
        return keyReady.value;
      case 'subject':
        return subjectReady.value;
      default:
        return false;
    }
  });

  // ---- step 4: what was written ----
  const result = ref<Output<'GenerateCsr'> | null>(null);

  async function generate(): Promise<void> {
    const input = request.value;
    const file = outputFile.value.trim();
    if (!input || !file) throw new KmsError('MissingParameter', 'Complete the key, the subject and the output file first.');
    result.value = await call('GenerateCsr', { ...input, OutputFile: file, Encoding: encoding.value });
  }

  function reset(): void {
    step.value = 0;
    keySource.value = 'existing';
    keyId.value = '';
    algorithm.value = '';
    createdKeyId.value = '';
    template.value = '';
    rawSubjectMode.value = false;
    fields.value = emptyFields();
    rawSubject.value = '';
    sans.value = [];
    keyUsage.value = [];
    extendedKeyUsage.value = [];
    bcMode.value = 'none';
    pathLen.value = '';
    encoding.value = 'PEM';
    outputEdited.value = false;
    outputFile.value = '';
    result.value = null;
  }
  keystore.onLocked(reset);

  return {
    step,
    keySource,
    keyId,
    candidates,
    key,
    spec,
    isRsa,
    algorithm,
    algorithmChoices,
    createdKeyId,
    loadKeys,
    keyReady,
    template,
    templateDefaults,
    rawSubjectMode,
    fields,
    rawSubject,
    sans,
    keyUsage,
    extendedKeyUsage,
    bcMode,
    pathLen,
    addSan,
    removeSan,
    useRawSubject,
    fieldErrors,
    subjectError,
    subjectText,
    sanErrors,
    sanListError,
    effectiveSans,
    cnAsDnsName,
    keyUsageText,
    extendedKeyUsageText,
    basicConstraintsText,
    keyUsageError,
    extendedKeyUsageError,
    basicConstraintsError,
    subjectReady,
    subjectEmpty,
    subjectBlocker,
    request,
    encoding,
    outputFile,
    outputEdited,
    suggestedFile,
    editOutputFile,
    canAdvance,
    result,
    generate,
    reset,
  };
});
