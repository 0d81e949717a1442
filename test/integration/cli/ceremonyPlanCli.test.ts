/**
 * `keyroom LintCeremonyPlan --Plan FILE`, spawned as a user runs it (bin/keyroom, the bundle in
 * out/cli/): the example plan lints with the SHA-256 that OpenSSL gives for the file, a plan with
 * problems is one InvalidParameter.Plan error listing them by line and column, anything but a
 * regular file of at most 1 MiB is refused without waiting on it, and no keystore is touched.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEYROOM_BIN, assertFreshCliBundle } from '../../support/keyroomCli';
import { openssl } from '../../support/openssl';
import { hexToBytes } from '@noble/hashes/utils.js';
import { pgpWords } from '../../../src-shared/domain/pgpWords';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = 'examples/ceremonies/release-signing.yaml';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
/** A keystore path that must still not exist after every run: linting never opens one. */
let keystore: string;

function keyroom(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYROOM_')) env[k] = v;
    env.KEYROOM_KEYSTORE = keystore;
    const child = spawn(process.execPath, [KEYROOM_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function failure(r: Run): { Code: string; Message: string } {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, 'one JSON line on stderr');
  return JSON.parse(lines[0]!) as { Code: string; Message: string };
}

describe('keyroom LintCeremonyPlan', () => {
  before(() => {
    assertFreshCliBundle();
    dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'keyroom-plan-'));
    keystore = nodePath.join(dir, 'no-keystore.db');
  });
  after(() => {
    assert.equal(fs.existsSync(keystore), false, 'LintCeremonyPlan created or opened no keystore');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lints the example plan: its hash is the SHA-256 OpenSSL gives for the file, in hex groups and PGP words', async () => {
    const r = await keyroom(['LintCeremonyPlan', '--Plan', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      Plan: string;
      PlanHash: { Sha256: string; Sha256Groups: string; Sha256Words: string[] };
      Steps: { Id: string; Operation?: string }[];
      Roles: { Name: string }[];
      TotalMinutes: number;
    };
    const expected = /([0-9a-f]{64})/.exec(openssl(['dgst', '-sha256', nodePath.join(ROOT, EXAMPLE)]).toString())![1]!;
    assert.equal(out.PlanHash.Sha256, expected);
    assert.equal(out.PlanHash.Sha256Groups, expected.toUpperCase().match(/.{4}/g)!.join(' '));
    assert.deepEqual(out.PlanHash.Sha256Words, pgpWords(hexToBytes(expected)));
    assert.deepEqual(out.Steps.map((s) => s.Operation ?? s.Id), ['selftest', 'seal', 'CreateKey', 'public-key', 'GenerateCsr']);
    assert.deepEqual(out.Roles.map((x) => x.Name), ['administrator', 'operator', 'witness']);
    assert.equal(out.TotalMinutes, 5);
  });

  it('a plan with problems: InvalidParameter.Plan, every problem as path:line:column, sorted', async () => {
    const plan = nodePath.join(dir, 'bad.yaml');
    const text = fs
      .readFileSync(nodePath.join(ROOT, EXAMPLE), 'utf8')
      .replace('timezone: Asia/Shanghai', 'timezone: Asia/Shangai')
      .replace('KeyId: "${make-key.KeyId}"', 'KeyId: "${make-key.KeyID}"')
      .replace('  id: release-2027-q1\n', '  id: release-2027-q1\n  kind: production\n');
    fs.writeFileSync(plan, text);
    const e = failure(await keyroom(['LintCeremonyPlan', '--Plan', plan]));
    assert.equal(e.Code, 'InvalidParameter.Plan');
    const lines = e.Message.split('\n');
    assert.match(lines[0]!, /has 3 problems/);
    // The unknown key does not hide the checks of the well-formed parts.
    assert.deepEqual(lines.slice(1).map((l) => l.slice(plan.length + 1).split(': ')[0]), ['6:3', '8:13', '46:26']);
    assert.equal(lines[1], `${plan}:6:3: unknown key "kind" in ceremony`);
    assert.match(lines[2]!, /"Asia\/Shangai" is not an IANA time zone/);
    assert.match(lines[3]!, /\$\{make-key\.KeyID\} refers to KeyID/);
  });

  it('refuses a folder, a missing file, a FIFO (without waiting for a writer) and a plan over 1 MiB', async () => {
    const fifo = nodePath.join(dir, 'plan.fifo');
    execFileSync('mkfifo', [fifo]);
    const big = nodePath.join(dir, 'big.yaml');
    fs.writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\n`);
    const runs = await Promise.all([dir, nodePath.join(dir, 'missing.yaml'), fifo, big].map((p) => keyroom(['LintCeremonyPlan', '--Plan', p])));
    const messages = runs.map((r) => {
      const e = failure(r);
      assert.equal(e.Code, 'InvalidParameter.Plan');
      return e.Message;
    });
    assert.match(messages[0]!, /it is a folder/);
    assert.match(messages[1]!, /there is no such file/);
    assert.match(messages[2]!, /not a regular file/);
    assert.match(messages[3]!, /a plan has at most 1048576/);
  });
});
