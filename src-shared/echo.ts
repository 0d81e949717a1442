/**
 * How much of a caller's value an error message may repeat. A message names the value so the
 * operator can find it, but a 10,000-character value (a pasted file, a runaway argument) must not
 * come back whole: it floods a terminal and a log, and it may be a secret typed in the wrong field.
 */
export const ECHO_CAP = 64;

const ELLIPSIS = '…';

/** `value` as a message may show it: at most ECHO_CAP characters, then an ellipsis and the length. */
export function echo(value: string): string {
  const chars = [...value];
  return chars.length <= ECHO_CAP ? value : `${chars.slice(0, ECHO_CAP).join('')}${ELLIPSIS} (${chars.length} characters)`;
}

/** Every string inside an input (object values, array items, nested), longest first. */
function stringsOf(input: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 4) return out;
  if (typeof input === 'string') out.push(input);
  else if (Array.isArray(input)) for (const v of input) stringsOf(v, out, depth + 1);
  else if (input !== null && typeof input === 'object') for (const v of Object.values(input)) stringsOf(v, out, depth + 1);
  return out;
}

/**
 * The one place every error message passes before it leaves a front door (dispatch's error data,
 * the command line's usage errors): any value of the caller's input longer than ECHO_CAP that the
 * message repeats is cut to ECHO_CAP characters with an ellipsis. Messages built with `echo()`
 * are already short; this holds for the ones that are not.
 */
export function boundEchoes(message: string, input: unknown): string {
  let out = message;
  const long = [...new Set(stringsOf(input))].filter((s) => [...s].length > ECHO_CAP).sort((a, b) => b.length - a.length);
  for (const s of long) {
    if (out.includes(s)) out = out.split(s).join(echo(s));
    // A trimmed copy (the command line trims @file values) is the same value.
    const t = s.trim();
    if (t !== s && [...t].length > ECHO_CAP && out.includes(t)) out = out.split(t).join(echo(t));
  }
  return out;
}
