/**
 * The SSH wire encodings (RFC 4251 §5) SSHSIG is made of: `string` (be32 length, bytes) and
 * `mpint` (two's complement, minimal: leading zeros stripped, a 0x00 when the high bit is set).
 * The reader is strict: a length past the end, a non-minimal or negative mpint, or bytes left over
 * make the whole blob invalid.
 */

export function sshString(b: Uint8Array | string): Buffer {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** A non-negative integer given as big-endian bytes, as an mpint (the high-bit pitfall: 0x00 prefix). */
export function sshMpint(unsigned: Uint8Array): Buffer {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  const body = Buffer.from(unsigned.subarray(i));
  return sshString(body.length && body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

export class WireError extends Error {}

export class WireReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  string(): Buffer {
    if (this.at + 4 > this.buf.length) throw new WireError('truncated length');
    const len = this.buf.readUInt32BE(this.at);
    this.at += 4;
    if (this.at + len > this.buf.length) throw new WireError('length past the end');
    const out = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }

  text(): string {
    return this.string().toString('utf8');
  }

  raw(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new WireError('truncated');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  uint32(): number {
    return this.raw(4).readUInt32BE(0);
  }

  /** A positive mpint, strictly minimal; returns its magnitude without the sign octet. */
  positiveMpint(): Buffer {
    const b = this.string();
    if (b.length === 0) throw new WireError('zero mpint');
    if (b[0]! & 0x80) throw new WireError('negative mpint');
    if (b[0] === 0 && (b.length === 1 || !(b[1]! & 0x80))) throw new WireError('non-minimal mpint');
    return b[0] === 0 ? b.subarray(1) : b;
  }

  end(): void {
    if (this.at !== this.buf.length) throw new WireError('trailing bytes');
  }
}
