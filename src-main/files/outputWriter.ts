/**
 * The one writer for every file Keyroom produces (signatures, public keys, manifests, requests,
 * wrapped material, backups, audit exports). It works in four steps so that a service can record
 * an output before it exists:
 *
 *   planOutputs   folders exist and are safe (folderSafety), every name is free, stale
 *                 temporaries of earlier runs are removed (and reported);
 *   stageOutputs  each content goes to a temporary in its final folder, is fsynced, then read
 *                 back and hashed: that SHA-256 is what the audit entry records;
 *   (the service commits its audit entries)
 *   publishOutputs each temporary takes its final name without ever replacing a file: link(2),
 *                 which fails on an existing name; where the file system has no hard links (FAT,
 *                 exFAT) an empty placeholder reserves the name (O_EXCL) and the temporary is
 *                 renamed over it once the placeholder is checked to be still ours. The folder is
 *                 fsynced and each final file read back and compared with the staged hash;
 *   discardOutputs removes the temporaries on any failure before the record.
 *
 * A crash at any moment leaves under a final name either the complete file or nothing (at worst
 * an empty placeholder, which the next run removes when the audit log proves it is ours).
 * Known limit: on FAT the check of the placeholder and the rename are two calls; a process that
 * replaces the placeholder between them would lose its file (rename(2) has no "no replace" flag
 * that Node can reach). The folder check keeps other users out of that window.
 */
import { link, lstat, open, rename, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { KmsError, type ErrorCode } from '../../src-shared/errors';
import { assertSafeFolder } from './folderSafety';
import { errnoOf, isNoHardLinks, outputError } from './outputErrors';
import { finalStateOf, findStaleTemporaries, markDone, markLive, removeQuietly, sha256OfFile, temporaryPath } from './temporaries';

/** What the audit log knows, for telling Keyroom's own leftovers from other files. */
export interface StaleAudit {
  /** Whether a committed audit entry of `requestId` names `path` as an output. */
  recorded(requestId: string, path: string): Promise<boolean>;
  /** Record that these recorded outputs never reached their final names (a crash between record and publish). */
  notPublished(items: readonly { requestId: string; path: string }[]): Promise<void>;
}

export interface PlanOptions {
  /** The code for a folder that does not exist: InvalidParameter.OutputFile (default) or .OutputDir. */
  missingFolder?: ErrorCode;
  stale?: StaleAudit;
}

export interface OutputPlan {
  readonly requestId: string;
  readonly paths: readonly string[];
  /** Leftovers of earlier, interrupted runs that this plan removed. */
  readonly removedStaleFiles: string[];
  /** What the plan found and left alone (an empty file it cannot prove is its own placeholder). */
  readonly warnings: string[];
}

/** A buffer or text; a writer that streams into the handle; or a producer that fills the path itself (SQLite's VACUUM INTO). */
export type OutputContent = Uint8Array | string | { write(handle: FileHandle): Promise<void> } | { fill(tempPath: string): Promise<void> };

export interface StagedOutput {
  path: string;
  temp: string;
  sha256: string;
  size: number;
}

export interface StagedOutputs {
  readonly plan: OutputPlan;
  readonly files: readonly StagedOutput[];
}

export interface PublishedOutput {
  path: string;
  /** Read back from the published file after fsync. */
  sha256: string;
  size: number;
}

async function folderStat(dir: string, missingFolder: ErrorCode): Promise<Stats> {
  const st = await stat(dir).catch((e: unknown) => {
    throw errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR'
      ? new KmsError(missingFolder, `The folder ${dir} does not exist; create it first (on the removable medium) or choose another.`)
      : outputError(e, dir, missingFolder);
  });
  if (!st.isDirectory()) throw new KmsError(missingFolder, `${dir} is not a folder; create it first or choose another.`);
  return st;
}

async function removeStale(dir: string, plan: OutputPlan, audit: StaleAudit | undefined): Promise<void> {
  const notPublished: { requestId: string; path: string }[] = [];
  for (const t of await findStaleTemporaries(dir)) {
    const state = await finalStateOf(t);
    const recorded = !t.journal && audit ? await audit.recorded(t.requestId, t.finalPath) : false;
    if (state === 'placeholder') {
      // Placeholders exist only after the record was committed: one whose request recorded this
      // name is ours; any other empty file is left alone.
      if (recorded) {
        if (await removeQuietly(t.finalPath)) plan.removedStaleFiles.push(t.finalPath);
      } else if (!t.journal) {
        plan.warnings.push(`${t.finalPath} is empty and may be a placeholder of an interrupted Keyroom run; it was left alone. Remove it if it is not yours.`);
      }
    }
    if (await removeQuietly(t.path)) plan.removedStaleFiles.push(t.path);
    if (recorded && (state === 'absent' || state === 'placeholder')) notPublished.push({ requestId: t.requestId, path: t.finalPath });
  }
  if (notPublished.length > 0) await audit?.notPublished(notPublished);
}

/**
 * Check every output before anything is computed: folders exist and are safe, names are free
 * (after removing this folder's stale temporaries).
 * @throws KmsError InvalidParameter.OutputFile/OutputDir, Rejected.UnsafeFolder, AlreadyExists.File, Io.*
 */
export async function planOutputs(paths: readonly string[], requestId: string, options: PlanOptions = {}): Promise<OutputPlan> {
  const missingFolder = options.missingFolder ?? 'InvalidParameter.OutputFile';
  const abs = paths.map((p) => resolve(p));
  if (new Set(abs).size !== abs.length) throw new KmsError(missingFolder, 'Two outputs would get the same file name; choose separate names or folders.');
  const plan: OutputPlan = { requestId, paths: abs, removedStaleFiles: [], warnings: [] };
  const dirs = [...new Set(abs.map((p) => dirname(p)))];
  for (const dir of dirs) assertSafeFolder(dir, await folderStat(dir, missingFolder));
  for (const dir of dirs) await removeStale(dir, plan, options.stale);
  for (const p of abs) {
    const taken = await lstat(p).then(
      () => true,
      (e: unknown) => {
        if (errnoOf(e) === 'ENOENT') return false;
        throw outputError(e, p, missingFolder);
      },
    );
    if (taken) throw new KmsError('AlreadyExists.File', `${p} exists; Keyroom never overwrites a file. Move it away or choose another name or folder.`);
  }
  return plan;
}

async function writeTemp(temp: string, content: OutputContent): Promise<void> {
  const handle = await open(temp, 'wx', 0o600);
  const bytes = typeof content === 'string' || content instanceof Uint8Array ? content : undefined;
  const producer = bytes === undefined ? (content as Exclude<OutputContent, string | Uint8Array>) : undefined;
  try {
    if (bytes !== undefined) await handle.writeFile(bytes);
    else if (producer && 'write' in producer) await producer.write(handle);
  } finally {
    await handle.close();
  }
  if (producer && 'fill' in producer) await producer.fill(temp);
  const again = await open(temp, 'r+');
  try {
    await again.sync();
  } finally {
    await again.close();
  }
}

/**
 * Write each content to its temporary, fsync, read back and hash. Every path must be in the plan.
 * On failure every temporary is removed and nothing exists under a final name.
 */
export async function stageOutputs(plan: OutputPlan, contents: readonly { path: string; content: OutputContent }[]): Promise<StagedOutputs> {
  const files: StagedOutput[] = [];
  const temps: string[] = [];
  let current = plan.paths[0] ?? '';
  try {
    for (const { path: given, content } of contents) {
      const path = resolve(given);
      current = path;
      if (!plan.paths.includes(path)) throw new KmsError('Internal', `${path} was not planned as an output.`);
      const temp = temporaryPath(dirname(path), basename(path), plan.requestId);
      markLive(temp);
      temps.push(temp);
      await writeTemp(temp, content);
      const back = await sha256OfFile(temp);
      if (typeof content === 'string' || content instanceof Uint8Array) {
        const expected = createHash('sha256').update(content).digest('hex');
        if (expected !== back.sha256) throw new KmsError('Io.Failed', `${temp} read back different from what was written; the medium may be failing. Choose another.`);
      }
      files.push({ path, temp, ...back });
    }
  } catch (e) {
    await removeTemporaries(temps);
    throw outputError(e, current);
  }
  return { plan, files };
}

async function removeTemporaries(temps: readonly string[]): Promise<void> {
  for (const t of temps) {
    await removeQuietly(t);
    await removeQuietly(`${t}-journal`);
    markDone(t);
  }
}

/** Remove what stage wrote (any failure before the record is committed). */
export async function discardOutputs(staged: StagedOutputs): Promise<void> {
  await removeTemporaries(staged.files.map((f) => f.temp));
}

interface Placed {
  path: string;
  dev: number;
  ino: number;
}

async function sameFile(p: Placed): Promise<Stats | undefined> {
  const st = await lstat(p.path).catch(() => undefined);
  return st && st.dev === p.dev && st.ino === p.ino ? st : undefined;
}

function appeared(path: string): KmsError {
  return new KmsError('AlreadyExists.File', `A file appeared at ${path} while Keyroom was writing; it was left untouched. Move it away and run the operation again.`);
}

/** Put `temp` at `path`, never over a file; `placed` learns each name this call took, as soon as it takes it. */
async function putInPlace(temp: string, path: string, placed: Placed[]): Promise<void> {
  try {
    await link(temp, path);
    const st = await lstat(path);
    placed.push({ path, dev: st.dev, ino: st.ino });
    await removeQuietly(temp);
    return;
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') throw appeared(path);
    if (!isNoHardLinks(e)) throw outputError(e, path);
  }
  // No hard links (FAT, exFAT): reserve the name with an empty file only we created.
  const handle = await open(path, 'wx', 0o600).catch((e: unknown) => {
    throw errnoOf(e) === 'EEXIST' ? appeared(path) : outputError(e, path);
  });
  let mine: Stats;
  try {
    mine = await handle.stat();
  } finally {
    await handle.close();
  }
  const entry: Placed = { path, dev: mine.dev, ino: mine.ino };
  placed.push(entry);
  const now = await sameFile(entry);
  if (!now || !now.isFile() || now.size !== 0) {
    placed.pop(); // not ours any more: never removed by us
    throw appeared(path);
  }
  await rename(temp, path);
  const st = await lstat(path);
  entry.dev = st.dev;
  entry.ino = st.ino;
}

async function fsyncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (e) {
    // Some file systems cannot fsync a folder (EINVAL); their entries are written with the file.
    if (errnoOf(e) !== 'EINVAL' && errnoOf(e) !== 'EISDIR' && errnoOf(e) !== 'ENOTSUP' && errnoOf(e) !== 'EOPNOTSUPP') throw e;
  } finally {
    await handle.close();
  }
}

/**
 * Put every staged file at its final name, fsync the folders, read each back and compare with the
 * staged hash. On any failure what this call put in place is removed again (only while it is
 * still the file this call made), the temporaries are removed, and the error is thrown.
 * @throws KmsError AlreadyExists.File (a name taken since the plan), Io.Failed (read back different), Io.*
 */
export async function publishOutputs(staged: StagedOutputs): Promise<PublishedOutput[]> {
  const placed: Placed[] = [];
  let current = staged.files[0]?.path ?? '';
  try {
    for (const f of staged.files) {
      current = f.path;
      await putInPlace(f.temp, f.path, placed);
    }
    for (const dir of new Set(staged.files.map((f) => dirname(f.path)))) {
      current = dir;
      await fsyncFolder(dir);
    }
    const out: PublishedOutput[] = [];
    for (const f of staged.files) {
      current = f.path;
      const back = await sha256OfFile(f.path);
      if (back.sha256 !== f.sha256 || back.size !== f.size) {
        throw new KmsError('Io.Failed', `${f.path} read back different from what was recorded (SHA-256 ${back.sha256}, not ${f.sha256}); it was removed. The medium may be failing, or something changed the file.`);
      }
      out.push({ path: f.path, ...back });
    }
    return out;
  } catch (e) {
    for (const p of placed) if (await sameFile(p)) await removeQuietly(p.path);
    throw outputError(e, current);
  } finally {
    await removeTemporaries(staged.files.map((f) => f.temp));
  }
}

