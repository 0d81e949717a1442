/**
 * The signing wizard against the real handler table and a real SoftHSM token, driven like an
 * operator: (a) three files, one of 1 GiB, signed beside themselves by an EC_P256 key made in the
 * token from inside the wizard (logged in on the Tokens screen), with a signed SHA256SUMS: the
 * progress panel is caught under way (a percent between 1 and 99, the big file's name); (b) a
 * folder standing for its three files, signed into an output folder by an RSA_2048 HSM key with
 * RSA_PSS_SHA_256, base64 copies and the manifest inside the folder; (c) an SM2 software key with a
 * custom distinguishing ID and a signed SM3SUMS. Every signature is judged by OpenSSL: each
 * VerifyCommand shown on screen runs through `sh -c` and must say "Verified OK"; manifests through
 * `sha256sum -c` in their folder and `openssl dgst -verify` over their .sig; every digest shown is
 * the file's own. Then what must write nothing: Cancel on the big file (no .sig, no manifest, no
 * public key), a second run into the same place (AlreadyExists.File shown on the review, files
 * unchanged), a missing file, an empty folder, a disabled key, each shown with its code.
 * The big files are deleted at the end. Screenshots: test-results/e2e/sign/.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { JSHandle, Locator, Page } from 'playwright-core';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { KeyMetadata } from '../../src-shared/contract/types';
import { SHELLS, openUiWorld, createKeystoreViaUi, ensureTokenLogin, type UiWorld, type UiWorldOptions } from './uiSteps';

/** Large enough that hashing it takes a visible while (600 MiB to 1 GiB asked for): 1 GiB. */
const BIG_BYTES = 1024 * 1024 * 1024;

/** A file of `bytes` bytes, written 1 MiB at a time from random bytes (each MiB made distinct). */
function writeBigFile(path: string, bytes: number): void {
  const chunk = randomBytes(1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let done = 0, i = 0; done < bytes; i += 1) {
      chunk.writeUInt32BE(i, 0);
      const n = Math.min(chunk.length, bytes - done);
      writeSync(fd, chunk, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

async function digestOf(path: string, algorithm: 'sha256' | 'sha384'): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Run a command line as the operator would paste it; its output, and whether it exited 0. */
function shell(command: string, cwd?: string): { ok: boolean; output: string } {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** What the progress panel said while it was on screen, recorded inside the page. */
interface ProgressLog {
  texts: string[];
  /** Set once Cancel was pressed by the recorder. */
  cancelledAt?: string;
}

for (const shellKind of SHELLS) describe(`signing wizard (${shellKind.kind})`, { skip: shellKind.skip }, () => {
  let w: UiWorld;
  const worldOptions: UiWorldOptions = { shell: shellKind.kind, withHsm: true };
  const consoleErrors: string[] = [];
  let root = '';
  let big = '';
  let bigSha256 = '';
  /** Case (a): what it wrote, to try again into the same place. */
  const a = { keyId: '', dir: '', files: [] as string[], manifest: '', pub: '' };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'keyroom-e2e-sign-files-'));
    a.dir = join(root, 'release-a');
    mkdirSync(a.dir);
    big = join(a.dir, 'big.bin');
    writeBigFile(big, BIG_BYTES);
    bigSha256 = await digestOf(big, 'sha256');
    writeFileSync(join(a.dir, 'alpha.txt'), 'Keyroom release notes\n');
    writeFileSync(join(a.dir, 'beta.tar'), randomBytes(300_000));
    // Big first: the batch's percent then moves while the big file is read.
    a.files = [big, join(a.dir, 'alpha.txt'), join(a.dir, 'beta.tar')];

    w = await openUiWorld('sign', worldOptions);
    w.page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    w.page.setDefaultTimeout(15_000);
    await createKeystoreViaUi(w.page);
    await ensureTokenLogin(w, worldOptions);
  });
  after(async () => {
    await w?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function keystore<N extends OperationName>(name: N, input: Record<string, unknown>): Promise<OperationOutput<N>> {
    const result = await w.dispatch(name, input);
    if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
    return result.value as unknown as OperationOutput<N>;
  }
  const describeKey = async (KeyId: string): Promise<KeyMetadata> => (await keystore('DescribeKey', { KeyId })).KeyMetadata;

  const dialog = (page: Page): Locator => page.locator('dialog[open]');
  const text = async (l: Locator): Promise<string> => ((await l.textContent()) ?? '').trim();
  const step = async (): Promise<string> => (await w.page.getByTestId('sign-wizard').getAttribute('data-step')) ?? '';

  async function openWizard(): Promise<void> {
    const { page } = w;
    if ((await page.getByTestId('sign-wizard').count()) === 0) {
      await page.getByTestId('nav-wizard-sign').click();
      await page.getByTestId('sign-wizard').waitFor();
    } else if ((await step()) === 'result') await page.getByTestId('wizard-restart').click();
    else if ((await step()) !== 'key') await page.getByTestId('sign-start-over').click();
    assert.equal(await step(), 'key');
  }

  /** In step 1, "A new key": the spec and level given, reviewed and confirmed; returns the new KeyId. */
  async function createKeyInWizard(spec: string, level: 'SOFTWARE' | 'HSM', description: string, shot: string): Promise<string> {
    const { page } = w;
    await page.getByTestId('sign-source-new').check();
    await page.getByTestId('sign-new-spec').selectOption(spec);
    await page.getByTestId(`sign-new-protection-${level}`).check();
    await page.getByTestId('sign-new-description').fill(description);
    await page.getByTestId('sign-new-review').click();
    const review = dialog(page);
    assert.match(await text(review.getByTestId('sign-new-summary')), new RegExp(`${spec}[\\s\\S]*${level}[\\s\\S]*Signs files with`));
    await w.browser.screenshot(shot);
    await review.getByTestId('confirm-button').click();
    await page.getByTestId('sign-key-created').waitFor({ timeout: 30_000 });
    const keyId = await text(page.getByTestId('sign-key-created').locator('code'));
    assert.match(keyId, /^[0-9a-f-]{36}$/);
    assert.equal(await page.locator(`[data-testid="sign-key-row"][data-key-id="${keyId}"]`).getByTestId('sign-key-radio').isChecked(), true);
    return keyId;
  }

  /** Step 2: one row per path, then the outputs. */
  async function fillFiles(paths: readonly string[], opts: { outputDir?: string; base64?: boolean; manifest?: boolean }): Promise<void> {
    const { page } = w;
    assert.equal(await step(), 'files');
    const rows = page.getByTestId('sign-file-row');
    for (const [i, p] of paths.entries()) {
      if ((await rows.count()) <= i) await page.getByTestId('sign-file-add').click();
      await rows.nth(i).getByTestId('sign-file-path').fill(p);
    }
    assert.equal(await page.getByTestId('sign-file-error').count(), 0);
    await page.getByTestId('sign-output-dir').fill(opts.outputDir ?? '');
    await page.getByTestId('sign-base64').setChecked(opts.base64 ?? false);
    await page.getByTestId('sign-manifest').setChecked(opts.manifest ?? false);
  }

  /**
   * Record the progress panel's text at every change, inside the page (the panel may come and go
   * between two of Playwright's polls); with `cancelAtPercent`, press its Cancel the moment it
   * shows at least that percent.
   */
  async function recordProgress(cancelAtPercent?: number): Promise<JSHandle<ProgressLog>> {
    return w.page.evaluateHandle((cancelAt) => {
      const log: ProgressLog = { texts: [] };
      const observer = new MutationObserver(() => {
        const panel = document.querySelector('[data-testid="progress"]');
        if (!panel) return;
        const t = (panel.querySelector('p')?.textContent ?? '').replace(/\s+/g, ' ').trim();
        if (log.texts[log.texts.length - 1] !== t) log.texts.push(t);
        const percent = Number(/(\d+)%/.exec(t)?.[1] ?? '0');
        if (cancelAt !== undefined && log.cancelledAt === undefined && percent >= cancelAt) {
          log.cancelledAt = t;
          panel.querySelector<HTMLButtonElement>('[data-testid="cancel-operation"]')?.click();
        }
      });
      observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      // Done once the run ends, whichever way.
      const done = new MutationObserver(() => {
        if (document.querySelector('[data-testid="sign-result"], [data-testid="sign-cancelled"], [data-testid="error"]')) {
          observer.disconnect();
          done.disconnect();
        }
      });
      done.observe(document.body, { childList: true, subtree: true });
      return log;
    }, cancelAtPercent);
  }

  /** The review's commit, then the confirmation. */
  async function commitAndConfirm(shot?: string): Promise<void> {
    const { page } = w;
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByTestId('confirm-button').waitFor();
    if (shot) await w.browser.screenshot(shot);
    await dialog(page).getByTestId('confirm-button').click();
  }

  /** Wait for the progress panel to show `item` under way at 1..99 %, and screenshot it. */
  async function catchUnderWay(item: string, shot: string): Promise<void> {
    const panel = w.page.getByTestId('progress').filter({ hasText: new RegExp(`${item.replace('.', '\\.')}[\\s\\S]*hashing[\\s\\S]*· ([1-9]|[1-9][0-9])%`) });
    await panel.waitFor({ timeout: 30_000 });
    await w.browser.screenshot(shot);
  }

  function assertSawUnderWay(log: ProgressLog, item: string): void {
    const under = log.texts.filter((t) => t.includes(item) && /hashing · ([1-9]|[1-9][0-9])%/.test(t));
    assert.ok(under.length > 0, `the panel never showed ${item} under way: ${JSON.stringify(log.texts.slice(0, 10))}`);
    assert.match(under[0]!, new RegExp(`^Signing files · ${item.replace('.', '\\.')} · hashing · \\d+%$`));
  }

  /** Every VerifyCommand on screen, run as pasted: each must say Verified OK. */
  async function runVerifyCommands(expected: number, opts: { sm2Id?: string; pss?: boolean }): Promise<string[]> {
    const commands = (await w.page.getByTestId('sign-verify-command').allTextContents()).map((c) => c.trim());
    assert.equal(commands.length, expected);
    for (const command of commands) {
      assert.match(command, /^openssl dgst -(sha256|sha384|sm3) -verify /);
      if (opts.pss) assert.match(command, /-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1/);
      if (opts.sm2Id) assert.ok(command.includes(`-sigopt distid:${opts.sm2Id}`) || command.includes(`-sigopt 'distid:${opts.sm2Id}'`), command);
      const r = shell(command);
      assert.ok(r.ok, `${command}\n${r.output}`);
      assert.match(r.output, /Verified OK/);
    }
    return commands;
  }

  /** The digests and signature files shown, by file. */
  async function shownRows(): Promise<Map<string, { digest: string; sig: string; b64: string | null }>> {
    const rows = w.page.getByTestId('sign-signature-row');
    const out = new Map<string, { digest: string; sig: string; b64: string | null }>();
    for (let i = 0; i < (await rows.count()); i += 1) {
      const row = rows.nth(i);
      const b64 = row.getByTestId('sign-signature-b64');
      out.set((await row.getAttribute('data-file')) ?? '', {
        digest: await text(row.getByTestId('sign-signature-digest')),
        sig: await text(row.getByTestId('sign-signature-sig')),
        b64: (await b64.count()) ? await text(b64) : null,
      });
    }
    return out;
  }

  it('(a) EC_P256 key made in the token here; three files, one of 1 GiB, beside themselves, with a signed SHA256SUMS', async () => {
    const { page } = w;
    await openWizard();
    await page.getByTestId('sign-keys-empty').waitFor();
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await w.browser.screenshot('01-key-step-no-keys');

    const keyId = await createKeyInWizard('EC_P256', 'HSM', 'release 1.0 signing', '02-new-hsm-key-confirm');
    const m = await describeKey(keyId);
    assert.equal(m.KeySpec, 'EC_P256');
    assert.equal(m.ProtectionLevel, 'HSM');
    assert.equal(m.KeyUsage, 'SIGN/VERIFY');
    assert.deepEqual(await page.getByTestId('sign-algorithm').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['ECDSA_SHA_256']);
    assert.equal(await text(page.getByTestId('sign-digest')), 'SHA-256');
    assert.equal(await page.getByTestId('sign-user-id').count(), 0, 'the distinguishing ID is for SM2 only');
    await w.browser.screenshot('03-key-chosen');
    await page.getByTestId('wizard-next').click();

    // Files: a relative path is refused at its row, and Next waits for it.
    await page.getByTestId('sign-file-path').first().fill('release/big.bin');
    assert.match(await text(page.getByTestId('sign-file-error')), /full path/);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await fillFiles(a.files, { manifest: true });
    a.manifest = join(a.dir, 'SHA256SUMS');
    assert.equal(await text(page.getByTestId('sign-manifest-name')), 'SHA256SUMS');
    assert.equal(await page.getByTestId('sign-manifest-path').inputValue(), a.manifest);
    await w.browser.screenshot('04-files');
    await page.getByTestId('wizard-next').click();

    assert.equal(await step(), 'review');
    assert.match(await text(page.getByTestId('sign-review-key')), new RegExp(`${keyId}[\\s\\S]*EC_P256[\\s\\S]*HSM`));
    assert.match(await text(page.getByTestId('sign-review-algorithm')), /^ECDSA_SHA_256/);
    assert.equal(await text(page.getByTestId('sign-review-digest')), 'SHA-256');
    assert.deepEqual((await page.getByTestId('sign-review-files').locator('li').allTextContents()).map((t) => t.trim()), a.files);
    assert.match(await text(page.getByTestId('sign-review-output')), /Beside each file/);
    a.pub = join(a.dir, `${keyId}.pub.pem`);
    assert.equal(await text(page.getByTestId('sign-review-public-key')), a.pub);
    assert.match(await text(page.getByTestId('sign-review-manifest')), new RegExp(`${a.manifest}[\\s\\S]*SHA256SUMS\\.sig`));
    await w.browser.screenshot('05-review');

    // Cancel at the confirmation writes nothing.
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByRole('button', { name: 'Cancel' }).click();
    assert.equal(existsSync(`${big}.sig`), false);

    const log = await recordProgress();
    await commitAndConfirm('06-confirm');
    await catchUnderWay('big.bin', '07-progress-under-way');
    await page.getByTestId('sign-result').waitFor({ timeout: 120_000 });
    assertSawUnderWay(await log.jsonValue(), 'big.bin');
    await log.dispose();
    assert.equal(await step(), 'result');
    await w.browser.screenshot('08-result');

    // What the screen says was written, then OpenSSL's word on each.
    const rows = await shownRows();
    assert.deepEqual([...rows.keys()], a.files);
    for (const f of a.files) {
      const row = rows.get(f)!;
      assert.equal(row.sig, `${f}.sig`);
      assert.equal(row.b64, null);
      assert.ok(existsSync(row.sig));
      assert.equal(row.digest, f === big ? bigSha256 : await digestOf(f, 'sha256'));
    }
    assert.equal(await text(page.getByTestId('sign-public-key-file')), a.pub);
    await runVerifyCommands(3, {});

    assert.equal(await text(page.getByTestId('sign-manifest-file')), a.manifest);
    assert.equal(await text(page.getByTestId('sign-manifest-sig')), `${a.manifest}.sig`);
    const sums = readFileSync(a.manifest, 'utf8');
    assert.equal(sums, `${bigSha256}  big.bin\n${rows.get(a.files[1]!)!.digest}  alpha.txt\n${rows.get(a.files[2]!)!.digest}  beta.tar\n`);
    const check = shell('sha256sum -c SHA256SUMS', a.dir);
    assert.ok(check.ok, check.output);
    assert.match(check.output, /big\.bin: OK\nalpha\.txt: OK\nbeta\.tar: OK/);
    const manifestSig = shell(`openssl dgst -sha256 -verify ${a.pub} -signature ${a.manifest}.sig ${a.manifest}`);
    assert.match(manifestSig.output, /Verified OK/);
    // The command the screen gives for the manifest is the same check.
    assert.match(shell(await text(page.getByTestId('sign-manifest-verify-command'))).output, /Verified OK/);
    assert.ok(shell(await text(page.getByTestId('sign-manifest-check-command'))).ok);
    // The key is the token's: the public key written is GetPublicKey's.
    const version = (await keystore('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0]!;
    const pem = (await keystore('GetPublicKey', { KeyId: keyId, KeyVersionId: version.KeyVersionId })).PublicKey;
    assert.equal(readFileSync(a.pub, 'utf8').trim(), pem.trim());
    a.keyId = keyId;
  });

  it('never overwrites: a second run into the same place is refused on the review with AlreadyExists.File, nothing changed', async () => {
    const { page } = w;
    const before = new Map(readdirSync(a.dir).filter((n) => n !== 'big.bin').map((n) => [n, readFileSync(join(a.dir, n))]));
    await openWizard();
    await page.locator(`[data-testid="sign-key-row"][data-key-id="${a.keyId}"]`).click();
    await page.getByTestId('wizard-next').click();
    await fillFiles(a.files.slice(1), { manifest: true });
    await page.getByTestId('wizard-next').click();
    await commitAndConfirm();
    await page.getByTestId('error-code').filter({ hasText: /^AlreadyExists\.File$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await step(), 'review');
    assert.match(await text(page.getByTestId('error').locator('strong')), /never overwrites/);
    assert.match(await text(page.getByTestId('error').locator('.detail')), /alpha\.txt\.sig exists/);
    await w.browser.screenshot('09-refused-existing-signature');
    const after = new Map(readdirSync(a.dir).filter((n) => n !== 'big.bin').map((n) => [n, readFileSync(join(a.dir, n))]));
    assert.deepEqual(after, before);
    // Going back to change something clears the refusal.
    await page.getByRole('button', { name: 'Back' }).click();
    assert.equal(await step(), 'files');
    assert.equal(await page.getByTestId('error').count(), 0);
  });

  it('(b) RSA_2048 HSM key, RSA_PSS_SHA_256 (the default), a folder standing for its files, into an output folder, base64 too', async () => {
    const { page } = w;
    const dir = join(root, 'release-b');
    const out = join(root, 'out-b');
    mkdirSync(dir);
    mkdirSync(out);
    linkSync(big, join(dir, 'big.bin'));
    writeFileSync(join(dir, 'app-1.0.tar.gz'), randomBytes(700_000));
    writeFileSync(join(dir, 'README'), 'read me\n');
    writeFileSync(join(dir, '.hidden'), 'left out\n');
    const expectedFiles = ['README', 'app-1.0.tar.gz', 'big.bin'].map((n) => join(dir, n));

    await openWizard();
    const keyId = await createKeyInWizard('RSA_2048', 'HSM', 'release 1.0 RSA', '10-new-rsa-key-confirm');
    assert.equal((await describeKey(keyId)).ProtectionLevel, 'HSM');
    const algorithm = page.getByTestId('sign-algorithm');
    assert.equal(await algorithm.inputValue(), 'RSA_PSS_SHA_256');
    assert.deepEqual(await algorithm.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256']);
    assert.equal(await text(page.getByTestId('sign-digest')), 'SHA-256');
    await page.getByTestId('wizard-next').click();

    // The folder's path ending in "/": the manifest goes inside it by default.
    await fillFiles([`${dir}/`], { outputDir: out, base64: true, manifest: true });
    const manifest = join(dir, 'SHA256SUMS');
    assert.equal(await page.getByTestId('sign-manifest-path').inputValue(), manifest);
    await w.browser.screenshot('11-files-folder');
    await page.getByTestId('wizard-next').click();
    assert.match(await text(page.getByTestId('sign-review-output')), new RegExp(`In ${out}[\\s\\S]*\\.sig\\.b64`));
    const pub = join(out, `${keyId}.pub.pem`);
    assert.equal(await text(page.getByTestId('sign-review-public-key')), pub);

    const log = await recordProgress();
    await commitAndConfirm();
    await page.getByTestId('sign-result').waitFor({ timeout: 120_000 });
    assertSawUnderWay(await log.jsonValue(), 'big.bin');
    await log.dispose();
    await w.browser.screenshot('12-result-rsa-pss');

    const rows = await shownRows();
    assert.deepEqual([...rows.keys()], expectedFiles, 'the folder stands for its files, sorted, the hidden one left out');
    for (const f of expectedFiles) {
      const row = rows.get(f)!;
      assert.equal(row.sig, join(out, `${basename(f)}.sig`));
      assert.equal(row.b64, join(out, `${basename(f)}.sig.b64`));
      assert.deepEqual(Buffer.from(readFileSync(row.b64, 'utf8').trim(), 'base64'), readFileSync(row.sig));
      assert.equal(readFileSync(row.sig).length, 256, 'an RSA-2048 signature');
      assert.equal(row.digest, f.endsWith('big.bin') ? bigSha256 : await digestOf(f, 'sha256'));
    }
    await runVerifyCommands(3, { pss: true });
    // PSS indeed: the same signature does not verify as PKCS #1 v1.5.
    const pkcs1 = shell(`openssl dgst -sha256 -verify ${pub} -signature ${rows.get(expectedFiles[0]!)!.sig} ${expectedFiles[0]}`);
    assert.doesNotMatch(pkcs1.output, /Verified OK/);

    const check = shell('sha256sum -c SHA256SUMS', dir);
    assert.ok(check.ok, check.output);
    assert.match(check.output, /README: OK\napp-1\.0\.tar\.gz: OK\nbig\.bin: OK/);
    const manifestSig = shell(`openssl dgst -sha256 -verify ${pub} -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -signature ${manifest}.sig ${manifest}`);
    assert.match(manifestSig.output, /Verified OK/);
    assert.ok(existsSync(`${manifest}.sig.b64`));
    assert.match(shell(await text(page.getByTestId('sign-manifest-verify-command'))).output, /Verified OK/);
    rmSync(join(dir, 'big.bin'));
  });

  it('Cancel while the big file is hashed: said on screen, nothing written; Back returns to the review', async () => {
    const { page } = w;
    const dir = join(root, 'release-c');
    mkdirSync(dir);
    const file = join(dir, 'big.bin');
    linkSync(big, file);
    await openWizard();
    await page.locator(`[data-testid="sign-key-row"][data-key-id="${a.keyId}"]`).click();
    await page.getByTestId('wizard-next').click();
    await fillFiles([file], { manifest: true, base64: true });
    await page.getByTestId('wizard-next').click();
    const log = await recordProgress(1);
    await commitAndConfirm();
    await page.getByTestId('sign-cancelled').waitFor({ timeout: 60_000 });
    const recorded = await log.jsonValue();
    await log.dispose();
    assert.match(recorded.cancelledAt ?? '', /^Signing files · big\.bin · hashing · \d+%$/);
    assert.equal(await step(), 'signing');
    assert.equal(await text(page.getByTestId('error-code')), 'Cancelled');
    assert.equal(await text(page.getByTestId('error').locator('strong')), 'Cancelled. Nothing was written.');
    assert.match(await text(page.getByTestId('sign-cancelled')), /Nothing was written/);
    assert.equal(await page.getByTestId('progress').count(), 0);
    await w.browser.screenshot('13-cancelled');
    assert.deepEqual(readdirSync(dir), ['big.bin'], 'no .sig, no .sig.b64, no manifest, no public key');
    await page.getByRole('button', { name: 'Back' }).click();
    assert.equal(await step(), 'review');
    assert.equal(await page.getByTestId('error').count(), 0);
    rmSync(file);
  });

  it('(c) SM2 software key with a custom distinguishing ID, SM3SUMS: verified with -sigopt distid:<id>', async () => {
    const { page } = w;
    const dir = join(root, 'release-d');
    mkdirSync(dir);
    const files = ['one.txt', 'two.bin', 'three.json'].map((n) => join(dir, n));
    writeFileSync(files[0]!, 'SM2 signed release\n');
    writeFileSync(files[1]!, randomBytes(200_000));
    writeFileSync(files[2]!, '{"version":"1.0"}\n');
    const id = 'release@example.org';

    await openWizard();
    const keyId = await createKeyInWizard('EC_SM2', 'SOFTWARE', 'SM2 release signing', '14-new-sm2-key-confirm');
    assert.equal((await describeKey(keyId)).KeySpec, 'EC_SM2');
    assert.equal(await page.getByTestId('sign-algorithm').inputValue(), 'SM2DSA');
    assert.equal(await text(page.getByTestId('sign-digest')), 'SM3');
    const userId = page.getByTestId('sign-user-id');
    assert.equal(await userId.getAttribute('placeholder'), '1234567812345678');
    await userId.fill(` ${id}`);
    assert.match(await text(page.getByTestId('sign-error-user-id')), /spaces/);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await userId.fill(id);
    await w.browser.screenshot('15-sm2-user-id');
    await page.getByTestId('wizard-next').click();

    await fillFiles(files, { manifest: true });
    assert.equal(await text(page.getByTestId('sign-manifest-name')), 'SM3SUMS');
    const manifest = join(dir, 'SM3SUMS');
    assert.equal(await page.getByTestId('sign-manifest-path').inputValue(), manifest);
    // A manifest named for another digest is refused at the field.
    await page.getByTestId('sign-manifest-path').fill(join(dir, 'SHA256SUMS'));
    assert.match(await text(page.getByTestId('sign-error-manifest')), /SM3SUMS, not SHA256SUMS/);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await page.getByTestId('sign-manifest-path').fill(manifest);
    await page.getByTestId('wizard-next').click();
    assert.equal(await text(page.getByTestId('sign-review-user-id')), id);
    assert.equal(await text(page.getByTestId('sign-review-digest')), 'SM3');
    await w.browser.screenshot('16-review-sm2');
    await commitAndConfirm();
    await page.getByTestId('sign-result').waitFor({ timeout: 60_000 });
    await w.browser.screenshot('17-result-sm2');
    assert.equal(await text(page.getByTestId('sign-result-user-id')), id);

    await runVerifyCommands(3, { sm2Id: id });
    const pub = join(dir, `${keyId}.pub.pem`);
    // With the default ID instead, the same signature fails: the ID is part of what was signed.
    const rows = await shownRows();
    const wrongId = shell(`openssl dgst -sm3 -verify ${pub} -sigopt distid:1234567812345678 -signature ${rows.get(files[0]!)!.sig} ${files[0]}`);
    assert.doesNotMatch(wrongId.output, /Verified OK/);

    // SM3SUMS lists each file's plain SM3, as OpenSSL computes it.
    const lines = readFileSync(manifest, 'utf8').trim().split('\n');
    assert.equal(lines.length, 3);
    for (const [i, f] of files.entries()) {
      const sm3 = execFileSync('openssl', ['dgst', '-sm3', '-r', f], { encoding: 'utf8' }).split(' ')[0];
      assert.equal(lines[i], `${sm3}  ${basename(f)}`);
    }
    const manifestSig = shell(`openssl dgst -sm3 -verify ${pub} -sigopt distid:${id} -signature ${manifest}.sig ${manifest}`);
    assert.match(manifestSig.output, /Verified OK/);
    assert.match(shell(await text(page.getByTestId('sign-manifest-verify-command'))).output, /Verified OK/);
    assert.equal(await page.getByTestId('sign-manifest-check-command').count(), 0, 'no standard sm3sum to offer');
  });

  it('bad input from the main process is shown on the review: a missing file, an empty folder, a disabled key', async () => {
    const { page } = w;
    const empty = join(root, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, '.only-hidden'), 'x');
    const good = join(root, 'release-e.txt');
    writeFileSync(good, 'e\n');

    async function toReview(paths: string[]): Promise<void> {
      await openWizard();
      await page.locator(`[data-testid="sign-key-row"][data-key-id="${a.keyId}"]`).click();
      await page.getByTestId('wizard-next').click();
      await fillFiles(paths, {});
      await page.getByTestId('wizard-next').click();
      assert.equal(await step(), 'review');
    }
    async function refusedWith(code: string, detail: RegExp, shot: string): Promise<void> {
      await commitAndConfirm();
      await page.getByTestId('error-code').filter({ hasText: new RegExp(`^${code.replace('.', '\\.')}$`) }).waitFor({ timeout: 30_000 });
      assert.equal(await step(), 'review');
      assert.match(await text(page.getByTestId('error').locator('.detail')), detail);
      await w.browser.screenshot(shot);
      // Back to the key step for the next case: the refusal is gone.
      await page.getByRole('button', { name: 'Back' }).click();
      assert.equal(await page.getByTestId('error').count(), 0);
      await page.getByRole('button', { name: 'Back' }).click();
    }

    await toReview([good, join(root, 'missing.tar.gz')]);
    await refusedWith('InvalidParameter.InputFile', /missing\.tar\.gz: there is no such file/, '18-refused-missing-file');
    await toReview([empty]);
    await refusedWith('InvalidParameter.InputFile', /has no file to sign/, '19-refused-empty-folder');
    assert.equal(existsSync(`${good}.sig`), false);

    // The key disabled behind the wizard's back (on the Keys screen, or by another window) once reviewed.
    await toReview([good]);
    await keystore('DisableKey', { KeyId: a.keyId });
    await refusedWith('Rejected.KeyState', new RegExp(`Key ${a.keyId} is Disabled`), '20-refused-disabled-key');
    assert.equal(existsSync(`${good}.sig`), false);
    await keystore('EnableKey', { KeyId: a.keyId });
  });

  it('made no outside connection and raised no page error; the big files are deleted', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
    assert.deepEqual(consoleErrors, []);
    rmSync(big, { force: true });
    assert.equal(existsSync(big), false);
  });
});
