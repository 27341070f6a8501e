/** One model in a fresh Node process (so its wasm heap is its own): prints `RESULT <json>`. */
import { runNode } from './node';

(async () => {
  const config = JSON.parse(process.argv[2]) as { model: string; runs: number; cpuRuns: number; cpuModels: string[]; soak: number; beyondRuns?: number };
  const result = await runNode({ ...config, log: (l) => process.stderr.write(`  node: ${l}\n`) }, [config.model]);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
})().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
