/**
 * Files Keyroom writes for the operator: never over an existing file, never half-written under
 * the final name. Content goes to a temporary file in the same folder, is fsynced, then linked
 * to the final name (link(2) fails if the name exists, unlike rename(2)), and the temporary
 * name is removed.
 */
import { randomBytes } from 'node:crypto';
import { open, link, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KmsError } from '../../src-shared/errors';

export async function writeExclusive(finalPath: string, write: (h: FileHandle) => Promise<void>): Promise<void> {
  const temp = join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.partial`);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KmsError('InvalidParameter.OutputFile', `The folder ${dirname(finalPath)} does not exist; create it first or choose another path.`);
    throw new KmsError('Keystore.Io', `Cannot write in ${dirname(finalPath)}: ${code ?? 'error'}.`);
  }
  try {
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, finalPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new KmsError('AlreadyExists.File', `${finalPath} exists; choose a new file name (Keyroom never overwrites a file).`);
      }
      throw new KmsError('Keystore.Io', `Cannot create ${finalPath}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Several files, all or nothing: each written as writeExclusive does, and if one cannot be, the
 * ones this call already wrote are removed before the error goes on.
 */
export async function writeAllExclusive(files: readonly { path: string; content: Uint8Array | string }[]): Promise<void> {
  const written: string[] = [];
  try {
    for (const f of files) {
      await writeExclusive(f.path, (h) => h.writeFile(f.content));
      written.push(f.path);
    }
  } catch (e) {
    await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  }
}
