/**
 * The ceremony plan linter: each kind of problem, placed on its exact line and column, and the
 * JSON Schema in the repository checked against the definition it is generated from and, with
 * a real validator (ajv), against the example plan.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { formatProblems, lintPlan, type PlanLint } from '../../../src-shared/ceremony/plan/lintPlan';
import { PLAN_OPERATION_USE, PLAN_OPERATIONS, secretParameter } from '../../../src-shared/ceremony/plan/planOperations';
import { parseTemplate, resolveParameters, resolveTemplate } from '../../../src-shared/ceremony/plan/references';
import { ANSWER_SAMPLES, planAnswerView } from '../../../src-shared/ceremony/plan/answerSamples';
import { OPERATION_NAMES, OPERATIONS } from '../../../src-shared/contract/operations';
import { PLAN_SCHEMA_FILE, renderPlanSchema } from '../../../scripts/planSchema/render';

const EXAMPLE = fileURLToPath(new URL('../../../examples/ceremonies/release-signing.yaml', import.meta.url));

/** A valid plan to start from; each test changes one thing. Line numbers below refer to it. */
const BASE = `ceremony:
  id: test-ceremony
  title: Test ceremony
  timezone: Europe/Berlin
roles:
  operator: { min: 1, max: 1 }
  witness: { min: 2, max: 3 }
steps:
  - id: seal
    title: Read the bag serial
    performer: operator
    witnesses: 2
    action: confirm
    record:
      bagSerial: { pattern: "^[A-Z]{2}[0-9]{6}$" }
  - id: make-key
    title: Make the key
    performer: operator
    witnesses: 2
    minutes: 5
    action: operation
    operation: CreateKey
    parameters: { KeySpec: EC_P256, KeyUsage: SIGN/VERIFY }
  - id: csr
    title: Write the request
    performer: operator
    action: operation
    operation: GenerateCsr
    parameters:
      KeyId: \${make-key.KeyId}
      Subject: CN=Test
      OutputFile: \${output}/test.csr
`;

function lint(text: string): PlanLint {
  return lintPlan(new TextEncoder().encode(text));
}

/** The problems of a plan as `line:column: message` lines. */
function problems(text: string): string[] {
  const result = lint(text);
  assert.equal(result.ok, false, 'the plan should have problems');
  if (result.ok) return [];
  return formatProblems('p', result.problems)
    .split('\n')
    .map((l) => l.slice('p:'.length));
}

/** Replace the one occurrence of `from` in BASE. */
function edit(from: string, to: string): string {
  assert.equal(BASE.split(from).length, 2, `"${from}" occurs once in BASE`);
  return BASE.replace(from, to);
}

describe('ceremony plans: a valid plan', () => {
  it('lints clean, with its steps, roles, time and the SHA-256 of its exact bytes', () => {
    const result = lint(BASE);
    assert.ok(result.ok, result.ok ? '' : formatProblems('p', result.problems));
    const sha = createHash('sha256').update(BASE).digest('hex');
    assert.equal(result.hash.Sha256, sha);
    assert.equal(result.hash.Sha256Groups.replaceAll(' ', '').toLowerCase(), sha);
    assert.equal(result.hash.Sha256Words.length, 32);
    assert.deepEqual(
      result.summary.Steps.map((s) => [s.Id, s.Action, s.Operation ?? '-', s.Witnesses]),
      [['seal', 'confirm', '-', 2], ['make-key', 'operation', 'CreateKey', 2], ['csr', 'operation', 'GenerateCsr', 0]],
    );
    assert.deepEqual(result.summary.Roles, [{ Name: 'operator', Min: 1, Max: 1 }, { Name: 'witness', Min: 2, Max: 3 }]);
    assert.equal(result.summary.TotalMinutes, 5);
    assert.deepEqual(result.summary.StepsWithoutEstimate, ['seal', 'csr']);
  });

  it('one byte more (a trailing space) is another plan: another hash', () => {
    const a = lint(BASE);
    const b = lint(`${BASE} `);
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.hash.Sha256, b.hash.Sha256);
  });

  it("the repository's example (the spec's release-signing plan) lints clean", () => {
    const result = lintPlan(readFileSync(EXAMPLE));
    assert.ok(result.ok, result.ok ? '' : formatProblems(EXAMPLE, result.problems));
    assert.deepEqual(result.summary.Steps.map((s) => s.Id), ['selftest', 'seal', 'make-key', 'public-key', 'csr']);
  });

  it('warns, without refusing, when the estimates exceed expectedMinutes', () => {
    const result = lint(edit('  timezone: Europe/Berlin\n', '  timezone: Europe/Berlin\n  expectedMinutes: 4\n'));
    assert.ok(result.ok);
    assert.match(result.summary.Warnings.join(), /5 minutes, more than the 4 expected/);
  });
});

describe('ceremony plans: each problem on its line and column', () => {
  it('an unknown key, named on the key itself', () => {
    assert.deepEqual(problems(edit('  timezone: Europe/Berlin\n', '  timezone: Europe/Berlin\n  colour: red\n')), ['5:3: unknown key "colour" in ceremony']);
    // In a step, and at the top level.
    assert.deepEqual(problems(edit('    minutes: 5\n', '    minutes: 5\n    minuets: 5\n')), ['21:5: unknown key "minuets" in steps.1']);
    assert.deepEqual(problems(`${BASE}extra: 1\n`), ['33:1: unknown key "extra" in the plan']);
  });

  it('a duplicate key, on its second occurrence', () => {
    assert.deepEqual(problems(edit('  witness: { min: 2, max: 3 }\n', '  witness: { min: 2, max: 3 }\n  operator: { min: 1 }\n')), [
      '8:3: duplicate key: each key appears once in its map',
    ]);
  });

  it('a wrong type, on the value', () => {
    assert.deepEqual(problems(edit('    witnesses: 2\n    minutes: 5', '    witnesses: two\n    minutes: 5')), ['19:16: steps.1.witnesses: Invalid input: expected number, received string']);
  });

  it('a missing field, on the map that lacks it', () => {
    assert.deepEqual(problems(edit('    title: Write the request\n', '')), ['24:5: steps.2.title is required']);
  });

  it('an unknown operation, and one a plan may not call, with the reason', () => {
    assert.deepEqual(problems(edit('operation: GenerateCsr', 'operation: GenerateCSR')), ['28:16: steps.2.operation: GenerateCSR is not a Keyroom operation']);
    const [line] = problems(edit('operation: GenerateCsr', 'operation: LockKeystore'));
    assert.match(line!, /^28:16: steps\.2\.operation: LockKeystore cannot be a plan step: it is a session verb/);
  });

  it('an unknown action, and shares (not available yet)', () => {
    assert.deepEqual(problems(edit('    action: confirm\n', '    action: sign\n')), ['13:13: steps.0.action: unknown action "sign": one of operation, confirm, compare, selftest, handover, break']);
    assert.deepEqual(problems(edit('    action: confirm\n', '    action: shares\n')), ['13:13: steps.0.action: the shares action arrives with recovery shares and is not available yet']);
  });

  it('a bad parameter: unknown to the operation, a wrong value, a missing one', () => {
    assert.deepEqual(problems(edit('KeyUsage: SIGN/VERIFY }', 'KeyUsage: SIGN/VERIFY, Colour: red }')), ['23:60: step make-key: Colour is not a parameter of CreateKey']);
    assert.deepEqual(problems(edit('KeyUsage: SIGN/VERIFY }', 'KeyUsage: SIGN }')), [
      '23:47: step make-key, parameter KeyUsage: Invalid option: expected one of "ENCRYPT/DECRYPT"|"SIGN/VERIFY"|"GENERATE/VERIFY_MAC"',
    ]);
    assert.deepEqual(problems(edit('      Subject: CN=Test\n', '')), ['30:7: step csr: GenerateCsr needs the parameter Subject']);
  });

  it('a reference to a later step, to its own step, to an unknown step, to a field the answer cannot have', () => {
    const later = problems(edit('{ KeySpec: EC_P256,', '{ Description: "${csr.Subject}", KeySpec: EC_P256,'));
    assert.deepEqual(later, ['23:32: step make-key, parameter Description: ${csr.Subject} refers to step "csr", which comes later (step 3); a step can use only the answers of steps before it']);
    assert.deepEqual(problems(edit('KeyId: ${make-key.KeyId}', 'KeyId: ${csr.KeyId}')), [
      '30:14: step csr, parameter KeyId: ${csr.KeyId} refers to its own step; a step can use only the answers of steps before it',
    ]);
    assert.deepEqual(problems(edit('KeyId: ${make-key.KeyId}', 'KeyId: ${make-kee.KeyId}')), ['30:14: step csr, parameter KeyId: ${make-kee.KeyId} refers to step "make-kee", which the plan does not have']);
    const [field] = problems(edit('KeyId: ${make-key.KeyId}', 'KeyId: ${make-key.KeyID}'));
    assert.match(field!, /^30:14: step csr, parameter KeyId: \$\{make-key\.KeyID\} refers to KeyID, which step "make-key"'s answer cannot have \(it has .*KeyId.*\)$/);
  });

  it('references reach KeyMetadata fields, a new key version and its public key fingerprint, and recorded values', () => {
    const text = `${BASE}  - id: compare
    title: Read the fingerprint aloud
    performer: operator
    action: compare
    value: \${make-key.PublicKeyFingerprint}
  - id: export
    title: Write the public key
    performer: operator
    action: operation
    operation: ExportPublicKey
    parameters: { KeyId: "\${make-key.KeyMetadata.KeyId}", KeyVersionId: "\${make-key.KeyVersionId}", OutputFile: "\${output}/\${seal.bagSerial}.pem" }
transcript:
  signWith: \${make-key.KeyId}
`;
    const result = lint(text);
    assert.ok(result.ok, result.ok ? '' : formatProblems('p', result.problems));
  });

  it('the transcript is signed by a key that can sign', () => {
    assert.deepEqual(problems(`${edit('KeySpec: EC_P256, KeyUsage: SIGN/VERIFY', 'KeySpec: RSA_2048, KeyUsage: ENCRYPT/DECRYPT')}transcript:\n  signWith: \${make-key.KeyId}\n`), [
      '34:13: transcript.signWith: step make-key creates a key for ENCRYPT/DECRYPT, which cannot sign the transcript; give it KeyUsage SIGN/VERIFY',
    ]);
    assert.deepEqual(problems(`${BASE}transcript:\n  signWith: \${seal.bagSerial}\n`), ['34:13: transcript.signWith: a reference here names a key on its own: ${step.KeyId}']);
    assert.ok(lint(`${BASE}transcript:\n  signWith: alias/transcripts\n`).ok);
  });

  it('an operation without a typed answer accepts any path; a step without an answer accepts none', () => {
    const text = `${BASE}  - id: list
    title: List the keys
    performer: operator
    action: operation
    operation: ListKeys
  - id: check
    title: Self-test
    performer: operator
    action: selftest
  - id: describe
    title: Describe the first key
    performer: operator
    action: operation
    operation: DescribeKey
    parameters: { KeyId: "\${list.Keys.Key.0.KeyId}" }
  - id: compare
    title: Compare
    performer: operator
    action: compare
    value: \${check.Verdict}
`;
    assert.deepEqual(problems(text), ['52:12: step compare, value: ${check.Verdict} refers to step "check", a selftest step, which has no answer to refer to']);
  });

  it('a symmetric key has no public key fingerprint to compare', () => {
    const text = `${edit('KeySpec: EC_P256, KeyUsage: SIGN/VERIFY', 'KeySpec: AES_256')}  - id: compare
    title: Read the fingerprint aloud
    performer: operator
    action: compare
    value: \${make-key.PublicKeyFingerprint}
`;
    assert.deepEqual(problems(text), [
      '37:12: step compare, value: ${make-key.PublicKeyFingerprint} refers to the public key fingerprint of step "make-key", which creates a symmetric key (KeySpec AES_256) and so has no public key',
    ]);
  });

  it("a reference's sample must pass the parameter's own check", () => {
    assert.deepEqual(problems(edit('      Subject: CN=Test\n', '      Subject: CN=Test\n      KeyVersionId: ${make-key.Description}\n')), [
      '32:21: step csr, parameter KeyVersionId: a KeyVersionId is a UUID (checked with a sample of the value the reference stands for)',
    ]);
  });

  it('a malformed reference', () => {
    assert.deepEqual(problems(edit('KeyId: ${make-key.KeyId}', 'KeyId: ${make-key.KeyId')), ['30:14: step csr, parameter KeyId: "${make-key.KeyId" opens a reference without closing it with }']);
    assert.deepEqual(problems(edit('KeyId: ${make-key.KeyId}', 'KeyId: ${make-key}')), ['30:14: step csr, parameter KeyId: ${make-key}: name a field of step make-key\'s answer: ${make-key.Field}']);
  });

  it('a secret parameter: from the contract\'s secrets, by its name, and a private key pasted anywhere', () => {
    assert.deepEqual(problems(edit('KeyUsage: SIGN/VERIFY }', 'KeyUsage: SIGN/VERIFY, Passphrase: correct-horse }')), [
      '23:60: step make-key: Passphrase names a secret (Passphrase); a plan never holds a passphrase, PIN, plaintext or key material',
    ]);
    assert.deepEqual(problems(edit('      Subject: CN=Test\n', '      Subject: CN=Test\n      PinFile: /run/pin\n')), [
      '32:7: step csr: PinFile names a secret (Pin); a plan never holds a passphrase, PIN, plaintext or key material',
    ]);
    assert.deepEqual(problems(edit('    title: Make the key\n', '    title: Make the key\n    notes: "-----BEGIN EC PRIVATE KEY----- MHcCAQEE"\n')), [
      '18:12: this text holds a private key; a plan never holds key material',
    ]);
  });

  it('an undeclared role, and more witnesses than the roles allow', () => {
    assert.deepEqual(problems(edit('    performer: operator\n    action: operation\n    operation: GenerateCsr', '    performer: auditor\n    action: operation\n    operation: GenerateCsr')), [
      '26:16: step csr: performer "auditor" is not a declared role (operator, witness)',
    ]);
    assert.deepEqual(problems(edit('    witnesses: 2\n    action: confirm', '    witnesses: 4\n    action: confirm')), [
      "12:16: step seal: needs 4 witnesses besides the performer, but the roles' max allow 4 participants in all, so at most 3 can witness",
    ]);
  });

  it('a bad time zone', () => {
    assert.deepEqual(problems(edit('Europe/Berlin', 'Europe/Berlín')), ['4:13: ceremony.timezone: "Europe/Berlín" is not an IANA time zone (such as Asia/Shanghai, Europe/Berlin or UTC)']);
  });

  it('a pattern that is not a regular expression', () => {
    assert.deepEqual(problems(edit('"^[A-Z]{2}[0-9]{6}$"', '"^([A-Z]{2}[0-9]{6}$"')), [
      '15:29: step seal: the pattern of bagSerial is not a valid regular expression (Invalid regular expression: /^([A-Z]{2}[0-9]{6}$/u: Unterminated group)',
    ]);
  });

  it('a step id used twice', () => {
    assert.deepEqual(problems(edit('  - id: csr\n', '  - id: seal\n')), ['24:9: step seal: step id "seal" is already used by step 1 (9:9)']);
  });

  it('YAML syntax errors, anchors and several documents', () => {
    assert.deepEqual(problems(edit('  operator: { min: 1, max: 1 }', '  operator: { min: 1, max: 1')), ['7:3: Flow map in block collection must be sufficiently indented and end with a }']);
    assert.deepEqual(problems(edit('    title: Make the key\n', '\ttitle: Make the key\n')).slice(0, 1), ['17:1: Tabs are not allowed as indentation']);
    assert.deepEqual(problems(edit('    title: Make the key\n', '    title: &t Make the key\n')), ['17:12: anchors and aliases (&name, *name) are not used in plans: write each value where it belongs']);
    assert.deepEqual(problems(`${BASE}---\nceremony: {}\n`), ['33:1: a plan is one YAML document: remove the --- and what follows, or make it a plan of its own']);
    assert.deepEqual(problems(edit('    title: Make the key\n', '    title: !!binary aGVsbG8=\n')), ['17:12: tags (!!binary) are not used in plans: write plain text, numbers, true/false, lists and maps']);
    assert.deepEqual(problems(edit('    title: Write the request\n', '    title: *t\n')).slice(-1), ['25:12: anchors and aliases (&name, *name) are not used in plans: write each value where it belongs']);
    assert.deepEqual(problems('# nothing yet\n'), ['1:1: the plan is empty: it needs the sections ceremony, roles and steps']);
    assert.deepEqual(lintPlan(new Uint8Array([0x63, 0xff, 0x3a])).ok, false);
  });

  it('reports the schema\'s problems and the checks of the well-formed parts in one run', () => {
    const text = edit('  timezone: Europe/Berlin\n', '  timezone: Europe/Berlín\n  colour: red\n').replace('KeyId: ${make-key.KeyId}', 'KeyId: ${make-key.KeyID}').replace('    title: Read the bag serial\n', '');
    assert.deepEqual(problems(text).map((l) => l.split(': ').slice(0, 2).join(': ')), [
      '4:13: ceremony.timezone',
      '5:3: unknown key "colour" in ceremony',
      '10:5: steps.0.title is required',
      '30:14: step csr, parameter KeyId',
    ]);
  });

  it('lists every problem, sorted by line and column', () => {
    const text = edit('Europe/Berlin', 'Nowhere/Town').replace('performer: operator\n    action: operation\n    operation: GenerateCsr', 'performer: auditor\n    action: operation\n    operation: GenerateCsr');
    assert.deepEqual(
      problems(text).map((l) => l.split(': ')[0]),
      ['4:13', '26:16'],
    );
  });
});

describe('ceremony plans: operations, secrets and references as data', () => {
  it('decides every operation, and every refusal has its reason', () => {
    assert.deepEqual(Object.keys(PLAN_OPERATION_USE).sort(), [...OPERATION_NAMES].sort());
    for (const [name, use] of Object.entries(PLAN_OPERATION_USE)) if (!use.inPlans) assert.ok(use.reason.length > 20, name);
    for (const name of ['UnlockKeystore', 'LockKeystore', 'ReportActivity', 'LoginToken', 'Encrypt', 'Decrypt', 'GenerateDataKey']) assert.ok(!PLAN_OPERATIONS.includes(name as never), name);
    for (const name of ['CreateKey', 'CreateAlias', 'GenerateCsr', 'SignFile', 'ExportPublicKey', 'WrapKeyMaterial', 'RotateAlias']) assert.ok(PLAN_OPERATIONS.includes(name as never), name);
  });

  it('no operation a plan may call takes a secret the plan would have to hold', () => {
    for (const name of PLAN_OPERATIONS) {
      const shape = OPERATIONS[name].input.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
      for (const [param, field] of Object.entries(shape)) {
        if (!field.safeParse(undefined).success) assert.equal(secretParameter(name, param), undefined, `${name}.${param}`);
      }
    }
  });

  it('types the answers of the operations the brief names, and only of operations a plan may call', () => {
    for (const name of Object.keys(ANSWER_SAMPLES)) assert.ok(PLAN_OPERATIONS.includes(name as never), name);
    for (const name of ['CreateKey', 'CreateAlias', 'GenerateCsr', 'SignFile', 'ExportPublicKey', 'WrapKeyMaterial', 'GetPublicKey', 'BackupKeystore', 'VerifyAuditLog', 'CreateKeyVersion', 'RotateAlias']) {
      assert.ok(name in ANSWER_SAMPLES, name);
    }
  });

  it('tells secrets from ciphertext by name', () => {
    assert.equal(secretParameter('ImportKeyMaterial', 'EncryptedKeyMaterial'), undefined);
    assert.equal(secretParameter('WrapKeyMaterial', 'PublicKey'), undefined);
    assert.match(secretParameter('WrapKeyMaterial', 'PrivateKey') ?? '', /private key/);
    assert.match(secretParameter('CreateKey', 'KeyMaterial') ?? '', /key material/);
    assert.match(secretParameter('CreateKey', 'NewPassword') ?? '', /Password/);
    assert.equal(secretParameter('CreateKey', 'Shares'), undefined);
    assert.equal(secretParameter('CreateKey', 'Spinner'), undefined);
  });

  it('resolves references at run time as the linter checked them', () => {
    const answers: Record<string, unknown> = {
      'make-key': planAnswerView({ KeyMetadata: { KeyId: 'k-1', KeySpec: 'EC_P256' } }, { KeyVersionId: 'v-1' }),
      sign: { Signatures: [{ SignatureFile: '/out/a.sig' }] },
    };
    const parts = (t: string) => {
      const p = parseTemplate(t);
      assert.ok(p.ok);
      return p.parts;
    };
    assert.equal(resolveTemplate(parts('${make-key.KeyId}'), (s) => answers[s], '/out'), 'k-1');
    assert.equal(resolveTemplate(parts('${output}/${make-key.KeyVersionId}.pem'), (s) => answers[s], '/out'), '/out/v-1.pem');
    assert.equal(resolveTemplate(parts('${sign.Signatures.0.SignatureFile}'), (s) => answers[s], '/out'), '/out/a.sig');
    assert.equal(resolveTemplate(parts('cost: $${not a reference}'), () => undefined, '/out'), 'cost: ${not a reference}');
    assert.throws(() => resolveTemplate(parts('${make-key.Nope}'), (s) => answers[s], '/out'), /no Nope/);
    assert.deepEqual(
      resolveParameters({ KeyId: '${make-key.KeyId}', File: ['${output}/a', 'b'], Exportable: false, EncryptionContext: { who: '${make-key.KeySpec}' } }, (s) => answers[s], '/out'),
      { KeyId: 'k-1', File: ['/out/a', 'b'], Exportable: false, EncryptionContext: { who: 'EC_P256' } },
    );
  });
});

describe('the JSON Schema in the repository', () => {
  it('is what the zod definition gives (run `npm run gen:plan-schema` after changing planSchema.ts)', () => {
    assert.equal(readFileSync(PLAN_SCHEMA_FILE, 'utf8'), renderPlanSchema());
  });

  it('validates the example plan with ajv, and refuses an unknown key, a wrong type and an app-only operation', () => {
    const ajv = new Ajv({ allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync(PLAN_SCHEMA_FILE, 'utf8')) as object);
    const example = parseYaml(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    assert.equal(validate(example), true, JSON.stringify(validate.errors));

    const withKey = structuredClone(example);
    (withKey.ceremony as Record<string, unknown>).colour = 'red';
    assert.equal(validate(withKey), false);
    assert.ok(validate.errors?.some((e) => e.keyword === 'additionalProperties'), JSON.stringify(validate.errors));

    const wrongType = structuredClone(example);
    (wrongType.steps as Record<string, unknown>[])[0]!.witnesses = 'two';
    assert.equal(validate(wrongType), false);

    const appOnly = structuredClone(example);
    (appOnly.steps as Record<string, unknown>[])[2]!.operation = 'LockKeystore';
    assert.equal(validate(appOnly), false);
  });
});
