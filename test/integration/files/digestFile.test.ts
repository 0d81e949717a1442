/**
 * DigestFile through dispatch, as every front door calls it: the digest OpenSSL computes
 * (`openssl dgst -sha256/-sha384/-sm3`), progress in bytes that only grows and ends at the file's
 * size, a cancel that stops the read at once, and a clear InvalidParameter.InputFile for anything
 * that is not a readable regular file. Also the operations registry itself: ids, throttling.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { Session } from '../../../src-main/services/session';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { OperationsUnderWay, PROGRESS_INTERVAL_MS } from '../../../src-main/handlers/operationsUnderWay';
import type { DispatchResult, ProgressEvent } from '../../../src-shared/contract/api';
import type { OperationOutput } from '../../../src-shared/contract/operations';
import type { ErrorData } from '../../../src-shared/errors';
import { openssl } from '../../support/openssl';

const MiB = 1024 * 1024;

function ok(r: DispatchResult): OperationOutput<'DigestFile'> & { RequestId: string } {
  if (!r.ok) assert.fail(`refused: ${r.error.Code}: ${r.error.Message}`);
  return r.value as OperationOutput<'DigestFile'> & { RequestId: string };
}

function refused(r: DispatchResult, code: string): ErrorData {
  assert.equal(r.ok, false, `expected ${code}`);
  if (r.ok) throw new Error('unreachable');
  assert.equal(r.error.Code, code, r.error.Message);
  return r.error;
}

/** The open file descriptors of this process (Linux): a cancelled read must close its file. */
function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe('DigestFile', () => {
  let dir: string;
  let session: Session;
  let file5: string;

  before(() => {
    dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-digest-'));
    // DigestFile needs no keystore: the session's path is never created.
    session = new Session({ keystorePath: nodePath.join(dir, 'keystore.db') });
    file5 = nodePath.join(dir, 'five-mib.bin');
    fs.writeFileSync(file5, randomBytes(5 * MiB));
  });
  after(async () => {
    await session.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives the digest OpenSSL gives, for SHA_256, SHA_384 and SM3, with the absolute path and size', async () => {
    for (const [Algorithm, flag] of [
      ['SHA_256', '-sha256'],
      ['SHA_384', '-sha384'],
      ['SM3', '-sm3'],
    ] as const) {
      const r = ok(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm }));
      const expected = openssl(['dgst', flag, '-r', file5]).toString('utf8').split(' ')[0];
      assert.equal(r.Digest, expected, Algorithm);
      assert.deepEqual({ ...r, Digest: undefined, RequestId: undefined }, { InputFile: file5, Size: 5 * MiB, Algorithm, Digest: undefined, RequestId: undefined });
    }
    // A relative path is the working directory's, and answered as an absolute path.
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = ok(await dispatch(session, 'DigestFile', { InputFile: 'five-mib.bin', Algorithm: 'SHA_256' }));
      assert.equal(r.InputFile, file5);
    } finally {
      process.chdir(cwd);
    }
    // The empty file has a digest too.
    const empty = nodePath.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    const r = ok(await dispatch(session, 'DigestFile', { InputFile: empty, Algorithm: 'SM3' }));
    assert.deepEqual([r.Size, r.Digest], [0, openssl(['dgst', '-sm3', '-r', empty]).toString('utf8').split(' ')[0]]);
    assert.equal(fs.existsSync(nodePath.join(dir, 'keystore.db')), false, 'no keystore was made');
  });

  it('reports progress for its OperationId: Hashing, Done growing to Total, the file size', async () => {
    const OperationId = randomUUID();
    const events: ProgressEvent[] = [];
    const r = ok(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_384', OperationId }, { onProgress: (e) => events.push(e) }));
    assert.ok(events.length >= 2, `a first and a last event at least (${events.length})`);
    for (const e of events) {
      assert.deepEqual({ ...e, Done: undefined }, { OperationId, Operation: 'DigestFile', Phase: 'Hashing', Done: undefined, Total: 5 * MiB });
    }
    const done = events.map((e) => e.Done!);
    assert.equal(done[0], 0);
    for (let i = 1; i < done.length; i++) assert.ok(done[i]! > done[i - 1]!, `Done grows: ${done.join(', ')}`);
    assert.equal(done.at(-1), r.Size);
    // Without an OperationId, or without a listener, nothing is sent and nothing breaks.
    const quiet: ProgressEvent[] = [];
    ok(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_256' }, { onProgress: (e) => quiet.push(e) }));
    ok(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_256', OperationId: randomUUID() }));
    assert.deepEqual(quiet, []);
    // A listener that throws (a window gone) does not fail the operation.
    const thrown = ok(
      await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_256', OperationId: randomUUID() }, {
        onProgress: () => {
          throw new Error('Object has been destroyed');
        },
      }),
    );
    assert.equal(thrown.Size, 5 * MiB);
  });

  it('a cancel stops a 64 MiB read at once: Cancelled, the file closed, its id free again', async () => {
    const big = nodePath.join(dir, 'sparse-64-mib.bin');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 64 * MiB);
    const fds = openFds();
    const OperationId = randomUUID();
    const events: ProgressEvent[] = [];
    let cancel: Promise<DispatchResult> | undefined;
    const r = await dispatch(session, 'DigestFile', { InputFile: big, Algorithm: 'SHA_256', OperationId }, {
      onProgress: (e) => {
        events.push(e);
        cancel ??= dispatch(session, 'CancelOperation', { OperationId });
      },
    });
    const e = refused(r, 'Cancelled');
    assert.match(e.Message, /DigestFile was cancelled.*nothing was written/);
    assert.ok(cancel);
    const answer = await cancel;
    assert.ok(answer.ok && (answer.value as OperationOutput<'CancelOperation'>).Cancelled === true, JSON.stringify(answer));
    assert.ok(events.length >= 1);
    assert.ok(events.every((ev) => ev.Done! < 64 * MiB), 'it never reached the end');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(openFds(), fds, 'the file was closed');
    refused(await dispatch(session, 'CancelOperation', { OperationId }), 'NotFound.Operation');
    // The id can be used again once its operation is over.
    assert.equal(ok(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_256', OperationId })).Size, 5 * MiB);
  });

  it('refuses an OperationId already under way, and CancelOperation of one that is not', async () => {
    const big = nodePath.join(dir, 'sparse-64-mib.bin');
    const OperationId = randomUUID();
    const first = dispatch(session, 'DigestFile', { InputFile: big, Algorithm: 'SM3', OperationId });
    const second = refused(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_256', OperationId }), 'InvalidParameter');
    assert.match(second.Message, /already under way/);
    ok(await dispatch(session, 'CancelOperation', { OperationId }));
    refused(await first, 'Cancelled');
    const unknown = refused(await dispatch(session, 'CancelOperation', { OperationId: randomUUID() }), 'NotFound.Operation');
    assert.match(unknown.Message, /finished already, or never started/);
    refused(await dispatch(session, 'CancelOperation', { OperationId: 'not-a-uuid' }), 'InvalidParameter');
    refused(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'SHA_256', OperationId: 'job-1' }), 'InvalidParameter');
    refused(await dispatch(session, 'DigestFile', { InputFile: file5, Algorithm: 'MD5' }), 'InvalidParameter.Algorithm');
    refused(await dispatch(session, 'DigestFile', { Algorithm: 'SHA_256' }), 'MissingParameter');
    // An operation that is not long-running takes no OperationId.
    refused(await dispatch(session, 'ListTokens', { OperationId }), 'InvalidParameter');
  });

  it('refuses a missing file, a folder, a device, a FIFO, a dangling link: InvalidParameter.InputFile', async () => {
    const fifo = nodePath.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const dangling = nodePath.join(dir, 'dangling');
    fs.symlinkSync(nodePath.join(dir, 'nowhere'), dangling);
    const below = nodePath.join(file5, 'below');
    const cases: [string, RegExp][] = [
      [nodePath.join(dir, 'missing.bin'), /there is no such file/],
      [dir, /it is a folder/],
      ['/dev/null', /not a regular file/],
      [fifo, /not a regular file/],
      [dangling, /there is no such file/],
      [below, /there is no such file/],
    ];
    const before = fs.readdirSync(dir).sort();
    for (const [path, why] of cases) {
      const e = refused(await dispatch(session, 'DigestFile', { InputFile: path, Algorithm: 'SHA_256', OperationId: randomUUID() }), 'InvalidParameter.InputFile');
      assert.match(e.Message, why, path);
      assert.ok(e.Message.includes(path), `${path}: the message names the file`);
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing was written');
  });
});

describe('the operations under way (registry)', () => {
  it('sends a phase change and the last step at once, and at most one event per interval otherwise', () => {
    const events: ProgressEvent[] = [];
    const registry = new OperationsUnderWay();
    const id = randomUUID();
    const op = registry.begin('DigestFile', id, (e) => events.push(e));
    op.progress({ Phase: 'Hashing', Done: 0, Total: 1000 });
    for (let done = 1; done < 1000; done++) op.progress({ Phase: 'Hashing', Done: done, Total: 1000 });
    op.progress({ Phase: 'Writing' });
    op.progress({ Phase: 'Writing' });
    op.progress({ Phase: 'Hashing', Done: 1000, Total: 1000 });
    op.progress({ Phase: 'Hashing', Done: 1000, Total: 1000 });
    // A thousand updates within far less than PROGRESS_INTERVAL_MS: the first, the phase changes, the end.
    assert.ok(PROGRESS_INTERVAL_MS >= 100);
    assert.deepEqual(
      events.map((e) => [e.Phase, e.Done]),
      [
        ['Hashing', 0],
        ['Writing', undefined],
        ['Hashing', 1000],
      ],
    );
    assert.equal(registry.size, 1);
    assert.equal(registry.cancel(id), true);
    assert.equal(op.signal.aborted, true);
    op.end();
    assert.equal(registry.size, 0);
    assert.equal(registry.cancel(id), false);
  });

  it('a call without an OperationId is not registered, and cannot be cancelled', () => {
    const registry = new OperationsUnderWay();
    const op = registry.begin('CreateKey', undefined, () => assert.fail('no progress without an OperationId'));
    op.progress({ Phase: 'Generating' });
    assert.equal(registry.size, 0);
    assert.equal(op.signal.aborted, false);
    op.end();
  });
});
