/**
 * ReEncryptFiles: after a rotation, ciphertext made under the previous key is moved to the alias's
 * new key without its plaintext leaving the main process (each blob through ReEncrypt, one
 * transaction and audit entry each). Each input file holds one base64 CiphertextBlob; the result
 * goes beside it as `<file>.reencrypted`, never over an existing file, and only once every blob has
 * been re-encrypted (all files written, or none).
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { writeAllExclusive } from '../../../files/exclusiveFile';
import { reEncrypt } from '../../kms/symmetric';
import type { KmsContext } from '../../kms/context';
import { throwIfCancelled, type OperationControl } from '../../operationControl';
import { unreadable } from '../../../files/readFile';
import { readSmallFile } from '../../../files/readBounded';

const OP = 'ReEncryptFiles';
/** A CiphertextBlob file is small; a bigger one is not one. */
const MAX_BLOB_FILE_BYTES = 2 * 1024 * 1024;
const SUFFIX = '.reencrypted';

async function readBlob(path: string): Promise<string> {
  // Regular files only, checked after opening too (no wait on a FIFO), and at most one blob's size.
  const text = (
    await readSmallFile(path, MAX_BLOB_FILE_BYTES, (why) =>
      /bytes/.test(why) ? new KmsError('InvalidParameter.InputFile', `${path} is not a file holding one CiphertextBlob: ${why}.`) : unreadable(path, why),
    )
  )
    .toString('utf8')
    .trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new KmsError('InvalidParameter.InputFile', `${path} does not hold one base64 CiphertextBlob.`);
  return text;
}

export async function reEncryptFiles(kms: KmsContext, input: OperationInput<'ReEncryptFiles'>, requestId: string, control: OperationControl): Promise<OperationOutput<'ReEncryptFiles'>> {
  const files = input.File.map((f) => resolve(f));
  if (new Set(files).size !== files.length) throw new KmsError('InvalidParameter.InputFile', 'A file is named twice.');
  const outputs = files.map((f) => `${f}${SUFFIX}`);
  for (const o of outputs) {
    if (await stat(o).then(() => true, () => false)) throw new KmsError('AlreadyExists.File', `${o} exists; Keyroom never overwrites a file. Move it away first.`);
  }
  const blobs = await Promise.all(files.map(readBlob));
  const results: OperationOutput<'ReEncryptFiles'>['Files'] = [];
  const writes: { path: string; content: string }[] = [];
  for (const [i, file] of files.entries()) {
    throwIfCancelled(control, OP);
    control.progress({ Phase: 'Writing', Done: i, Total: files.length, Item: basename(file) });
    const r = await reEncrypt(
      kms,
      {
        CiphertextBlob: blobs[i]!,
        DestinationKeyId: input.DestinationKeyId,
        ...(input.SourceEncryptionContext ? { SourceEncryptionContext: input.SourceEncryptionContext } : {}),
        ...(input.DestinationEncryptionContext ? { DestinationEncryptionContext: input.DestinationEncryptionContext } : {}),
      },
      requestId,
    );
    const content = `${r.CiphertextBlob}\n`;
    writes.push({ path: outputs[i]!, content });
    results.push({
      File: file,
      OutputFile: outputs[i]!,
      SourceKeyId: r.SourceKeyId,
      KeyId: r.KeyId,
      KeyVersionId: r.KeyVersionId,
      Sha256: createHash('sha256').update(content).digest('hex'),
    });
  }
  throwIfCancelled(control, OP);
  await writeAllExclusive(writes);
  control.progress({ Phase: 'Writing', Done: files.length, Total: files.length });
  return { Files: results };
}
