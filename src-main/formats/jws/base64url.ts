/** base64url without padding (RFC 7515 §2, Appendix C). */
export function base64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}
