// `make chaos`: the long seeded chaos run (lib/chaos.mjs) on its own stack, with figures.
// CHAOS_EXECUTIONS (default 60) executions on CHAOS_SEED (default 20261121).
import { chaosRun } from './lib/chaos.mjs';
import { Pipeline } from './lib/pipeline.mjs';
import { startStack } from './lib/stack.mjs';

const executions = Number(process.env.CHAOS_EXECUTIONS ?? 60);
const seed = Number(process.env.CHAOS_SEED ?? 20261121);
const stack = await startStack({ name: 'chaos' });
let failed = true;
try {
  const started = Date.now();
  const { figures, problems } = await chaosRun({ stack, pipeline: new Pipeline(stack), seed, executions });
  const total = Object.values(figures.faults).reduce((a, b) => a + b, 0);
  console.log(`chaos run: CHAOS_EXECUTIONS=${executions} CHAOS_SEED=${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`executions: ${figures.executions} on ${figures.offers} offers`);
  console.log(`faults injected: ${total} (${Object.entries(figures.faults).sort().map(([k, v]) => `${k} ${v}`).join(', ')}); requests answered by a fault: ${figures.faultedRequests}`);
  console.log(`outcomes: ${Object.entries(figures.outcomes).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`documents verified: ${figures.documents}, problems: ${problems.length}`);
  for (const p of problems) console.log(`  PROBLEM ${p}`);
  failed = problems.length > 0;
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
