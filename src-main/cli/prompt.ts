/**
 * A hidden prompt on the terminal for passphrases (and later PINs): nothing is echoed, and the
 * typed bytes are collected in a Buffer the caller zeroes.
 */
import { KmsError } from '../../src-shared/errors';

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

export function promptHidden(question: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    const chunks: number[] = [];
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      const out = Buffer.from(chunks);
      chunks.fill(0);
      if (err) {
        out.fill(0);
        reject(err);
      } else resolve(out);
    };
    const onData = (data: Buffer) => {
      for (const byte of data) {
        if (byte === 0x0d || byte === 0x0a) return finish();
        if (byte === 0x03) return finish(new KmsError('InvalidParameter.Passphrase', 'Cancelled at the prompt.'));
        if (byte === 0x7f || byte === 0x08) chunks.pop();
        else chunks.push(byte);
      }
      data.fill(0);
    };
    stdin.on('data', onData);
  });
}
