/**
 * Child process for test/integration/keystore/crash.test.ts. Opens the keystore named in argv
 * (the passphrase comes on stdin, never argv, which `ps` shows) and commits small transactions
 * in a tight loop until it is killed. Each transaction appends ROWS_PER_TX audit_log rows, then
 * sets meta.counter to the number of transactions; after each commit it prints "committed <n>",
 * so the parent knows the newest transaction that must survive.
 *
 * With `--stall-after N` it commits N transactions, then starts one more, writes enough rows
 * to spill pages into the database file itself, prints "stalled", and waits inside the open
 * transaction for the kill: a crash that is certain to leave a hot journal.
 */
import { Keystore } from '../../src-main/keystore/keystore';
import type { SqlExecutor } from '../../src-main/keystore/sqlcipher';

const ROWS_PER_TX = 4;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function appendRows(tx: SqlExecutor, n: number, rows: number): Promise<void> {
  for (let i = 1; i <= rows; i++) {
    const seq = (n - 1) * ROWS_PER_TX + i;
    await tx.run(
      'INSERT INTO audit_log (seq, request_id, time, operation, details, result, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [seq, `req-${seq}`, new Date().toISOString(), 'CrashTest', 'x'.repeat(100 + ((seq * 997) % 3000)), 'Success', 'p', 'h'],
    );
    // Yield between statements, so a kill often lands inside a transaction.
    await new Promise((r) => setImmediate(r));
  }
}

async function commitOne(ks: Keystore): Promise<number> {
  return ks.transaction(async (tx) => {
    const row = await tx.get<{ value: string }>("SELECT value FROM meta WHERE name = 'counter'");
    const n = Number(row?.value ?? 0) + 1;
    await appendRows(tx, n, ROWS_PER_TX);
    // The head beside the log, as appendAudit keeps it (the freshness check at open compares them).
    await tx.run("INSERT INTO meta (name, value) VALUES ('audit_head', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [`${n * ROWS_PER_TX}:h`]);
    await tx.run(
      "INSERT INTO meta (name, value) VALUES ('counter', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      [String(n)],
    );
    return n;
  });
}

async function stallInsideTransaction(ks: Keystore): Promise<never> {
  return ks.transaction(async (tx) => {
    // A tiny page cache makes SQLite write changed pages to the file before COMMIT.
    await tx.exec('PRAGMA cache_size = 2');
    const row = await tx.get<{ value: string }>("SELECT value FROM meta WHERE name = 'counter'");
    const n = Number(row?.value ?? 0) + 1;
    await tx.run('UPDATE audit_log SET details = details || ?', ['changed by an uncommitted transaction']);
    await appendRows(tx, n, ROWS_PER_TX - 1);
    process.stdout.write('stalled\n');
    // A pending promise alone does not keep Node alive: without the timer the process would
    // exit here, and closing the connection on the way out would roll the transaction back.
    return new Promise<never>(() => setInterval(() => undefined, 60_000));
  });
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) throw new Error('usage: keystoreCrashWriter <keystore path> [--stall-after N]  (passphrase on stdin)');
  const stallAfter = process.argv[3] === '--stall-after' ? Number(process.argv[4]) : Infinity;
  const passphrase = await readStdin();
  const ks = await Keystore.open(path, passphrase);
  passphrase.fill(0);
  for (let done = 0; done < stallAfter; done++) {
    process.stdout.write(`committed ${await commitOne(ks)}\n`);
  }
  await stallInsideTransaction(ks);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
