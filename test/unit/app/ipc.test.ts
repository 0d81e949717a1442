/**
 * The IPC binding without Electron: plain objects stand in for ipcMain, the window and the
 * events (the transport), while the keystore behind them is real (a temp SQLCipher file), so
 * "the handler never ran" is shown by the keystore's state, not by a spy.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openHarness, PASSPHRASE, type Harness } from '../../support/kmsHarness';
import { bindIpc, trustedSender, type FrameLike, type IpcRegistry, type OwnWindow, type SenderEvent } from '../../../src-main/app/ipc';
import { channelOf, IPC_CHANNEL_PREFIX, PROGRESS_CHANNEL, type DispatchResult, type ProgressEvent } from '../../../src-shared/contract/api';
import { APP_OPERATION_NAMES } from '../../../src-shared/contract/names';
import { operationNamesFor, type OperationName, type OperationOutput } from '../../../src-shared/contract/operations';
import type { ErrorData } from '../../../src-shared/errors';

const RENDERER_URL = 'file:///opt/keyroom/out/renderer/index.html';
const DAY = 86_400_000;

/** An invoke event as ipcMain gives it: the sender is a webContents that can be sent to. */
type FakeEvent = SenderEvent & { readonly sender: FakeContents };
type Listener = (event: FakeEvent, ...args: unknown[]) => unknown;

/** ipcMain's handle/removeHandler contract: one handler per channel, a second one throws. */
class FakeIpc implements IpcRegistry<FakeEvent> {
  readonly handlers = new Map<string, Listener>();
  handleCalls = 0;
  handle(channel: string, listener: Listener): void {
    this.handleCalls++;
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, input) from `event`'s frame would get back. */
  async invoke(channel: string, event: FakeEvent, ...args: unknown[]): Promise<DispatchResult> {
    const listener = this.handlers.get(channel);
    assert.ok(listener, `no handler on ${channel}`);
    return (await listener(event, ...args)) as DispatchResult;
  }
}

/** A webContents: its main frame, and what was sent to it (webContents.send). */
class FakeContents {
  readonly sent: [string, unknown[]][] = [];
  destroyed = false;
  constructor(public mainFrame: FrameLike) {}
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push([channel, args]);
  }
}

function fakeWindow(url = RENDERER_URL): OwnWindow & { webContents: FakeContents; destroyed: boolean } {
  const win = {
    destroyed: false,
    isDestroyed: () => win.destroyed,
    webContents: new FakeContents({ url, parent: null }),
  };
  return win;
}

function eventFrom(contents: FakeContents, frame: FrameLike | null): FakeEvent {
  return { sender: contents, senderFrame: frame };
}

function ok<N extends OperationName>(r: DispatchResult, _name: N): OperationOutput<N> & { RequestId: string } {
  if (!r.ok) assert.fail(`${_name} failed: ${r.error.Code}: ${r.error.Message}`);
  return r.value as OperationOutput<N> & { RequestId: string };
}

function err(r: DispatchResult): ErrorData {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('IPC binding: channels', () => {
  it('registers exactly one handler per app operation, on keyroom:<Name>, and removes them all', () => {
    const ipc = new FakeIpc();
    const win = fakeWindow();
    // No keystore is touched here; a Session is only needed for its type.
    const unbind = bindIpc(ipc, { session: undefined as never, isTrustedSender: trustedSender(win, RENDERER_URL) });
    const expected = operationNamesFor('app').map((n) => `keyroom:${n}`);
    assert.equal(ipc.handleCalls, expected.length, 'one handle() call per operation');
    assert.deepEqual([...ipc.handlers.keys()].sort(), [...expected].sort());
    assert.ok(expected.length > 30 && expected.includes('keyroom:CreateKey') && expected.includes('keyroom:UnlockKeystore'));
    // The preload's name list (no zod) is the same list in the same order.
    assert.deepEqual([...APP_OPERATION_NAMES], operationNamesFor('app'));
    for (const n of operationNamesFor('app')) assert.equal(channelOf(n), IPC_CHANNEL_PREFIX + n);

    // ipcMain refuses a second handler: binding twice is a bug, and says so.
    assert.throws(() => bindIpc(ipc, { session: undefined as never, isTrustedSender: () => true }), /second handler/);
    assert.equal(ipc.handlers.size, expected.length, 'a failed second binding leaves the first intact');

    unbind();
    assert.equal(ipc.handlers.size, 0);
  });
});

describe('IPC binding: the sender check', () => {
  let h: Harness;
  const ipc = new FakeIpc();
  const win = fakeWindow();
  let keyId: string;
  before(async () => {
    h = await openHarness();
    bindIpc(ipc, { session: h.session, isTrustedSender: trustedSender(win, RENDERER_URL) });
    keyId = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
  });
  after(() => h.close());

  const untrusted: [string, () => FakeEvent][] = [
    ['another window (other webContents, even showing our bundle)', () => {
      const other = fakeWindow();
      return eventFrom(other.webContents, other.webContents.mainFrame);
    }],
    ['our window\'s frame, claimed by another webContents', () => eventFrom(fakeWindow().webContents, win.webContents.mainFrame)],
    ['a subframe of our window, showing our bundle', () =>
      eventFrom(win.webContents, { url: RENDERER_URL, parent: win.webContents.mainFrame })],
    ['a frame that is not our main frame but looks like it', () => eventFrom(win.webContents, { url: RENDERER_URL, parent: null })],
    ['no frame (navigated away or destroyed)', () => eventFrom(win.webContents, null)],
  ];
  const otherUrls = [
    'https://evil.example/index.html',
    'http://localhost:5173/',
    'file:///tmp/evil.html',
    'file:///opt/keyroom/out/renderer-evil/index.html',
    'file:///opt/keyroom/out/renderer/../../evil/index.html',
    'data:text/html,<script>1</script>',
    'about:blank',
    'not a url',
  ];

  it('refuses every call not from our window\'s main frame showing our bundle, and runs nothing', async () => {
    const cases: [string, () => FakeEvent][] = [...untrusted];
    for (const url of otherUrls) {
      cases.push([`our main frame showing ${url}`, () => {
        const frame = win.webContents.mainFrame as { url: string };
        frame.url = url;
        return eventFrom(win.webContents, win.webContents.mainFrame);
      }]);
    }
    for (const [what, makeEvent] of cases) {
      const before = await h.state();
      const event = makeEvent();
      for (const [name, input] of [
        ['CreateKey', {}],
        ['DisableKey', { KeyId: keyId }],
        ['ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 }],
        ['LockKeystore', {}],
        ['InitKeystore', { Passphrase: PASSPHRASE }],
      ] as const) {
        const e = err(await ipc.invoke(channelOf(name), event, input));
        assert.equal(e.Code, 'Rejected.Sender', `${what}: ${name}`);
        assert.match(e.Message, /refused/);
        assert.ok(e.RequestId);
      }
      (win.webContents.mainFrame as { url: string }).url = RENDERER_URL;
      assert.equal(h.session.isOpen, true, `${what}: LockKeystore did not run`);
      assert.equal(await h.state(), before, `${what}: the keystore is unchanged`);
      assert.equal((await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState, 'Enabled', what);
    }
  });

  it('refuses every call once the window is destroyed, or when the check itself throws', async () => {
    const before = await h.state();
    win.destroyed = true;
    try {
      assert.equal(err(await ipc.invoke(channelOf('CreateKey'), eventFrom(win.webContents, win.webContents.mainFrame), {})).Code, 'Rejected.Sender');
    } finally {
      win.destroyed = false;
    }
    const throwing = new FakeIpc();
    const unbind = bindIpc(throwing, {
      session: h.session,
      isTrustedSender: () => {
        throw new Error('Object has been destroyed');
      },
    });
    assert.equal(err(await throwing.invoke(channelOf('CreateKey'), eventFrom(win.webContents, win.webContents.mainFrame), {})).Code, 'Rejected.Sender');
    unbind();
    assert.equal(await h.state(), before);
  });

  it('accepts our main frame on any page of the bundle (hash routes included)', () => {
    const check = trustedSender(win, RENDERER_URL);
    for (const url of [RENDERER_URL, `${RENDERER_URL}#/keys/abc`, 'file:///opt/keyroom/out/renderer/other.html']) {
      const frame = win.webContents.mainFrame as { url: string };
      frame.url = url;
      assert.equal(check(eventFrom(win.webContents, win.webContents.mainFrame)), true, url);
    }
    (win.webContents.mainFrame as { url: string }).url = RENDERER_URL;
    assert.throws(() => trustedSender(win, 'https://keyroom.example/index.html'), /file:\/\/ bundle or a loopback dev server/);
    const dev = fakeWindow('http://localhost:5173/#/keys');
    assert.equal(trustedSender(dev, 'http://localhost:5173/')(eventFrom(dev.webContents, dev.webContents.mainFrame)), true);
  });
});

describe('IPC binding: trusted calls', () => {
  let h: Harness;
  const ipc = new FakeIpc();
  const win = fakeWindow();
  const call = (name: OperationName, input: unknown, ...extra: unknown[]) =>
    ipc.invoke(channelOf(name), eventFrom(win.webContents, win.webContents.mainFrame), input, ...extra);
  before(async () => {
    h = await openHarness();
    bindIpc(ipc, { session: h.session, isTrustedSender: trustedSender(win, RENDERER_URL) });
  });
  after(() => h.close());

  it('returns the contract\'s validation error as data, and changes nothing', async () => {
    const before = await h.state();
    const spec = err(await call('CreateKey', { KeySpec: 'RSA_1024' }));
    assert.equal(spec.Code, 'InvalidParameter.KeySpec');
    assert.match(spec.Message, /KeySpec/);
    assert.equal(err(await call('DescribeKey', {})).Code, 'MissingParameter');
    assert.match(err(await call('CreateKey', { Nope: 1 })).Message, /unknown parameter\(s\): Nope/i);
    assert.equal(err(await call('CreateKey', 'not an object')).Code, 'InvalidParameter');
    assert.equal(err(await call('CreateKey', { Description: 5 })).Code, 'InvalidParameter');
    assert.equal(await h.state(), before);
  });

  it('runs CreateKey then DescribeKey end to end; only the first argument is the input', async () => {
    const created = ok(await call('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', Description: 'via IPC' }, { Description: 'ignored' }), 'CreateKey');
    assert.match(created.RequestId, /^[0-9a-f-]{36}$/);
    const described = ok(await call('DescribeKey', { KeyId: created.KeyMetadata.KeyId }), 'DescribeKey');
    assert.deepEqual(described.KeyMetadata, created.KeyMetadata);
    assert.equal(described.KeyMetadata.Description, 'via IPC');
    assert.equal(described.KeyMetadata.KeySpec, 'EC_P256');
  });

  it('keeps one keystore session: status, lock, wrong passphrase, unlock with due work', async () => {
    const status = ok(await call('GetKeystoreStatus', {}), 'GetKeystoreStatus');
    assert.deepEqual({ ...status, RequestId: undefined }, { Keystore: h.path, Exists: true, Unlocked: true, RequestId: undefined });

    const { KeyMetadata: doomed } = ok(await call('CreateKey', {}), 'CreateKey');
    ok(await call('ScheduleKeyDeletion', { KeyId: doomed.KeyId, PendingWindowInDays: 7 }), 'ScheduleKeyDeletion');

    assert.equal(ok(await call('LockKeystore', {}), 'LockKeystore').Keystore, h.path);
    assert.equal(h.session.isOpen, false);
    assert.equal(ok(await call('GetKeystoreStatus', {}), 'GetKeystoreStatus').Unlocked, false);
    assert.equal(err(await call('DescribeKey', { KeyId: doomed.KeyId })).Code, 'Keystore.Locked');
    assert.equal(ok(await call('LockKeystore', {}), 'LockKeystore').Keystore, h.path, 'locking a locked keystore is fine');

    const wrong = err(await call('UnlockKeystore', { Passphrase: 'not the passphrase' }));
    assert.equal(wrong.Code, 'IncorrectPassphrase');
    assert.ok(!wrong.Message.includes('not the passphrase'));
    assert.equal(err(await call('UnlockKeystore', {})).Code, 'MissingParameter');
    assert.equal(h.session.isOpen, false);

    h.clock.now = new Date(h.clock.now.getTime() + 8 * DAY);
    const unlocked = ok(await call('UnlockKeystore', { Passphrase: PASSPHRASE }), 'UnlockKeystore');
    assert.equal(unlocked.Keystore, h.path);
    assert.deepEqual(unlocked.DestroyedKeys, [doomed.KeyId], 'what fell due while locked is carried out on unlocking');
    assert.deepEqual(unlocked.ExpiredMaterial, []);
    assert.deepEqual(unlocked.DeferredKeys, []);
    assert.equal(h.session.isOpen, true);
    assert.equal(err(await call('DescribeKey', { KeyId: doomed.KeyId })).Code, 'NotFound.Key');
    assert.equal(ok(await call('VerifyAuditLog', {}), 'VerifyAuditLog').Valid, true);
  });

  it('InitKeystore refuses an existing keystore, and leaves the open one open', async () => {
    const before = await h.state();
    assert.equal(err(await call('InitKeystore', { Passphrase: PASSPHRASE })).Code, 'Keystore.AlreadyExists');
    assert.equal(h.session.isOpen, true);
    assert.equal(await h.state(), before);
  });

  it('sends the progress of a call with an OperationId to the calling webContents only, on keyroom:progress', async () => {
    const file = join(h.dir, 'three-mib.bin');
    writeFileSync(file, randomBytes(3 * 1024 * 1024));
    const other = fakeWindow();
    win.webContents.sent.length = 0;
    const OperationId = randomUUID();
    const r = ok(await call('DigestFile', { InputFile: file, Algorithm: 'SHA_256', OperationId }), 'DigestFile');
    assert.equal(r.Size, 3 * 1024 * 1024);
    const sent = win.webContents.sent;
    assert.ok(sent.length >= 2, 'a first and a last event at least');
    for (const [channel, args] of sent) {
      assert.equal(channel, PROGRESS_CHANNEL);
      assert.equal(args.length, 1, 'the event alone');
      const ev = args[0] as ProgressEvent;
      assert.equal(ev.OperationId, OperationId);
      assert.equal(ev.Operation, 'DigestFile');
      assert.equal(ev.Phase, 'Hashing');
    }
    assert.deepEqual(sent.at(-1)?.[1][0], { OperationId, Operation: 'DigestFile', Phase: 'Hashing', Done: r.Size, Total: r.Size });
    assert.deepEqual(other.webContents.sent, [], 'no other window hears of it');

    // Without an OperationId there is nothing to follow, so nothing is sent.
    sent.length = 0;
    ok(await call('DigestFile', { InputFile: file, Algorithm: 'SHA_256' }), 'DigestFile');
    assert.deepEqual(sent, []);

    // A window closed mid-call: the events stop, the call still answers.
    win.webContents.destroyed = true;
    try {
      assert.equal(ok(await call('DigestFile', { InputFile: file, Algorithm: 'SM3', OperationId: randomUUID() }), 'DigestFile').Size, r.Size);
    } finally {
      win.webContents.destroyed = false;
    }
    assert.deepEqual(sent, []);
  });

  it('CancelOperation over IPC stops the caller\'s operation, which answers Cancelled', async () => {
    const before = await h.state();
    const OperationId = randomUUID();
    const created = call('CreateKey', { KeySpec: 'RSA_4096', KeyUsage: 'SIGN/VERIFY', OperationId });
    const cancel = ok(await call('CancelOperation', { OperationId }), 'CancelOperation');
    assert.equal(cancel.Cancelled, true);
    const e = err(await created);
    assert.equal(e.Code, 'Cancelled');
    assert.match(e.Message, /nothing was written/);
    assert.equal(await h.state(), before);
    assert.equal(err(await call('CancelOperation', { OperationId })).Code, 'NotFound.Operation', 'it is over');
  });
});
