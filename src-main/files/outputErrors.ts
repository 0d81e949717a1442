/**
 * File-system errors on an output, mapped once: each errno the writer can meet gets its own code
 * and a sentence naming the path and what to do. Never Internal, never Keystore.Io.
 */
import { KmsError, type ErrorCode } from '../../src-shared/errors';

export function errnoOf(e: unknown): string | undefined {
  const code: unknown = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** link(2) refused because the file system has no hard links (FAT, exFAT): the placeholder route is taken. */
export function isNoHardLinks(e: unknown): boolean {
  const code = errnoOf(e);
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS';
}

/**
 * The KmsError for a failed file-system call on `path`. A KmsError passes through; `missingFolder`
 * is the code for a folder that is not there (InvalidParameter.OutputFile or .OutputDir).
 */
export function outputError(e: unknown, path: string, missingFolder: ErrorCode = 'InvalidParameter.OutputFile'): KmsError {
  if (e instanceof KmsError) return e;
  const code = errnoOf(e);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return new KmsError('Io.DiskFull', `The disk holding ${path} is full (${code}); free some space or choose another disk. Nothing was left under the final name.`);
    case 'EROFS':
      return new KmsError('Io.ReadOnly', `${path} is on a read-only disk (EROFS); unlock the medium (write-protect switch) or choose another folder.`);
    case 'EACCES':
    case 'EPERM':
      return new KmsError('Io.PermissionDenied', `Keyroom may not write ${path} (${code}); choose a folder you can write to, or change its permissions.`);
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
    case 'ENOSYS':
    case 'EXDEV':
      return new KmsError('Io.NotSupported', `The file system holding ${path} cannot do what Keyroom needs (${code}); choose a folder on another disk.`);
    case 'EEXIST':
      return new KmsError('AlreadyExists.File', `${path} exists; Keyroom never overwrites a file. Move it away or choose another name.`);
    case 'ENOENT':
    case 'ENOTDIR':
      return new KmsError(missingFolder, `The folder for ${path} does not exist; create it first or choose another path.`);
    case 'ENAMETOOLONG':
      return new KmsError(missingFolder, `The name ${path} is too long for its file system; choose a shorter one.`);
    case 'EISDIR':
      return new KmsError(missingFolder, `${path} is a folder; give the path of a new file.`);
    default:
      return new KmsError('Io.Failed', `Writing ${path} failed (${code ?? 'error'}); the medium may be failing or was removed. Check it, or choose another.`);
  }
}
