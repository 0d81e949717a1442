/**
 * `jws`: a compact detached JWS with an unencoded payload (RFC 7515, 7797) `f.jws`, and the key
 * as a JWK `<KeyId>.jwk.json`. ES256/ES384/PS256 stream the header prefix then the file into one
 * hash; EdDSA signs the whole signing input, so its files are capped (64 MiB, as raw Ed25519).
 */
import { KmsError } from '../../../../../src-shared/errors';
import { shellWord } from '../../../../files/shellWord';
import { createSigningInputHash, createVerifyingHash, jwsSigningInput, JWS_KEY_SPECS, parseDetachedJws, publicJwkJson, signDetached, verifyDetachedJws } from '../../../../formats/jws';
import type { FormatKeySpec } from '../../../../formats/keySpec';
import type { FileState, PerFileFormat } from './format';
import { formatKeySpec, keySigner } from './signers';

/** Keeps the file's bytes (EdDSA only; SignFile refuses files over the cap before reading). */
function messageState(): FileState {
  const chunks: Buffer[] = [];
  return { update: (b) => chunks.push(Buffer.from(b)), message: () => Buffer.concat(chunks) };
}

function parse(signature: Buffer): ReturnType<typeof parseDetachedJws> | undefined {
  try {
    return parseDetachedJws(signature.toString('utf8'));
  } catch (e) {
    if (e instanceof KmsError) return undefined;
    throw e;
  }
}

export const jwsFormat: PerFileFormat = {
  name: 'jws',
  kind: 'per-file',
  accepts: (spec) => JWS_KEY_SPECS.includes(spec as FormatKeySpec),
  fileDigests: () => ['sha256'],
  fileState(key, signature) {
    const spec = formatKeySpec(key.spec);
    if (spec === 'ED25519') return messageState();
    if (signature === undefined) {
      const hash = createSigningInputHash(jwsSigningInput(key.spki, spec));
      return { hash, update: (b) => hash.update(b) };
    }
    const parsed = parse(signature);
    const hash = parsed ? createVerifyingHash(parsed, spec) : undefined;
    return hash ? { hash, update: (b) => hash.update(b) } : { update: () => undefined };
  },
  publicKeyFiles: (key) => [{ name: `${key.keyId}.jwk.json`, content: `${publicJwkJson(key.spki, formatKeySpec(key.spec))}\n` }],
  signatureName: (base) => `${base}.jws`,
  async sign(key, _options, file, signer) {
    const spec = formatKeySpec(key.spec);
    const state = file.states.get('jws')!;
    const content = await signDetached({
      keySpec: spec,
      spki: key.spki,
      signingInput: jwsSigningInput(key.spki, spec),
      payload: state.message ? { bytes: state.message() } : { hash: state.hash! },
      sign: keySigner(key, signer, 'PSS'),
    });
    return { content, digest: { algorithm: 'sha256', value: file.digests.get('sha256')! } };
  },
  verify(key, _options, signature, _digests, state) {
    const parsed = parse(signature);
    if (!parsed || !state) return false;
    const payload = state.message ? { bytes: state.message() } : state.hash ? { hash: state.hash } : undefined;
    if (!payload) return false;
    return verifyDetachedJws({ parsed, keySpec: formatKeySpec(key.spec), spki: key.spki, payload }).valid;
  },
  verifyCommand(key, _options, file, signaturePath) {
    // No common tool checks a detached unencoded-payload JWS; the JWK file is for the consumers' libraries.
    return `keyroom VerifyFile --Format jws --KeyId ${shellWord(key.keyId)} --SignatureFile ${shellWord(signaturePath)} --File ${shellWord(file)}`;
  },
};
