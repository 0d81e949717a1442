/** OpenPGP v4 (RFC 4880; RFC 9580 where it agrees): what SignFile, ExportPublicKey and VerifyFile use. */
export { signDetached, OPENPGP_HASH, type OpenPgpHash, type DetachedSignatureInput } from './signature';
export { transferablePublicKey, assertOpenPgpUserId, type TransferablePublicKey, type TransferablePublicKeyInput } from './certificate';
export { verifyDetached, type OpenPgpVerdict, type VerifyDetachedInput } from './verify';
export type { OpenPgpPublicKey } from './publicKey';
