/**
 * References in a plan's text: `${step-id.Field.Sub}` (a dotted path into an earlier step's
 * answer; a number reaches into a list: `${sign.Signatures.0.SignatureFile}`), and `${output}`
 * (the ceremony's output folder). `$${` writes a literal `${`. The same parser serves the linter
 * (which checks that each reference can resolve) and the runner (which resolves them).
 */
import { STEP_ID } from './planSchema';

export type Reference = { kind: 'output' } | { kind: 'step'; step: string; path: string[] };
export type TemplatePart = { literal: string } | { ref: Reference; raw: string };

const PATH_SEGMENT = /^(?:[A-Za-z][A-Za-z0-9_]*|0|[1-9][0-9]{0,5})$/;

/** The parts of `text`, or the first problem with its syntax. */
export function parseTemplate(text: string): { ok: true; parts: TemplatePart[] } | { ok: false; problem: string } {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end < 0) return { ok: false, problem: `"${text.slice(i, i + 40)}" opens a reference without closing it with }` };
    const raw = text.slice(i, end + 1);
    const inner = text.slice(i + 2, end).trim();
    const ref = parseReference(inner);
    if (typeof ref === 'string') return { ok: false, problem: `${raw}: ${ref}` };
    if (literal) parts.push({ literal });
    literal = '';
    parts.push({ ref, raw });
    i = end + 1;
  }
  if (literal || parts.length === 0) parts.push({ literal });
  return { ok: true, parts };
}

function parseReference(inner: string): Reference | string {
  if (inner === 'output') return { kind: 'output' };
  const [step, ...path] = inner.split('.');
  if (!step || !STEP_ID.test(step)) return 'a reference is ${output} or ${step-id.Field}, with a step id of lower-case letters, digits and hyphens';
  if (path.length === 0) return `name a field of step ${step}'s answer: \${${step}.Field}`;
  const bad = path.find((s) => !PATH_SEGMENT.test(s));
  if (bad !== undefined) return `"${bad}" is not a field name or a list index`;
  return { kind: 'step', step, path };
}

/** Does `text` hold any reference? */
export function hasReference(parts: readonly TemplatePart[]): boolean {
  return parts.some((p) => 'ref' in p);
}

/** What a path reaches in `answer`: the value, or why it reaches nothing. */
export function walkPath(answer: unknown, path: readonly string[]): { ok: true; value: unknown } | { ok: false; at: string } {
  let value: unknown = answer;
  for (let k = 0; k < path.length; k++) {
    const seg = path[k]!;
    if (Array.isArray(value) && /^\d+$/.test(seg)) value = value[Number(seg)];
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, seg)) value = (value as Record<string, unknown>)[seg];
    else return { ok: false, at: path.slice(0, k + 1).join('.') };
    if (value === undefined) return { ok: false, at: path.slice(0, k + 1).join('.') };
  }
  return { ok: true, value };
}

/**
 * A template's value given the answers: a lone reference keeps its value's type (a number stays
 * a number); references inside text are written as text.
 * @throws Error naming the reference when it does not resolve (the linter makes that rare).
 */
export function resolveTemplate(parts: readonly TemplatePart[], answers: (step: string) => unknown, outputDir: string): unknown {
  const valueOf = (ref: Reference, raw: string): unknown => {
    if (ref.kind === 'output') return outputDir;
    const found = walkPath(answers(ref.step), ref.path);
    if (!found.ok) throw new Error(`${raw} does not resolve: step ${ref.step}'s answer has no ${found.at}`);
    return found.value;
  };
  if (parts.length === 1 && 'ref' in parts[0]!) return valueOf(parts[0].ref, parts[0].raw);
  return parts.map((p) => ('ref' in p ? String(valueOf(p.ref, p.raw)) : p.literal)).join('');
}

/**
 * A step's parameters for the day: every string's references resolved (lists and maps walked),
 * everything else as the plan wrote it. What the runner passes to dispatch.
 * @throws Error naming a reference that does not parse or resolve.
 */
export function resolveParameters(parameters: Readonly<Record<string, unknown>>, answers: (step: string) => unknown, outputDir: string): Record<string, unknown> {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    if (typeof value !== 'string') return value;
    const parsed = parseTemplate(value);
    if (!parsed.ok) throw new Error(parsed.problem);
    return resolveTemplate(parsed.parts, answers, outputDir);
  };
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, resolve(v)]));
}
