/** cosign verify-blob material: sigstore bundle v0.3 with a key hint, and the base64 signature. */
export { signBlob, assertCosignKeySpec, publicKeyHint, COSIGN_KEY_SPECS, SIGSTORE_BUNDLE_V03, type SignBlobInput, type SignedBlob, type MessageSignatureBundle } from './bundle';
export { readMessageSignatureBundle } from './readBundle';
export { verifyBundle, type CosignVerdict } from './verify';
