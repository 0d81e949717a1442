/**
 * The release-signature formats SignFile writes (spec/signatures.md), and the checks on their
 * parameters that the contract makes before anything runs.
 */
export const SIGNATURE_FORMATS = ['raw', 'openpgp', 'ssh', 'minisign', 'signify', 'cosign', 'jws'] as const;
export type SignatureFormatName = (typeof SIGNATURE_FORMATS)[number];

/** SSHSIG's namespace when none is given: release files. */
export const DEFAULT_SSH_NAMESPACE = 'file';

/**
 * An OpenPGP User ID as `Name <email>` (RFC 4880 §5.11's convention, what gpg shows): a name of
 * printable characters without `<`, `>` or surrounding spaces, then one address in angle brackets.
 */
export const OPENPGP_USER_ID = /^[^<>\p{Cc}]*[^<>\s\p{Cc}] <[^<>@\s\p{Cc}]+@[^<>@\s\p{Cc}]+\.[^<>@\s\p{Cc}]+>$/u;

/** An SSHSIG namespace: non-empty, printable ASCII without spaces or quotes (it goes into allowed_signers). */
export const SSH_NAMESPACE = /^[\x21\x23-\x7e]{1,64}$/;

/** The forms ExportPublicKey writes (spec/signatures.md); OPENPGP needs OpenPgpUserId (the key certifies it). */
export const PUBLIC_KEY_FORMATS = ['PEM', 'DER', 'SSH', 'MINISIGN', 'SIGNIFY', 'OPENPGP', 'JWK'] as const;
export type PublicKeyFormat = (typeof PUBLIC_KEY_FORMATS)[number];
