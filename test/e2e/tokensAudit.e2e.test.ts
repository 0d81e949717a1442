/**
 * The Tokens and Audit screens in Chromium against the real handler table and a real SoftHSM
 * token, driven like an operator. The host does not know the token's PIN: HSM keys work only
 * after logging in through the Tokens screen, which this spec does (a wrong PIN first). The token
 * as listed is checked against OpenSC's pkcs11-tool, the login against ListTokens, the HSM key
 * against the token's own object list; the audit screen against VerifyAuditLog and
 * ListAuditEvents asked behind the page's back, and the exported file against sha256 computed
 * here. Screenshots: test-results/e2e/tokens-audit/.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Locator } from 'playwright-core';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { ErrorCode } from '../../src-shared/errors';
import { parseListObjects } from '../support/softhsm';
import { launchE2eBrowser } from '../support/e2eBrowser';
import { startTestHost } from './host/testHost';
import { SHELLS, openUiWorld, createKeystoreViaUi, type UiWorld } from './uiSteps';

const WRONG_PIN = '999999';

/** The token slots pkcs11-tool lists: label and serial per initialised token. */
function tokensSeenByOpenSc(out: string): { label: string; serial: string }[] {
  const found: { label: string; serial: string }[] = [];
  let label: string | undefined;
  for (const line of out.split('\n')) {
    const l = /^\s*token label\s*:\s*(.*?)\s*$/.exec(line);
    if (l) label = l[1];
    const s = /^\s*serial num\s*:\s*(.*?)\s*$/.exec(line);
    if (s && label !== undefined) {
      found.push({ label, serial: s[1]! });
      label = undefined;
    }
  }
  return found;
}

for (const shell of SHELLS) describe(`tokens and audit screens (${shell.kind})`, { skip: shell.skip }, () => {
  let w: UiWorld;
  /** Vue reports errors in components on the console, not as page errors. */
  const consoleErrors: string[] = [];
  const keys = { hsm: '', software: '' };

  before(async () => {
    w = await openUiWorld('tokens-audit', { shell: shell.kind, withHsm: true });
    w.page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    w.page.setDefaultTimeout(10_000);
    await createKeystoreViaUi(w.page);
  });
  after(async () => {
    await w?.close();
  });

  /** Ask the session directly, behind the page's back: the truth a screen must match. */
  async function ask<N extends OperationName>(name: N, input: Record<string, unknown>): Promise<OperationOutput<N>> {
    const result = await w.dispatch(name, input);
    if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
    return result.value as unknown as OperationOutput<N>;
  }
  async function refused(name: OperationName, input: Record<string, unknown>, code: ErrorCode): Promise<void> {
    const result = await w.dispatch(name, input);
    assert.equal(result.ok, false, `${name} should be refused`);
    if (!result.ok) assert.equal(result.error.Code, code, result.error.Message);
  }

  const tokenCard = (): Locator => w.page.locator(`[data-testid="token"][data-label="${w.hsm!.label}"]`);
  /** What the page's DOM holds, input values included (outerHTML leaves those out). */
  const everyInputValue = (): Promise<string[]> => w.page.locator('input').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));

  it('lists the PKCS#11 library and the token as pkcs11-tool sees them', async () => {
    const { page } = w;
    const hsm = w.hsm!;
    await page.getByTestId('nav-tokens').click();
    await tokenCard().waitFor();

    const seen = tokensSeenByOpenSc(hsm.pkcs11ToolBare(['--list-token-slots']));
    const ours = seen.find((t) => t.label === hsm.label);
    assert.ok(ours, `pkcs11-tool lists the token: ${JSON.stringify(seen)}`);
    assert.equal(ours.serial, hsm.serial);
    const card = tokenCard();
    assert.equal(await card.getByTestId('token-label').textContent(), hsm.label);
    assert.equal(await card.getByTestId('token-serial').textContent(), ours.serial);
    assert.equal(await card.getAttribute('data-serial'), ours.serial);

    assert.equal(await page.getByTestId('module-path').textContent(), hsm.modulePath);
    assert.match((await page.getByTestId('module-manufacturer').textContent()) ?? '', /SoftHSM/);
    // The flags as badges: initialised, login required; nothing alarming on a fresh token.
    const flags = card.getByTestId('token-flags');
    await flags.locator('[data-flag="TokenInitialized"]').waitFor();
    await flags.locator('[data-flag="LoginRequired"]').waitFor();
    assert.equal(await flags.locator('.badge.bad').count(), 0);
    // The mechanisms Keyroom uses, as ListTokens counts them; SoftHSM lacks some, named on screen.
    const listed = (await ask('ListTokens', {})).Tokens.find((t) => t.Label === hsm.label)!;
    const summary = `Mechanisms Keyroom uses: ${listed.Mechanisms.length} present${listed.MissingMechanisms.length ? `, ${listed.MissingMechanisms.length} missing` : ''}`;
    assert.equal((await card.getByTestId('token-mechanisms').locator('summary').textContent())?.trim(), summary);
    const missing = card.getByTestId('token-missing-mechanisms');
    assert.equal(await missing.count(), listed.MissingMechanisms.length ? 1 : 0);
    for (const m of listed.MissingMechanisms) assert.match((await missing.textContent()) ?? '', new RegExp(`CKM_${m}`));

    // SoftHSM's free slot: shown, said to be uninitialised, with no PIN form.
    const empty = page.locator('[data-testid="token"]').filter({ has: page.locator('[data-flag="TokenInitialized-off"]') });
    assert.equal(await empty.count(), 1);
    assert.equal(await empty.getByTestId('pin').count(), 0);
    await empty.getByTestId('token-blocked').waitFor();

    // The PIN field is a password field the browser does not remember.
    const pin = card.getByTestId('pin');
    assert.equal(await pin.getAttribute('type'), 'password');
    assert.equal(await pin.getAttribute('autocomplete'), 'off');
    assert.match((await page.getByTestId('login-status').textContent()) ?? '', /Not logged in/);
    assert.equal((await ask('ListTokens', {})).LoggedIn, undefined);
    await w.browser.screenshot('01-tokens');
  });

  it('refuses a wrong PIN in operator words, and the field is empty afterwards', async () => {
    const { page } = w;
    const card = tokenCard();
    await card.getByTestId('pin').fill(WRONG_PIN);
    await card.getByTestId('login').click();
    const error = card.getByTestId('error');
    await error.waitFor();
    assert.equal(await error.getByTestId('error-code').textContent(), 'Hsm.PinIncorrect');
    assert.match((await error.textContent()) ?? '', /The PIN is incorrect\./);
    assert.match((await card.getByTestId('error-hint').textContent()) ?? '', /Every wrong PIN counts/);
    assert.equal(await card.getByTestId('pin').inputValue(), '');
    // The cursor is back in the PIN field for the next try.
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'pin');
    assert.ok(!(await everyInputValue()).includes(WRONG_PIN), 'the wrong PIN stays in no input');
    assert.ok(!(await page.content()).includes(WRONG_PIN), 'the wrong PIN is nowhere in the page');
    // The list is read again after the attempt: SoftHSM now says a wrong PIN was entered.
    await card.locator('[data-flag="UserPinCountLow"]').waitFor();
    await card.getByTestId('token-count-low').waitFor();
    assert.equal((await ask('ListTokens', {})).LoggedIn, undefined);
    // Without a login, HSM keys are refused (the host knows no PIN).
    await refused('CreateKey', { KeySpec: 'AES_256', ProtectionLevel: 'HSM' }, 'Hsm.NotConfigured');
    await w.browser.screenshot('02-wrong-pin');
  });

  it('logs in with the right PIN (typed, then Enter): shown on screen, and ListTokens says so', async () => {
    const { page } = w;
    const hsm = w.hsm!;
    const card = tokenCard();
    await card.getByTestId('pin').fill(hsm.pin);
    await card.getByTestId('pin').press('Enter');
    await card.getByTestId('token-logged-in').waitFor();
    const status = page.getByTestId('login-status');
    assert.match((await status.textContent()) ?? '', new RegExp(`Logged in to “${hsm.label}”`));
    assert.match((await status.textContent()) ?? '', new RegExp(hsm.serial));
    assert.equal(await card.getByTestId('pin').count(), 0, 'no PIN form for the token logged in to');
    assert.ok(!(await everyInputValue()).includes(hsm.pin), 'the PIN stays in no input');
    assert.ok(!(await page.content()).includes(hsm.pin), 'the PIN is nowhere in the page');

    const listed = await ask('ListTokens', {});
    assert.equal(listed.LoggedIn?.Label, hsm.label);
    assert.equal(listed.LoggedIn?.SerialNumber, hsm.serial);
    assert.equal(String(listed.LoggedIn?.SlotId), await card.getAttribute('data-slot-id'));
    // The right PIN resets the token's count of wrong ones; the list is read again after a login.
    assert.equal(listed.Tokens.find((t) => t.Label === hsm.label)?.Flags.UserPinCountLow, false);
    await card.locator('[data-flag="UserPinCountLow"]').waitFor({ state: 'detached' });
    assert.equal(await card.getByTestId('token-count-low').count(), 0);
    await w.browser.screenshot('03-logged-in');
  });

  it('an HSM key created after the login lands on the token', async () => {
    const created = await ask('CreateKey', { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', ProtectionLevel: 'HSM', Description: 'tokens-audit e2e' });
    keys.hsm = created.KeyMetadata.KeyId;
    assert.equal(created.KeyMetadata.ProtectionLevel, 'HSM');
    const objects = parseListObjects(w.hsm!.pkcs11Tool(['--list-objects']));
    const mine = objects.filter((o) => o.label?.startsWith(`keyroom/${keys.hsm}/`));
    assert.deepEqual(mine.map((o) => o.kind.split(';')[0]).sort(), ['Private Key Object', 'Public Key Object'], JSON.stringify(objects));

    // A software key, an alias and some uses of it, for the audit log to show and to page.
    keys.software = (await ask('CreateKey', { KeySpec: 'AES_256' })).KeyMetadata.KeyId;
    await ask('CreateAlias', { KeyId: keys.software, AliasName: 'alias/tokens-audit' });
    for (let i = 0; i < 28; i += 1) await ask('Encrypt', { KeyId: keys.software, Plaintext: randomBytes(16).toString('base64') });
  });

  it('logs out: the screen and ListTokens say so, and HSM keys need the PIN again', async () => {
    const { page } = w;
    await page.getByTestId('tokens-refresh').click();
    await page.getByTestId('logout').click();
    const status = page.getByTestId('login-status');
    await status.filter({ hasText: 'Not logged in' }).waitFor();
    assert.match((await status.textContent()) ?? '', new RegExp(`Logged out of “${w.hsm!.label}”`));
    await tokenCard().getByTestId('pin').waitFor();
    assert.equal(await tokenCard().getByTestId('token-logged-in').count(), 0);
    assert.equal((await ask('ListTokens', {})).LoggedIn, undefined);
    const version = (await ask('ListKeyVersions', { KeyId: keys.hsm })).KeyVersions.KeyVersion[0]!.KeyVersionId;
    await refused('AsymmetricSign', { KeyId: keys.hsm, KeyVersionId: version, Algorithm: 'ECDSA_SHA_256', Digest: createHash('sha256').update('x').digest('base64') }, 'Hsm.NotConfigured');
    await w.browser.screenshot('04-logged-out');
  });

  it('shows the verdict with the head hash VerifyAuditLog gives, then the entries newest first', async () => {
    const { page } = w;
    await page.getByTestId('nav-audit').click();
    const verdictBox = page.locator('[data-testid="audit-verdict"][data-valid="true"]');
    await verdictBox.waitFor();
    const verdict = await ask('VerifyAuditLog', {});
    assert.equal(verdict.Valid, true);
    assert.ok(verdict.HeadHash);
    assert.equal(await verdictBox.getByTestId('head-hash').textContent(), verdict.HeadHash);
    assert.equal(await verdictBox.getByTestId('verdict-entries').textContent(), String(verdict.Entries));
    // InitKeystore, 2 CreateKey, CreateAlias, 28 Encrypt, and the wrong PIN's refusal entry
    // (Hsm.PinIncorrect is recorded; Hsm.NotConfigured, with no token to ask, is not).
    assert.equal(verdict.Entries, 33);
    assert.equal(await page.getByTestId('audit-total').textContent(), String(verdict.Entries));

    // The first page, newest first, the same entries ListAuditEvents answers.
    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor();
    const seqs = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    assert.deepEqual(seqs, Array.from({ length: 25 }, (_, i) => verdict.Entries - i));
    const truth = await ask('ListAuditEvents', { PageSize: 25 });
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-operation'))), truth.Events.map((e) => e.Operation));
    // Local time on screen, the recorded ISO time on hover.
    assert.equal(await rows.first().locator('time').getAttribute('title'), truth.Events[0]!.Time);
    // Key ids link to the key's page; the version's whole id is on hover.
    assert.equal(await rows.first().getByTestId('audit-key-link').getAttribute('href'), `#/keys/${keys.software}`);
    assert.equal(await rows.first().getByTestId('audit-version').getAttribute('title'), `KeyVersionId ${truth.Events[0]!.KeyVersionId}`);
    await w.browser.screenshot('05-audit');

    // The older page holds the rest, down to InitKeystore.
    await page.getByTestId('page-older').click();
    await page.locator('[data-testid="audit-row"][data-seq="1"]').waitFor();
    const older = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-operation')));
    assert.deepEqual(older, ['Encrypt', 'Encrypt', 'Encrypt', 'CreateAlias', 'CreateKey', 'CreateKey', 'LoginToken', 'InitKeystore']);
    assert.equal(await rows.count(), 8);
    const hsmRow = page.locator(`[data-testid="audit-row"][data-key-id="${keys.hsm}"]`);
    assert.match((await hsmRow.textContent()) ?? '', /ProtectionLevel:\s*HSM/);
    await w.browser.screenshot('06-audit-older');
    await page.getByTestId('page-newer').click();
    await page.locator(`[data-testid="audit-row"][data-seq="${verdict.Entries}"]`).waitFor();
  });

  it('narrows the entries by operation and by key id', async () => {
    const { page } = w;
    const rows = page.getByTestId('audit-row');
    const operations = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-operation')));

    await page.getByTestId('filter-operation').selectOption('CreateKey');
    await page.getByTestId('audit-total').filter({ hasText: /^2$/ }).waitFor();
    assert.deepEqual(await operations(), ['CreateKey', 'CreateKey']);
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key-id'))), [keys.software, keys.hsm]);

    await page.getByTestId('filter-operation').selectOption('');
    await page.getByTestId('filter-key-id').fill(keys.hsm);
    await page.getByTestId('filter-apply').click();
    await page.getByTestId('audit-total').filter({ hasText: /^1$/ }).waitFor();
    assert.deepEqual(await operations(), ['CreateKey']);
    await w.browser.screenshot('07-audit-by-key');

    // Both filters at once.
    await page.getByTestId('filter-key-id').fill(keys.software);
    await page.getByTestId('filter-operation').selectOption('CreateAlias');
    // The count was 1 before too: wait for the entry itself.
    await page.locator(`[data-testid="audit-row"][data-operation="CreateAlias"][data-key-id="${keys.software}"]`).waitFor();
    assert.equal(await page.getByTestId('audit-total').textContent(), '1');
    assert.deepEqual(await operations(), ['CreateAlias']);
    assert.match((await rows.first().textContent()) ?? '', /AliasName:\s*alias\/tokens-audit/);

    // Not a KeyId: said at the field, and nothing is asked.
    await page.getByTestId('filter-key-id').fill('alias/tokens-audit');
    await page.getByTestId('key-id-problem').waitFor();
    assert.equal(await page.getByTestId('filter-apply').isDisabled(), true);
    await w.browser.screenshot('08-audit-bad-key-id');

    await page.getByTestId('filter-clear').click();
    await page.getByTestId('audit-total').filter({ hasText: /^33$/ }).waitFor();
    assert.equal(await page.getByTestId('key-id-problem').count(), 0);
  });

  it('exports the log to a JSONL file whose SHA-256 and line count match the screen', async () => {
    const { page } = w;
    // The header's button brings the export form (below the entries) to the cursor.
    await page.getByTestId('export-jump').click();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'export-path');
    const prefilled = await page.getByTestId('export-path').inputValue();
    assert.match(prefilled, /\/audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
    assert.equal(dirname(prefilled), dirname(w.keystorePath));

    const file = join(w.dir, 'ceremony-audit.jsonl');
    await page.getByTestId('export-path').fill(file);
    await page.getByTestId('export').click();
    const written = page.getByTestId('written-files');
    await written.waitFor();
    const shown = (await written.locator('code.hash').textContent()) ?? '';
    assert.equal(await written.locator('code.path').textContent(), file);

    const bytes = readFileSync(file);
    assert.equal(shown, createHash('sha256').update(bytes).digest('hex'));
    const lines = bytes.toString('utf8').trimEnd().split('\n');
    const verdict = await ask('VerifyAuditLog', {});
    // The export records the file it wrote: its own entry is the one after the exported lines.
    assert.equal(lines.length + 1, verdict.Entries);
    assert.equal((JSON.parse(lines[0]!) as { operation: string }).operation, 'InitKeystore');
    const recorded = (await ask('ListAuditEvents', { Operation: 'ExportAuditLog' })).Events[0]!;
    assert.equal(recorded.Seq, verdict.Entries);
    assert.equal(recorded.Details.Sha256, shown);
    assert.equal(recorded.Details.Entries, lines.length);
    await w.browser.screenshot('09-audit-exported');

    // Again to the same file: refused where it happened, the file untouched.
    await page.getByTestId('export').click();
    const error = page.getByTestId('audit-export').getByTestId('error');
    await error.waitFor();
    assert.equal(await error.getByTestId('error-code').textContent(), 'AlreadyExists.File');
    assert.deepEqual(readFileSync(file), bytes);
  });

  it('says calmly, and at the top, when the log has been edited behind Keyroom', async (t) => {
    const { page } = w;
    // Editing the log needs the keystore inside the test process: the test host's, not the app's.
    if (!w.host) return t.skip('the Electron app keeps its keystore in its own process; this check runs against the test host');
    // Someone with the passphrase edits entry #3 in the database (the software key's CreateKey).
    await w.host.session.kms.keystore.transaction((tx) => tx.run(`UPDATE audit_log SET details = '{"KeySpec":"AES_256"}' WHERE seq = 3`));
    const truth = await ask('VerifyAuditLog', {});
    assert.equal(truth.Valid, false);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByTestId('verify-again').click();
    const verdictBox = page.locator('[data-testid="audit-verdict"][data-valid="false"]');
    await verdictBox.waitFor();
    assert.equal(await verdictBox.getAttribute('role'), 'alert');
    assert.equal(await verdictBox.getByTestId('verdict-first-bad').textContent(), `#${truth.FirstBadEntry}`);
    assert.equal(await verdictBox.getByTestId('verdict-reason').textContent(), truth.Reason);
    assert.equal(await verdictBox.getByTestId('head-hash').count(), 0, 'no head hash to write down from a broken log');
    // The entries from the bad one on are marked in the table; the older page shows where it starts.
    await page.locator(`[data-testid="audit-row"][data-seq="32"][data-untrusted="true"]`).waitFor();
    await page.getByTestId('page-older').click();
    await page.locator('[data-testid="audit-row"][data-seq="1"]').waitFor();
    const marks = await page.getByTestId('audit-row').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-seq')), e.getAttribute('data-untrusted') === 'true']));
    assert.deepEqual(marks, marks.map(([seq]) => [seq, Number(seq) >= truth.FirstBadEntry!]));
    await w.browser.screenshot('10-audit-broken');
  });

  it('names the paths it tried when the PKCS#11 library is not there', async (t) => {
    if (shell.kind !== 'chromium') return t.skip('needs a second app pointed at a missing library; this check runs against a second test host');
    // A second host whose session names a library that does not exist, and its own browser
    // (each browser allows its own host's origin only).
    const dir = mkdtempSync(join(tmpdir(), 'keyroom-e2e-tokens-nomodule-'));
    const missing = join(dir, 'no-such-pkcs11.so');
    const host = await startTestHost({ keystoreDir: dir, hsm: { modulePath: missing, pin: async () => Buffer.from('unused') } });
    const browser = await launchE2eBrowser({ spec: 'tokens-audit', allowedOrigin: host.origin });
    try {
      const { page } = browser;
      page.setDefaultTimeout(10_000);
      await page.goto(host.url);
      await page.getByTestId('keystore-gate').waitFor();
      await createKeystoreViaUi(page);
      await page.getByTestId('nav-tokens').click();
      const error = page.getByTestId('error');
      await error.waitFor();
      assert.equal(await error.getByTestId('error-code').textContent(), 'Hsm.ModuleNotFound');
      assert.match((await error.textContent()) ?? '', /The PKCS#11 library was not found\./);
      assert.ok(((await error.textContent()) ?? '').includes(missing), 'the message names the path tried');
      assert.match((await page.getByTestId('error-hint').textContent()) ?? '', /KEYROOM_PKCS11_MODULE/);
      assert.equal(await page.getByTestId('token').count(), 0);
      await browser.screenshot('11-module-not-found');
      browser.assertNoOutsideTraffic();
      assert.deepEqual(browser.pageErrors, []);
    } finally {
      await browser.close();
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('made no outside connection, and the page raised no error', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
