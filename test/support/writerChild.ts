/**
 * Child process for test/integration/files/outputWriter.test.ts: the output writer run as another
 * user (the parent spawns it with uid/gid set), writing one file.
 *
 *   node --import tsx test/support/writerChild.ts <path> <content>
 *
 * Prints one JSON line: {"ok":true,"sha256":...} or {"ok":false,"code":...,"message":...}.
 */
import { planOutputs, publishOutputs, stageOutputs } from '../../src-main/files/outputWriter';
import { KmsError } from '../../src-shared/errors';

async function main(): Promise<void> {
  const [path, content] = process.argv.slice(2);
  if (!path || content === undefined) throw new Error('usage: writerChild <path> <content>');
  try {
    const plan = await planOutputs([path], `child-${process.pid}`);
    const [published] = await publishOutputs(await stageOutputs(plan, [{ path, content }]));
    process.stdout.write(`${JSON.stringify({ ok: true, sha256: published!.sha256 })}\n`);
  } catch (e) {
    if (!(e instanceof KmsError)) throw e;
    process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, message: e.message })}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
