/**
 * Zero secret bytes once they are no longer needed. JavaScript cannot promise more: strings,
 * bigints and copies made inside libraries or OpenSSL are beyond our reach (see README).
 */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}
