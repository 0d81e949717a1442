/**
 * Where the command line gets secrets: a file named by an option, an environment variable, or a
 * hidden prompt on a terminal. Never from an argument (argv is visible to every process).
 */
import { readSmallFile } from '../files/readBounded';
import { timingSafeEqual } from 'node:crypto';
import { KmsError } from '../../src-shared/errors';
import { canPrompt, promptHidden } from './prompt';

export interface SecretSource {
  /** The option that names a file holding the secret, e.g. --passphrase-file. */
  fileOption: string;
  filePath: string | undefined;
  envName: string;
  envValue: string | undefined;
  prompt: string;
  /** Ask twice and compare (a new passphrase). */
  confirm: boolean;
}

/**
 * The largest secret file taken: a passphrase has at most 1024 characters (the contract), 4 bytes
 * each in UTF-8, and a line end. A PIN is shorter still. Checked before a byte is read.
 */
const SECRET_FILE_MAX_BYTES = 1024 * 4 + 2;

function stripOneNewline(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}

export async function readSecret(src: SecretSource): Promise<Buffer> {
  if (src.filePath !== undefined) {
    // A FIFO, a device (/dev/zero) or a folder is refused at once, and a large file before it is read.
    const raw = await readSmallFile(src.filePath, SECRET_FILE_MAX_BYTES, (why) =>
      new KmsError('MissingParameter', `Cannot read ${src.fileOption} ${src.filePath}: ${why}. Give a regular file holding only the secret.`),
    );
    const secret = Buffer.from(stripOneNewline(raw));
    raw.fill(0);
    return secret;
  }
  if (src.envValue !== undefined) return Buffer.from(src.envValue, 'utf8');
  if (!canPrompt()) {
    throw new KmsError('MissingParameter', `No secret given: use ${src.fileOption} PATH or set ${src.envName} (or run on a terminal to be asked).`);
  }
  const first = await promptHidden(src.prompt);
  if (!src.confirm) return first;
  const second = await promptHidden('Type it again: ');
  const same = first.length === second.length && timingSafeEqual(first, second);
  second.fill(0);
  if (!same) {
    first.fill(0);
    throw new KmsError('InvalidParameter.Passphrase', 'The two entries differ; nothing was changed.');
  }
  return first;
}
