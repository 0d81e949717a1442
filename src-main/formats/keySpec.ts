/**
 * The key specs the release-signature formats take. ED25519 is named here on its own because the
 * key-spec table gains it in a separate change; once it has it, this union equals the asymmetric
 * signing specs and stays correct.
 */
import type { KeySpec } from '../../src-shared/domain/keySpecs';

export type FormatKeySpec = Extract<KeySpec, 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'EC_P256' | 'EC_P256K' | 'EC_P384'> | 'ED25519';

/**
 * What a format hands the key, and what comes back (Keyroom's backends):
 * - RSA: the SHA-256 digest; the signer applies RSASSA-PKCS1-v1_5 (or PSS where the format says
 *   so) and returns the k-byte signature;
 * - EC: the digest (SHA-256, or SHA-384 for P-384); the signer returns DER SEQUENCE{r, s};
 * - ED25519: the message itself (pure Ed25519, RFC 8032 §5.1); the signer returns R || S, 64 bytes.
 */
export type Signer = (input: Buffer) => Promise<Buffer>;
