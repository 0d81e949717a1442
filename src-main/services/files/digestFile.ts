/**
 * DigestFile: hash a file as a stream (1 MiB reads, constant memory whatever its size), with
 * progress in bytes and a prompt stop on cancel. The digest is what AsymmetricSign then signs.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { DigestAlgorithm } from '../../../src-shared/contract/types';
import type { OperationInput, OperationOutput } from '../../../src-shared/contract/operations';
import { createSm3 } from '../../crypto/sm3';
import { throwIfCancelled, type OperationControl } from '../operationControl';
import { streamFile } from '../../files/readFile';

interface StreamingHash {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

/** SM3 through crypto/sm3.ts: Electron's BoringSSL has no createHash('sm3'). */
function hashFor(algorithm: DigestAlgorithm): StreamingHash {
  if (algorithm === 'SM3') return createSm3();
  return createHash(algorithm === 'SHA_256' ? 'sha256' : 'sha384');
}

export async function digestFile(input: OperationInput<'DigestFile'>, control: OperationControl): Promise<OperationOutput<'DigestFile'>> {
  const path = resolve(input.InputFile);
  throwIfCancelled(control, 'DigestFile');
  const hash = hashFor(input.Algorithm);
  const size = await streamFile(path, [hash], () => throwIfCancelled(control, 'DigestFile'), (done, total) => control.progress({ Phase: 'Hashing', Done: done, Total: total }));
  control.progress({ Phase: 'Hashing', Done: size, Total: size });
  return { InputFile: path, Size: size, Algorithm: input.Algorithm, Digest: hash.digest('hex') };
}
