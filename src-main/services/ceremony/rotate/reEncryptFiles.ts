/**
 * ReEncryptFiles: after a rotation, ciphertext made under the previous key is moved to the alias's
 * new key without its plaintext leaving the main process (each blob through ReEncrypt, one
 * transaction and audit entry each). Each input file holds one base64 CiphertextBlob; the result
 * goes beside it as `<file>.reencrypted`, never over an existing file, and only once every blob has
 * been re-encrypted (all files written, or none). Plan, compute, record, publish: the names are
 * checked free first, every blob is re-encrypted, the outputs are staged and one more entry
 * (ReEncryptFiles) names each with its SHA-256 before any takes its final name.
 */
import { basename, resolve } from 'node:path';
import { KmsError } from '../../../../src-shared/errors';
import type { OperationInput, OperationOutput } from '../../../../src-shared/contract/operations';
import { appendAudit } from '../../audit/auditLog';
import { outputFilesDetail, planRecordedOutputs, publishRecorded, recordWithStaging, staleReport } from '../../audit/outputRecord';
import { reEncrypt } from '../../kms/symmetric';
import { now, type KmsContext } from '../../kms/context';
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
  const blobs = await Promise.all(files.map(readBlob));
  const plan = await planRecordedOutputs(kms, outputs, requestId);
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
      Sha256: '',
    });
  }
  throwIfCancelled(control, OP);
  const { staged } = await recordWithStaging(kms, async (tx, stage) => {
    const written = await stage(plan, writes);
    for (const [i, f] of written.files.entries()) results[i]!.Sha256 = f.sha256;
    await appendAudit(tx, { requestId, operation: OP, keyId: results[0]?.KeyId ?? null, details: { Files: files.length, OutputFiles: outputFilesDetail(written.files) } }, now(kms));
  });
  for (const st of staged) await publishRecorded(kms, st, { requestId, operation: OP, keyId: results[0]?.KeyId ?? null });
  control.progress({ Phase: 'Writing', Done: files.length, Total: files.length });
  return { Files: results, ...staleReport(plan) };
}
