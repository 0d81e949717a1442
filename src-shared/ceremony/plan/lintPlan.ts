/**
 * The plan linter: parse a plan's exact bytes strictly (YAML errors, duplicate keys, anchors, the
 * structure of planSchema.ts) and then check what a schema cannot: references, each operation's
 * parameters against the contract, secrets, roles, the time zone and patterns. Every problem
 * carries the line and column of the YAML node it is about. Pure (no Node), so the renderer can
 * lint a plan the operator is looking at with the same code the main process runs.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { OPERATIONS } from '../../contract/operations';
import type { LintedPlan, ReadAloudHash } from '../../contract/types';
import { keyIdField } from '../../contract/fields';
import { hexGroups, pgpWords } from '../../domain/pgpWords';
import { isAsymmetric, normaliseKeySpec } from '../../domain/keySpecs';
import { ceremonyPlanSchema, planStepSchema, type CeremonyPlan, type PlanStep } from './planSchema';
import { PRIVATE_KEY_PEM, secretParameter } from './planOperations';
import { ANSWER_SAMPLES, CREATED_KEY_EXTRAS, OPERATIONS_CREATING_KEYS, planAnswerView } from './answerSamples';
import { parseTemplate, walkPath, type TemplatePart } from './references';

/** Plans are short documents; anything near this is a mistake (or an attack on the parser). */
export const PLAN_MAX_BYTES = 1024 * 1024;
/** What `${output}` stands for while parameters are checked. */
const OUTPUT_PLACEHOLDER = '/media/ceremony/output';

export interface PlanProblem {
  line: number;
  column: number;
  message: string;
}

export type PlanLint =
  | { ok: true; plan: CeremonyPlan; hash: ReadAloudHash; summary: Omit<LintedPlan, 'Plan'> }
  | { ok: false; hash: ReadAloudHash; problems: PlanProblem[] };

type Path = readonly (string | number)[];

/** SHA-256 of the bytes, in the three forms people and machines compare. */
export function readAloudHash(bytes: Uint8Array): ReadAloudHash {
  const digest = sha256(bytes);
  return { Sha256: bytesToHex(digest), Sha256Groups: hexGroups(digest), Sha256Words: pgpWords(digest) };
}

/** Problems as the error message lists them: `source:line:column: message`, sorted, one per line. */
export function formatProblems(source: string, problems: readonly PlanProblem[]): string {
  return sortProblems(problems)
    .map((p) => `${source}:${p.line}:${p.column}: ${p.message}`)
    .join('\n');
}

function sortProblems(problems: readonly PlanProblem[]): PlanProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}

/** The parser's messages that say more in our words. */
const ownWords: Partial<Record<string, string>> = {
  DUPLICATE_KEY: 'duplicate key: each key appears once in its map',
  MULTIPLE_DOCS: 'a plan is one YAML document: remove the --- and what follows, or make it a plan of its own',
};

/** Where each part of the document is, for problems. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private at(offset: number | undefined): { line: number; column: number } {
    const pos = this.lines.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  }

  node(path: Path): YamlNode | undefined {
    if (path.length === 0) return this.doc.contents ?? undefined;
    const found = this.doc.getIn(path, true);
    return isNode(found) ? found : undefined;
  }

  /** The value at `path`, or the nearest enclosing node that exists. */
  value(path: Path): { line: number; column: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.node(path.slice(0, n));
      if (node?.range) return this.at(node.range[0]);
    }
    return this.at(0);
  }

  /** The key `key` of the map at `path` (for unknown and duplicate keys), else the map. */
  key(path: Path, key: string): { line: number; column: number } {
    const map = this.node(path);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair && isScalar(pair.key) && pair.key.range) return this.at(pair.key.range[0]);
    }
    return this.value(path);
  }
}

/** Lint a plan from its exact bytes (the hash is over these bytes, whatever they hold). */
export function lintPlan(bytes: Uint8Array): PlanLint {
  const hash = readAloudHash(bytes);
  const problems: PlanProblem[] = [];
  const fail = (): PlanLint => ({ ok: false, hash, problems: sortProblems(problems) });

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    problems.push({ line: 1, column: 1, message: 'the plan is not UTF-8 text' });
    return fail();
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, schema: 'core', merge: false, strict: true });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    // prettyErrors appends " at line L, column C:" and a source excerpt; the position is ours to print.
    const message = e.message.split(/ at line \d+, column \d+/)[0]!.trim();
    problems.push({ line: pos.line, column: pos.col, message: ownWords[e.code] ?? message });
  }
  if (problems.length) return fail();
  if (doc.contents === null) {
    problems.push({ line: 1, column: 1, message: 'the plan is empty: it needs the sections ceremony, roles and steps' });
    return fail();
  }
  problems.push(...nodeProblems(doc, text, lines));
  if (problems.length) return fail();

  const where = new Locator(doc, lines);
  const value: unknown = doc.toJS({ maxAliasCount: 0 });
  const parsed = ceremonyPlanSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...describeIssue(issue, where));
    // The parts that are well formed are checked too, so one lint names (nearly) every problem.
    checkPlan(partialPlan(value), where, problems);
    return fail();
  }
  const plan = parsed.data;
  checkPlan(checkedPlan(plan), where, problems);
  if (problems.length) return fail();
  return { ok: true, plan, hash, summary: summarise(plan, hash) };
}

/**
 * What no plan holds, whatever its structure: anchors and aliases (one value standing for
 * another; a reviewed plan says everything in place), explicit tags (a value that is not text, a
 * number, true/false, a list or a map), and a private key pasted into any text.
 */
function nodeProblems(doc: Document, text: string, lines: LineCounter): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  /** Where a node's anchor (&) or tag (!) begins: on the value's line, before it; else the value. */
  const propertyAt = (node: YamlNode, mark: '&' | '!') => {
    const offset = node.range?.[0] ?? 0;
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    let k = text.lastIndexOf(mark, offset);
    while (k > lineStart && text[k - 1] === mark) k--;
    return at(k >= lineStart ? k : offset);
  };
  visit(doc, {
    Node(_key, node) {
      const described = isScalar(node) || isMap(node) || isSeq(node);
      if (isAlias(node) || (described && node.anchor)) {
        const pos = isAlias(node) ? at(node.range?.[0] ?? 0) : propertyAt(node, '&');
        problems.push({ ...pos, message: 'anchors and aliases (&name, *name) are not used in plans: write each value where it belongs' });
      }
      if (described && node.tag) {
        const tag = node.tag.replace('tag:yaml.org,2002:', '!!');
        problems.push({ ...propertyAt(node, '!'), message: `tags (${tag}) are not used in plans: write plain text, numbers, true/false, lists and maps` });
      }
      if (isScalar(node) && typeof node.value === 'string' && PRIVATE_KEY_PEM.test(node.value)) {
        problems.push({ ...at(node.range?.[0] ?? 0), message: 'this text holds a private key; a plan never holds key material' });
      }
    },
  });
  return problems;
}

/** A zod issue, placed on the node it is about. */
function describeIssue(issue: z.core.$ZodIssue, where: Locator): PlanProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const name = path.length ? path.join('.') : 'the plan';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ ...where.key(path, k), message: `unknown key "${k}" in ${name}` }));
  }
  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    const inner = issue.issues[0]?.message ?? issue.message;
    return [{ ...where.key(path.slice(0, -1), key), message: `${name}: "${key}": ${inner}` }];
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ ...where.value(path.slice(0, -1)), message: `${name} is required` }];
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    // A step's action: placed on the action itself, or the step when it has none.
    return [{ ...where.value(path), message: `${name}: ${issue.message}` }];
  }
  return [{ ...where.value(path), message: `${name}: ${issue.message}` }];
}

/**
 * The plan as the semantic checks see it: each section only when it is well formed, and each
 * step only when it is (a malformed one keeps its id, so references to it are not reported as
 * references to a missing step; its own problems are the schema's).
 */
interface CheckedPlan {
  timezone?: string;
  /** The declared role names, when `roles` is a map (even if some role in it is malformed). */
  roleNames?: string[];
  /** The roles with their bounds, when all are well formed. */
  roles?: CeremonyPlan['roles'];
  steps: (PlanStep | undefined)[];
  stepIds: (string | undefined)[];
  signWith?: string;
}

function checkedPlan(plan: CeremonyPlan): CheckedPlan {
  return { timezone: plan.ceremony.timezone, roleNames: Object.keys(plan.roles), roles: plan.roles, steps: plan.steps, stepIds: plan.steps.map((s) => s.id), signWith: plan.transcript?.signWith };
}

function partialPlan(raw: unknown): CheckedPlan {
  const top = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const shape = ceremonyPlanSchema.shape;
  const timezone = (top.ceremony as { timezone?: unknown } | null | undefined)?.timezone;
  const roles = shape.roles.safeParse(top.roles);
  const rawRoles = top.roles !== null && typeof top.roles === 'object' && !Array.isArray(top.roles) ? Object.keys(top.roles) : undefined;
  const transcript = shape.transcript.safeParse(top.transcript);
  const rawSteps = Array.isArray(top.steps) ? (top.steps as unknown[]) : [];
  return {
    ...(typeof timezone === 'string' ? { timezone } : {}),
    ...(rawRoles ? { roleNames: rawRoles } : {}),
    ...(roles.success ? { roles: roles.data } : {}),
    steps: rawSteps.map((s) => planStepSchema.safeParse(s).data),
    stepIds: rawSteps.map((s) => {
      const id = (s as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? id : undefined;
    }),
    ...(transcript.success && transcript.data?.signWith !== undefined ? { signWith: transcript.data.signWith } : {}),
  };
}

function checkPlan(plan: CheckedPlan, where: Locator, problems: PlanProblem[]): void {
  const add = (pos: { line: number; column: number }, message: string) => problems.push({ ...pos, message });

  // The time zone: Intl knows the IANA database (full ICU in Node and in Chromium).
  if (plan.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: plan.timezone });
    } catch {
      add(where.value(['ceremony', 'timezone']), `ceremony.timezone: "${plan.timezone}" is not an IANA time zone (such as Asia/Shanghai, Europe/Berlin or UTC)`);
    }
  }

  const roles = new Map(Object.entries(plan.roles ?? {}));
  const roleNames = new Set(plan.roleNames ?? []);
  for (const [name, role] of roles) {
    if (role.max !== undefined && role.max < role.min) add(where.value(['roles', name, 'max']), `roles.${name}: max ${role.max} is less than min ${role.min}`);
  }
  if (plan.roleNames && roleNames.size === 0) add(where.value(['roles']), 'roles: declare at least one role');
  // The most people the roles allow (one person may hold several roles, so this is an upper bound).
  const bounded = plan.roles !== undefined && roles.size > 0 && [...roles.values()].every((r) => r.max !== undefined);
  const maxPeople = bounded ? [...roles.values()].reduce((n, r) => n + (r.max ?? 0), 0) : Infinity;

  const firstIndex = new Map<string, number>();
  plan.stepIds.forEach((id, i) => {
    if (id === undefined) return;
    const seen = firstIndex.get(id);
    if (seen !== undefined) add(where.value(['steps', i, 'id']), `step ${id}: step id "${id}" is already used by step ${seen + 1} (${where.value(['steps', seen, 'id']).line}:${where.value(['steps', seen, 'id']).column})`);
    else firstIndex.set(id, i);
  });

  plan.steps.forEach((step, i) => {
    if (!step) return;
    const at = (...p: (string | number)[]) => where.value(['steps', i, ...p]);
    const label = `step ${step.id}`;
    if (plan.roleNames && !roleNames.has(step.performer)) add(at('performer'), `${label}: performer "${step.performer}" is not a declared role (${[...roleNames].join(', ')})`);
    const witnesses = step.witnesses ?? 0;
    if (witnesses > maxPeople - 1) {
      add(at('witnesses'), `${label}: needs ${witnesses} witnesses besides the performer, but the roles' max allow ${maxPeople} participants in all, so at most ${maxPeople - 1} can witness`);
    }
    if (step.action === 'handover' && plan.roleNames) {
      for (const side of ['from', 'to'] as const) {
        if (!roleNames.has(step[side])) add(at(side), `${label}: ${side} "${step[side]}" is not a declared role`);
      }
    }
    if (step.action === 'confirm' || step.action === 'handover') {
      for (const [name, value] of Object.entries(step.record ?? {})) {
        try {
          new RegExp(value.pattern, 'u');
        } catch (e) {
          add(at('record', name, 'pattern'), `${label}: the pattern of ${name} is not a valid regular expression (${(e as Error).message})`);
        }
      }
    }
    if (step.action === 'operation') checkOperationStep(plan, i, step, where, add);
    if (step.action === 'compare') {
      checkTemplate(plan, i, step.value, ['steps', i, 'value'], where, add);
    }
  });

  const signWith = plan.signWith;
  if (signWith !== undefined) {
    const parts = checkTemplate(plan, plan.steps.length, signWith, ['transcript', 'signWith'], where, add);
    const refs = (parts ?? []).filter((p) => 'ref' in p);
    const signWithAt = where.value(['transcript', 'signWith']);
    if (parts && refs.length === 0 && !keyIdField.safeParse(signWith).success) add(signWithAt, 'transcript.signWith: give a KeyId, an alias (alias/...) or a reference to one');
    // A reference must name a key: the last field of its path is KeyId (${make-key.KeyId}).
    if (parts && (refs.length > 1 || parts.length !== refs.length || refs.some((p) => p.ref.kind !== 'step' || p.ref.path[p.ref.path.length - 1] !== 'KeyId'))) {
      if (refs.length) add(signWithAt, 'transcript.signWith: a reference here names a key on its own: ${step.KeyId}');
    }
    const only = refs.length === 1 && parts?.length === 1 ? refs[0]!.ref : undefined;
    const signer = only?.kind === 'step' ? plan.steps[plan.stepIds.indexOf(only.step)] : undefined;
    if (signer?.action === 'operation' && signer.operation === 'CreateKey') {
      const usage = signer.parameters?.KeyUsage;
      if (!createsAsymmetricKey(signer)) add(signWithAt, `transcript.signWith: step ${signer.id} creates a symmetric key (KeySpec ${String(signer.parameters?.KeySpec ?? 'AES_256, the default')}), which cannot sign the transcript`);
      else if (typeof usage === 'string' && !usage.includes('${') && usage !== 'SIGN/VERIFY') add(signWithAt, `transcript.signWith: step ${signer.id} creates a key for ${usage}, which cannot sign the transcript; give it KeyUsage SIGN/VERIFY`);
    }
  }
}

type Add = (pos: { line: number; column: number }, message: string) => void;

/**
 * Check the references in one text at `path`, as seen from step number `index` (references may
 * only reach steps before it). Returns the parts, or undefined when the syntax is wrong.
 */
function checkTemplate(plan: CheckedPlan, index: number, text: string, path: Path, where: Locator, add: Add): TemplatePart[] | undefined {
  const parsed = parseTemplate(text);
  const pos = where.value(path);
  const label = labelOf(plan, path);
  if (!parsed.ok) {
    add(pos, `${label}: ${parsed.problem}`);
    return undefined;
  }
  let ok = true;
  for (const part of parsed.parts) {
    if (!('ref' in part) || part.ref.kind === 'output') continue;
    const problem = referenceProblem(plan, index, part.ref.step, part.ref.path);
    if (problem) {
      add(pos, `${label}: ${part.raw} ${problem}`);
      ok = false;
    }
  }
  return ok ? parsed.parts : undefined;
}

/** How a problem names where it is: `step csr, parameter OutputFile` rather than `steps.4.parameters.OutputFile`. */
function labelOf(plan: CheckedPlan, path: Path): string {
  if (path[0] !== 'steps' || typeof path[1] !== 'number') return path.join('.');
  const [, index, field, ...rest] = path;
  const step = `step ${plan.stepIds[index] ?? index + 1}`;
  if (field === 'parameters') return `${step}, parameter ${rest.join('.')}`;
  return field === undefined ? step : `${step}, ${[field, ...rest].join('.')}`;
}

/** Why `${step.path}` cannot resolve from step number `index`, or undefined when it can. */
function referenceProblem(plan: CheckedPlan, index: number, stepId: string, path: readonly string[]): string | undefined {
  const target = plan.stepIds.indexOf(stepId);
  if (target < 0) return `refers to step "${stepId}", which the plan does not have`;
  if (target === index) return 'refers to its own step; a step can use only the answers of steps before it';
  if (target > index) return `refers to step "${stepId}", which comes later (step ${target + 1}); a step can use only the answers of steps before it`;
  const step = plan.steps[target];
  if (!step) return undefined; // malformed: its own problems are reported; the reference is checked once it is fixed
  const view = answerView(step);
  if (view.kind === 'none') return `refers to step "${stepId}", a ${step.action} step, which has no answer to refer to`;
  if (view.kind === 'untyped') return undefined;
  if (path[0] === 'PublicKeyFingerprint' && step.action === 'operation' && OPERATIONS_CREATING_KEYS.includes(step.operation) && !createsAsymmetricKey(step)) {
    const spec = step.parameters?.KeySpec ?? 'AES_256, the default';
    return `refers to the public key fingerprint of step "${stepId}", which creates a symmetric key (KeySpec ${String(spec)}) and so has no public key`;
  }
  const found = walkPath(view.answer, path);
  if (!found.ok) {
    return `refers to ${found.at}, which step "${stepId}"'s answer cannot have (it has ${Object.keys(view.answer).sort().join(', ') || 'no fields'})`;
  }
  if (found.value !== null && typeof found.value === 'object') return `reaches a ${Array.isArray(found.value) ? 'list' : 'group of fields'}, not a value; name a field inside it`;
  return undefined;
}

type AnswerView = { kind: 'typed'; answer: Record<string, unknown> } | { kind: 'untyped' } | { kind: 'none' };

/** What a step's answer looks like at lint time (a sample with every field). */
function answerView(step: PlanStep | undefined): AnswerView {
  if (!step) return { kind: 'untyped' };
  if (step.action === 'confirm' || step.action === 'handover') {
    return { kind: 'typed', answer: Object.fromEntries(Object.keys(step.record ?? {}).map((k) => [k, 'value'])) };
  }
  if (step.action !== 'operation') return { kind: 'none' };
  const operation = step.operation;
  const sample = ANSWER_SAMPLES[operation] as Record<string, unknown> | undefined;
  if (!sample) return { kind: 'untyped' };
  if (!OPERATIONS_CREATING_KEYS.includes(operation)) return { kind: 'typed', answer: planAnswerView(sample) };
  const extras: Record<string, unknown> = { KeyVersionId: CREATED_KEY_EXTRAS.KeyVersionId };
  if (createsAsymmetricKey(step)) extras.PublicKeyFingerprint = CREATED_KEY_EXTRAS.PublicKeyFingerprint;
  return { kind: 'typed', answer: planAnswerView(sample, extras) };
}

/** Whether a key-creating step makes an asymmetric key, as far as the plan says (unknown counts as yes). */
function createsAsymmetricKey(step: PlanStep & { action: 'operation' }): boolean {
  if (step.operation !== 'CreateKey') return true; // RotateAlias copies the spec of a key the plan does not show
  const spec = step.parameters?.KeySpec;
  if (spec === undefined) return false; // CreateKey's default is AES_256
  if (typeof spec !== 'string' || spec.includes('${')) return true;
  const normal = normaliseKeySpec(spec);
  return normal === undefined ? true : isAsymmetric(normal);
}

function checkOperationStep(plan: CheckedPlan, i: number, step: PlanStep & { action: 'operation' }, where: Locator, add: Add): void {
  const operation = step.operation;
  const parameters = step.parameters ?? {};
  const input: Record<string, unknown> = {};
  /** Parameters whose value comes from an operation without a typed answer: unknown until the day. */
  const unknowable = new Set<string>();
  /** Parameters holding a reference: their problems say the sample stood in for it. */
  const referring = new Set<string>();

  for (const [name, value] of Object.entries(parameters)) {
    const path = ['steps', i, 'parameters', name];
    const secret = secretParameter(operation, name);
    if (secret) {
      add(where.key(['steps', i, 'parameters'], name), `step ${step.id}: ${secret}`);
      continue;
    }
    input[name] = substitute(plan, i, value, path, where, add, () => unknowable.add(name), () => referring.add(name));
  }

  const result = (OPERATIONS[operation].input as z.ZodType).safeParse(input, { reportInput: true });
  if (result.success) return;
  for (const issue of result.error.issues) {
    const param = issue.path[0];
    if (typeof param === 'string' && unknowable.has(param)) continue;
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) add(where.key(['steps', i, 'parameters'], k), `step ${step.id}: ${k} is not a parameter of ${operation}`);
      continue;
    }
    if (issue.code === 'invalid_type' && issue.input === undefined && typeof param === 'string' && !(param in parameters)) {
      add(where.value(['steps', i, step.parameters ? 'parameters' : 'operation']), `step ${step.id}: ${operation} needs the parameter ${param}`);
      continue;
    }
    const suffix = typeof param === 'string' && referring.has(param) ? ' (checked with a sample of the value the reference stands for)' : '';
    add(where.value(['steps', i, 'parameters', ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')]), `step ${step.id}, parameter ${issue.path.join('.')}: ${issue.message}${suffix}`);
  }
}

/** The value with each reference replaced by a sample of what it stands for; problems reported. */
function substitute(plan: CheckedPlan, i: number, value: unknown, path: Path, where: Locator, add: Add, unknowable: () => void, referring: () => void): unknown {
  if (Array.isArray(value)) return value.map((v, k) => substitute(plan, i, v, [...path, k], where, add, unknowable, referring));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(plan, i, v, [...path, k], where, add, unknowable, referring)]));
  }
  if (typeof value !== 'string') return value;
  const parts = checkTemplate(plan, i, value, path, where, add);
  if (!parts) {
    unknowable(); // already reported; its contract check would only repeat the problem
    return value;
  }
  if (!parts.some((p) => 'ref' in p)) return value;
  referring();
  const sampleOf = (p: TemplatePart): unknown => {
    if (!('ref' in p)) return p.literal;
    if (p.ref.kind === 'output') return OUTPUT_PLACEHOLDER;
    const view = answerView(plan.steps[plan.stepIds.indexOf(p.ref.step)]);
    if (view.kind !== 'typed') {
      unknowable();
      return 'x';
    }
    const found = walkPath(view.answer, p.ref.path);
    return found.ok ? found.value : 'x';
  };
  if (parts.length === 1) return sampleOf(parts[0]!);
  return parts.map((p) => String(sampleOf(p))).join('');
}

function summarise(plan: CeremonyPlan, hash: ReadAloudHash): Omit<LintedPlan, 'Plan'> {
  const total = plan.steps.reduce((n, s) => n + (s.minutes ?? 0), 0);
  const warnings: string[] = [];
  const expected = plan.ceremony.expectedMinutes;
  if (expected !== undefined && total > expected) warnings.push(`The steps' estimates add up to ${total} minutes, more than the ${expected} expected.`);
  return {
    PlanHash: hash,
    CeremonyId: plan.ceremony.id,
    Title: plan.ceremony.title,
    Timezone: plan.ceremony.timezone,
    ...(expected !== undefined ? { ExpectedMinutes: expected } : {}),
    Roles: Object.entries(plan.roles).map(([name, r]) => ({ Name: name, Min: r.min, ...(r.max !== undefined ? { Max: r.max } : {}) })),
    Steps: plan.steps.map((s) => ({
      Id: s.id,
      Title: s.title,
      Performer: s.performer,
      Witnesses: s.witnesses ?? 0,
      Action: s.action,
      ...(s.action === 'operation' ? { Operation: s.operation } : {}),
      ...(s.minutes !== undefined ? { Minutes: s.minutes } : {}),
    })),
    TotalMinutes: total,
    StepsWithoutEstimate: plan.steps.filter((s) => s.minutes === undefined).map((s) => s.id),
    Warnings: warnings,
  };
}
