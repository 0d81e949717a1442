/**
 * The certificate request wizard in Chromium against the real handler table, driven like an
 * operator: (a) an EC_P256 key made in the SoftHSM token from inside the wizard (after logging in
 * on the Tokens screen, which the wizard points at), the TLS server template, a subject with a
 * non-ASCII organisation, DNS + IPv4 + IPv6 names, written as PEM; (b) an SM2 software key, the
 * code-signing template, the subject typed as RFC 4514 text, written as DER. Fields the main
 * process would refuse (C=DEU, IP 300.1.1.1, no CN under a template) are refused at the field with
 * the main process's own message, and Next stays disabled. Every file is judged by OpenSSL: the
 * signature (`openssl req -verify`), the subject, names and extended key usage it prints, the
 * SHA-256 shown against the file's, and the public key inside against GetPublicKey's.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { OperationName, OperationOutput } from '../../src-shared/contract/operations';
import type { KeyMetadata } from '../../src-shared/contract/types';
import { dnEntry, parseBasicConstraints, sanEntry } from '../../src-shared/domain/csrRequest';
import { openssl, opensslOk } from '../support/openssl';
import { SHELLS, openUiWorld, createKeystoreViaUi, ensureTokenLogin, type UiWorld, type UiWorldOptions } from './uiSteps';

/** The message the main process gives for a value (the wizard must show the same at the field). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

const SM2_ID = ['-vfyopt', 'distid:1234567812345678'];

for (const shell of SHELLS) describe(`certificate request wizard (${shell.kind})`, { skip: shell.skip }, () => {
  let w: UiWorld;
  const worldOptions: UiWorldOptions = { shell: shell.kind, withHsm: true };
  const consoleErrors: string[] = [];

  before(async () => {
    w = await openUiWorld('csr', worldOptions);
    w.page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    w.page.setDefaultTimeout(10_000);
    await createKeystoreViaUi(w.page);
  });
  after(async () => {
    await w?.close();
  });

  async function keystore<N extends OperationName>(name: N, input: Record<string, unknown>): Promise<OperationOutput<N>> {
    const result = await w.dispatch(name, input);
    if (!result.ok) assert.fail(`${name} was refused: ${result.error.Code}: ${result.error.Message}`);
    return result.value as unknown as OperationOutput<N>;
  }
  const describeKey = async (KeyId: string): Promise<KeyMetadata> => (await keystore('DescribeKey', { KeyId })).KeyMetadata;
  async function publicKeyOf(KeyId: string): Promise<string> {
    const versions = (await keystore('ListKeyVersions', { KeyId })).KeyVersions.KeyVersion;
    assert.equal(versions.length, 1);
    return (await keystore('GetPublicKey', { KeyId, KeyVersionId: versions[0]!.KeyVersionId })).PublicKey;
  }

  const dialog = (page: Page): Locator => page.locator('dialog[open]');
  const text = async (l: Locator): Promise<string> => ((await l.textContent()) ?? '').trim();
  const step = async (): Promise<string> => (await w.page.getByTestId('csr-wizard').getAttribute('data-step')) ?? '';

  /** In step 1, "A new key": the spec and level given, reviewed and confirmed; returns the new KeyId. */
  async function createKeyInWizard(spec: string, level: 'SOFTWARE' | 'HSM', description: string, shot: string): Promise<string> {
    const { page } = w;
    await page.getByTestId('csr-source-new').check();
    await page.getByTestId('csr-new-spec').selectOption(spec);
    await page.getByTestId(`csr-new-protection-${level}`).check();
    await page.getByTestId('csr-new-description').fill(description);
    await page.getByTestId('csr-new-review').click();
    const review = dialog(page);
    assert.match(await text(review.getByTestId('csr-new-summary')), new RegExp(`${spec}[\\s\\S]*${level}`));
    await w.browser.screenshot(shot);
    await review.getByTestId('confirm-button').click();
    await page.getByTestId('csr-key-created').waitFor({ timeout: 30_000 });
    const keyId = await text(page.getByTestId('csr-key-created').locator('code'));
    assert.match(keyId, /^[0-9a-f-]{36}$/);
    // The new key is the one chosen.
    assert.equal(await page.locator(`[data-testid="csr-key-row"][data-key-id="${keyId}"]`).getByTestId('csr-key-radio').isChecked(), true);
    return keyId;
  }

  /** The checks every written request passes, whatever its key and encoding. */
  async function judge(file: string, opts: { der: boolean; sm2: boolean; keyId: string }): Promise<string> {
    const { page } = w;
    assert.ok(existsSync(file), `${file} was not written`);
    const bytes = readFileSync(file);
    const inform = opts.der ? ['-inform', 'DER'] : [];
    const verified = opensslOk(['req', ...inform, '-in', file, '-verify', '-noout', ...(opts.sm2 ? SM2_ID : [])]);
    assert.ok(verified.ok && /verify OK/i.test(verified.output), verified.output);

    // The command on screen is the one that checks it (the path has no characters a shell treats specially).
    const command = await text(page.getByTestId('csr-verify-command'));
    assert.equal(command, `openssl req${opts.der ? ' -inform DER' : ''} -in ${file} -verify -noout${opts.sm2 ? ' -vfyopt distid:1234567812345678' : ''}`);
    assert.match(execSync(`${command} 2>&1`, { encoding: 'utf8' }), /verify OK/i);

    // The SHA-256 shown is the file's.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const written = page.getByTestId('written-files');
    assert.ok((await text(written)).includes(file), 'the path written is shown');
    assert.equal(await text(written.locator('code.hash')), sha256);

    // The PEM shown is the request in the file.
    const shownPem = await text(page.getByTestId('csr-pem'));
    const filePem = opts.der ? openssl(['req', '-inform', 'DER', '-in', file, '-outform', 'PEM']).toString('utf8') : bytes.toString('utf8');
    assert.equal(shownPem, filePem.trim());

    // The public key inside is the key's own, and the fingerprint shown is its SHA-256.
    const inside = openssl(['req', ...inform, '-in', file, '-noout', '-pubkey']).toString('utf8');
    const expected = await publicKeyOf(opts.keyId);
    assert.equal(inside.trim(), expected.trim());
    const spki = openssl(['pkey', '-pubin', '-outform', 'DER'], Buffer.from(expected));
    assert.equal(await text(page.getByTestId('csr-result-fingerprint')), createHash('sha256').update(spki).digest('hex'));

    return openssl(['req', ...inform, '-in', file, '-noout', '-text', '-nameopt', 'RFC2253,-esc_msb']).toString('utf8');
  }

  it('offers HSM keys only with a logged-in token, and points at the Tokens screen', async () => {
    const { page } = w;
    await page.getByTestId('nav-wizard-csr').click();
    await page.getByTestId('csr-wizard').waitFor();
    assert.equal(await step(), 'key');
    await page.getByTestId('csr-keys-empty').waitFor();
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await w.browser.screenshot('01-key-step-no-keys');

    await page.getByTestId('csr-source-new').check();
    await page.getByTestId('csr-hsm-needs-login').waitFor();
    assert.equal(await page.getByTestId('csr-new-protection-HSM').isDisabled(), true);
    await w.browser.screenshot('02-new-key-no-token');
    await page.getByTestId('csr-tokens-link').click();
    await page.getByTestId('pin').waitFor();

    // Logged in, back in the wizard: what was chosen is still there, and HSM is offered.
    await ensureTokenLogin(w, worldOptions);
    await page.getByTestId('nav-wizard-csr').click();
    await page.getByTestId('csr-token-label').waitFor();
    assert.equal(await page.getByTestId('csr-source-new').isChecked(), true);
    assert.equal(await page.getByTestId('csr-new-protection-HSM').isEnabled(), true);
    assert.equal(await page.getByTestId('csr-hsm-needs-login').count(), 0);
  });

  it('(a) HSM EC_P256 key made in the wizard, TLS server template, non-ASCII O, DNS + IPv4 + IPv6, PEM', async () => {
    const { page } = w;
    const keyId = await createKeyInWizard('EC_P256', 'HSM', 'www.example.com TLS', '03-new-hsm-key-confirm');
    const m = await describeKey(keyId);
    assert.equal(m.KeySpec, 'EC_P256');
    assert.equal(m.KeyUsage, 'SIGN/VERIFY');
    assert.equal(m.ProtectionLevel, 'HSM');
    // EC_P256 signs requests with ECDSA_SHA_256 only.
    assert.equal(await page.getByTestId('csr-algorithm').inputValue(), 'ECDSA_SHA_256');
    assert.deepEqual(await page.getByTestId('csr-algorithm').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['ECDSA_SHA_256']);
    await w.browser.screenshot('04-key-chosen');
    await page.getByTestId('wizard-next').click();
    assert.equal(await step(), 'subject');

    // The template fills the extensions; an EC key cannot ask for keyEncipherment.
    await page.getByTestId('csr-template').selectOption('tls-server');
    assert.equal(await page.getByTestId('csr-ku-digitalSignature').isChecked(), true);
    assert.equal(await page.getByTestId('csr-ku-keyEncipherment').isChecked(), false);
    assert.equal(await page.getByTestId('csr-ku-keyEncipherment').isDisabled(), true);
    assert.equal(await page.getByTestId('csr-eku-serverAuth').isChecked(), true);
    assert.equal(await page.getByTestId('csr-bc-none').isChecked(), true);

    // No CN: the template needs one, said at the CN field.
    await page.getByTestId('csr-dn-O').fill('示例有限公司');
    assert.equal(await text(page.getByTestId('csr-error-CN')), 'The TLS server template needs a CN in the subject.');
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);

    await page.getByTestId('csr-dn-CN').fill('www.example.com');
    await page.getByTestId('csr-error-CN').waitFor({ state: 'detached' });
    // A three-letter country: refused at the field, with the main process's message.
    await page.getByTestId('csr-dn-C').fill('DEU');
    assert.equal(await text(page.getByTestId('csr-error-C')), refusal(() => dnEntry('C', 'DEU')));
    assert.match(await text(page.getByTestId('csr-error-C')), /two capital letters/);
    assert.equal(await page.getByTestId('csr-dn-C').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await w.browser.screenshot('05-subject-country-refused');
    await page.getByTestId('csr-dn-C').fill('CN');
    await page.getByTestId('csr-error-C').waitFor({ state: 'detached' });
    assert.equal(await text(page.getByTestId('csr-subject-preview')), 'CN=www.example.com,O=示例有限公司,C=CN');

    // Names: DNS, then a malformed IPv4 (refused at its row), fixed, then IPv6.
    const rows = page.getByTestId('csr-san-row');
    await page.getByTestId('csr-san-add').click();
    await rows.nth(0).getByTestId('csr-san-value').fill('www.example.com');
    await page.getByTestId('csr-san-add').click();
    await rows.nth(1).getByTestId('csr-san-type').selectOption('IP');
    await rows.nth(1).getByTestId('csr-san-value').fill('300.1.1.1');
    assert.equal(await text(rows.nth(1).getByTestId('csr-san-error')), refusal(() => sanEntry('IP', '300.1.1.1')));
    assert.equal(await text(rows.nth(1).getByTestId('csr-san-error')), 'IP:300.1.1.1 is not an IPv4 or IPv6 address.');
    assert.equal(await rows.nth(0).getByTestId('csr-san-error').count(), 0);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await w.browser.screenshot('06-san-ip-refused');
    await rows.nth(1).getByTestId('csr-san-value').fill('192.0.2.10');
    await page.getByTestId('csr-san-add').click();
    await rows.nth(2).getByTestId('csr-san-type').selectOption('IP');
    await rows.nth(2).getByTestId('csr-san-value').fill('2001:db8::10');
    assert.equal(await page.getByTestId('csr-san-error').count(), 0);
    await w.browser.screenshot('07-subject-complete');
    assert.equal(await page.getByTestId('wizard-next').isEnabled(), true);
    await page.getByTestId('wizard-next').click();

    // Review: everything on one screen, the file next to the keystore, named by the CN.
    assert.equal(await step(), 'review');
    assert.equal(await text(page.getByTestId('csr-review-subject')), 'CN=www.example.com,O=示例有限公司,C=CN');
    assert.equal(await text(page.getByTestId('csr-review-sans')), 'DNS:www.example.comIP:192.0.2.10IP:2001:db8::10');
    assert.equal(await text(page.getByTestId('csr-review-keyUsage')), 'digitalSignature');
    assert.equal(await text(page.getByTestId('csr-review-extendedKeyUsage')), 'serverAuth');
    assert.match(await text(page.getByTestId('csr-review-key')), new RegExp(`${keyId}[\\s\\S]*EC_P256[\\s\\S]*HSM`));
    const file = join(w.dir, 'www.example.com.csr.pem');
    assert.equal(await page.getByTestId('csr-output-path').inputValue(), file);
    assert.equal(await page.getByTestId('csr-encoding-PEM').isChecked(), true);
    await w.browser.screenshot('08-review-pem');

    // Cancel at the confirmation writes nothing.
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByRole('button', { name: 'Cancel' }).click();
    assert.equal(existsSync(file), false);
    await page.getByTestId('wizard-commit').click();
    assert.equal(await text(dialog(page).getByTestId('csr-confirm-path')), file);
    await w.browser.screenshot('09-confirm');
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('csr-result').waitFor({ timeout: 30_000 });
    assert.equal(await step(), 'result');
    await w.browser.screenshot('10-result-pem');

    assert.equal(await text(page.getByTestId('csr-result-subject')), 'CN=www.example.com,O=示例有限公司,C=CN');
    const t = await judge(file, { der: false, sm2: false, keyId });
    assert.equal(openssl(['req', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']).toString('utf8').trim(), 'subject=CN=www.example.com,O=示例有限公司,C=CN');
    assert.ok(t.includes('DNS:www.example.com, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:10'), t);
    assert.match(t, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication/);
    assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(t, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(t, /ASN1 OID: prime256v1/);
  });

  it('(b) SM2 software key, code-signing template, subject typed as RFC 4514 text, DER', async () => {
    const { page } = w;
    await page.getByTestId('wizard-restart').click();
    assert.equal(await step(), 'key');
    // The HSM key made before is listed, with its spec and level.
    await page.getByTestId('csr-key-row').first().waitFor();
    const keyId = await createKeyInWizard('EC_SM2', 'SOFTWARE', 'release signing (SM2)', '11-new-sm2-key-confirm');
    const m = await describeKey(keyId);
    assert.equal(m.KeySpec, 'EC_SM2');
    assert.equal(m.ProtectionLevel, 'SOFTWARE');
    assert.equal(await page.getByTestId('csr-key-row').count(), 2);
    assert.equal(await page.getByTestId('csr-algorithm').inputValue(), 'SM2DSA');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('csr-template').selectOption('code-signing');
    assert.equal(await page.getByTestId('csr-eku-codeSigning').isChecked(), true);
    assert.equal(await page.getByTestId('csr-eku-serverAuth').isChecked(), false);
    await page.getByTestId('csr-subject-raw-toggle').check();
    const raw = page.getByTestId('csr-subject-raw');
    // Raw text is checked as typed too: a three-letter C is refused with the same message.
    await raw.fill('CN=Release signing 2026,O=Example GmbH,C=DEU');
    assert.equal(await text(page.getByTestId('csr-error-subject')), refusal(() => dnEntry('C', 'DEU')));
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    await raw.fill('CN=Release signing 2026,O=Example GmbH\\, Berlin,C=DE');
    await page.getByTestId('csr-error-subject').waitFor({ state: 'detached' });
    assert.equal(await text(page.getByTestId('csr-subject-preview')), 'CN=Release signing 2026,O=Example GmbH\\, Berlin,C=DE');
    await page.getByTestId('csr-ku-nonRepudiation').check();
    await w.browser.screenshot('12-subject-raw-code-signing');
    await page.getByTestId('wizard-next').click();

    assert.equal(await step(), 'review');
    assert.equal(await text(page.getByTestId('csr-review-sans')), 'None');
    assert.equal(await text(page.getByTestId('csr-review-keyUsage')), 'digitalSignature,nonRepudiation');
    await page.getByTestId('csr-encoding-DER').check();
    const file = join(w.dir, 'release-signing-2026.csr.der');
    assert.equal(await page.getByTestId('csr-output-path').inputValue(), file);
    await w.browser.screenshot('13-review-der');
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('csr-result').waitFor({ timeout: 30_000 });
    await w.browser.screenshot('14-result-der');

    const bytes = readFileSync(file);
    assert.equal(bytes[0], 0x30, 'a DER SEQUENCE, not PEM text');
    const t = await judge(file, { der: true, sm2: true, keyId });
    assert.equal(
      openssl(['req', '-inform', 'DER', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']).toString('utf8').trim(),
      'subject=CN=Release signing 2026,O=Example GmbH\\, Berlin,C=DE',
    );
    assert.match(t, /X509v3 Extended Key Usage:\s+Code Signing/);
    assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
    assert.match(t, /Signature Algorithm: SM2-with-SM3/);
    assert.doesNotMatch(t, /Subject Alternative Name/);
    assert.equal(await text(page.getByTestId('csr-result-sans')), 'None');
  });

  it('(c) RSA_2048 key: PKCS #1 v1.5 by default, PSS offered and chosen; intermediate CA template with its path length', async () => {
    const { page } = w;
    await page.getByTestId('wizard-restart').click();
    await page.getByTestId('csr-key-row').first().waitFor();
    const keyId = await createKeyInWizard('RSA_2048', 'SOFTWARE', 'issuing CA 1', '16-new-rsa-key-confirm');
    const algorithm = page.getByTestId('csr-algorithm');
    assert.equal(await algorithm.inputValue(), 'RSA_PKCS1_SHA_256');
    assert.deepEqual(await algorithm.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['RSA_PKCS1_SHA_256', 'RSA_PSS_SHA_256']);
    await algorithm.selectOption('RSA_PSS_SHA_256');
    await page.getByTestId('wizard-next').click();

    // Nothing typed yet: a hint, not an error.
    assert.equal(await page.getByTestId('csr-error-subject').count(), 0);
    await page.getByTestId('csr-subject-blocker').waitFor();
    await page.getByTestId('csr-template').selectOption('intermediate-ca');
    assert.equal(await page.getByTestId('csr-ku-keyCertSign').isChecked(), true);
    assert.equal(await page.getByTestId('csr-ku-cRLSign').isChecked(), true);
    assert.equal(await page.getByTestId('csr-ku-digitalSignature').isChecked(), false);
    assert.equal(await page.getByTestId('csr-ku-keyEncipherment').isEnabled(), true, 'an RSA key may ask for keyEncipherment');
    assert.equal(await page.getByTestId('csr-bc-ca').isChecked(), true);
    const pathLen = page.getByTestId('csr-bc-pathlen');
    assert.equal(await pathLen.inputValue(), '0');
    await page.getByTestId('csr-dn-CN').fill('Example Issuing CA 1');
    await page.getByTestId('csr-dn-O').fill('Example Ltd');
    await page.getByTestId('csr-dn-C').fill('DE');
    await pathLen.fill('one');
    assert.equal(await text(page.getByTestId('csr-error-basicConstraints')), refusal(() => parseBasicConstraints('CA:true,pathlen:one')));
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    assert.equal(await text(page.getByTestId('csr-subject-blocker')), 'Fix the entry marked in red above to go on.');
    await w.browser.screenshot('17-pathlen-refused');
    await pathLen.fill('1');
    await page.getByTestId('wizard-next').click();

    assert.equal(await text(page.getByTestId('csr-review-basicConstraints')), 'CA:true,pathlen:1');
    assert.equal(await text(page.getByTestId('csr-review-keyUsage')), 'keyCertSign,cRLSign');
    assert.equal(await text(page.getByTestId('csr-review-extendedKeyUsage')), 'None');
    const file = join(w.dir, 'example-issuing-ca-1.csr.pem');
    assert.equal(await page.getByTestId('csr-output-path').inputValue(), file);
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('csr-result').waitFor({ timeout: 30_000 });

    const t = await judge(file, { der: false, sm2: false, keyId });
    assert.match(t, /Signature Algorithm: rsassaPss/);
    assert.match(t, /Salt Length: 0x20/);
    assert.match(t, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    assert.match(t, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.doesNotMatch(t, /Extended Key Usage/);
    assert.equal(openssl(['req', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253']).toString('utf8').trim(), 'subject=CN=Example Issuing CA 1,O=Example Ltd,C=DE');
  });

  it('(d) cancels a software RSA_4096 key from its progress panel: said on screen, nothing written', async () => {
    const { page } = w;
    const keysBefore = (await keystore('ListKeys', {})).TotalCount;
    await page.getByTestId('wizard-restart').click();
    await page.getByTestId('csr-source-new').check();
    await page.getByTestId('csr-new-spec').selectOption('RSA_4096');
    await page.getByTestId('csr-new-protection-SOFTWARE').check();
    await page.getByTestId('csr-new-review').click();
    await dialog(page).getByTestId('csr-new-summary').waitFor();
    // Pressed from inside the page the moment the panel appears (see keys.e2e.test.ts: software RSA
    // generation blocks the process that runs the handlers, Playwright's client included).
    const cancelled = await page.evaluateHandle(() => ({
      panel: new Promise<string>((resolve) => {
        const observer = new MutationObserver(() => {
          const button = document.querySelector<HTMLButtonElement>('[data-testid="progress"] [data-testid="cancel-operation"]');
          if (!button) return;
          observer.disconnect();
          const label = document.querySelector('[data-testid="progress"] strong')?.textContent ?? '';
          button.click();
          resolve(label);
        });
        observer.observe(document.body, { childList: true, subtree: true });
      }),
    }));
    await dialog(page).getByTestId('confirm-button').click();
    assert.equal(await cancelled.evaluate((c) => c.panel), 'Creating the key');
    await cancelled.dispose();
    const form = page.getByTestId('csr-new-key');
    await form.getByTestId('error-code').filter({ hasText: /^Cancelled$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await text(form.getByTestId('error').locator('strong')), 'Cancelled. Nothing was written.');
    await w.browser.screenshot('18-new-key-cancelled');
    assert.equal(await page.getByTestId('progress').count(), 0);
    assert.equal(await page.getByTestId('csr-new-review').isEnabled(), true);
    assert.equal(await page.getByTestId('wizard-next').isDisabled(), true);
    assert.equal((await keystore('ListKeys', {})).TotalCount, keysBefore);
  });

  it('never overwrites: the same path again is refused on the review step, the file unchanged', async () => {
    const { page } = w;
    const file = join(w.dir, 'release-signing-2026.csr.der');
    const before = readFileSync(file);
    // Still on step 1 after the cancelled key: back to the keys this keystore has.
    await page.getByTestId('csr-source-existing').check();
    await page.getByTestId('csr-key-row').first().waitFor();
    await page.getByTestId('csr-key-radio').first().check();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('csr-dn-CN').fill('Release signing 2026');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('csr-encoding-DER').check();
    assert.equal(await page.getByTestId('csr-output-path').inputValue(), file);
    await page.getByTestId('wizard-commit').click();
    await dialog(page).getByTestId('confirm-button').click();
    await page.getByTestId('error-code').filter({ hasText: 'AlreadyExists.File' }).waitFor();
    assert.match(await text(page.getByTestId('error').locator('strong')), /never overwrites/);
    assert.equal(await step(), 'review');
    await w.browser.screenshot('15-refused-existing-file');
    assert.deepEqual(readFileSync(file), before);
  });

  it('made no outside connection and raised no page error', () => {
    w.browser.assertNoOutsideTraffic();
    assert.deepEqual(w.browser.pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
