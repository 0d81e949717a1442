/** Alias rules (kms.md): `alias/` then 1-255 of letters, digits, `_`, `-`, `/`. */
export const ALIAS_PREFIX = 'alias/';
const ALIAS_BODY = /^[A-Za-z0-9_\-/]{1,255}$/;

/** Why an alias name is refused, or undefined when it is valid. */
export function aliasNameProblem(name: string): string | undefined {
  if (!name.startsWith(ALIAS_PREFIX)) return `an alias must start with "${ALIAS_PREFIX}"`;
  const body = name.slice(ALIAS_PREFIX.length);
  if (body.length === 0) return 'an alias needs at least one character after "alias/"';
  if (body.length > 255) return 'an alias has at most 255 characters after "alias/"';
  if (!ALIAS_BODY.test(body)) return 'an alias may contain only letters, digits, "_", "-" and "/" after "alias/"';
  return undefined;
}

export function looksLikeAlias(keyIdOrAlias: string): boolean {
  return keyIdOrAlias.startsWith(ALIAS_PREFIX);
}
