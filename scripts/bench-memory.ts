/**
 * npm run bench:memory [-- '<query>' '<query>' …]
 *
 * The memory plan (src/model/memory.ts) against what tfjs's WASM backend really holds, side by side. Each config
 * trains two steps (the first warms up) in a fresh Node process on the embedded set, with the micro-batch the
 * worker would choose on WASM (auto resolved), and the table gives:
 *   planned     the plan's peak bytes of one step (weights, momentum, gradients, batch, activations, workspace,
 *               and XNNPACK's own copies: `native`, allocated inside the module where the probe cannot count them)
 *   tensors     the planned peak less XNNPACK's copies: what the probe can see
 *   measured    the most bytes the module's tensors held at once (its malloc and free, counted), against tensors
 *   heap        the module's memory after the steps: what WASM's 4 GiB applies to (it only grows, by ≥ 1/5 a time),
 *               against planned
 *   tf.memory   tf.memory().numBytes after the steps: what stays between steps (weights, BN state, momentum)
 * Figures, not a test: memory.test.ts asserts the agreement on small configs.
 */
import { spawnSync } from 'node:child_process';
import { table } from './table';

const DEFAULT = [
  'depth=20&batch=32',
  'depth=56&batch=128',
  'depth=110&batch=128',
  'depth=110&batch=128&unit=exclusive-gate',
  'depth=164&block=bottleneck&batch=128',
  'depth=1001&block=bottleneck&batch=8',
];

interface Row {
  query: string;
  microBatch: number;
  planned: number;
  native: number;
  measured: number;
  heap: number;
  state: number;
}

async function one(query: string): Promise<Row> {
  const tf = await import('@tensorflow/tfjs');
  await import('../src/kernels/wasm'); // the WASM backend with our kernels, as the worker runs it
  await tf.setBackend('wasm');
  const { parseQuery } = await import('../src/experiment/codec');
  const { loadDataset } = await import('../src/data/source');
  const { Trainer } = await import('../src/train/trainer');
  const { chooseMicroBatch, memoryLimit } = await import('../src/model/memory');
  const { probeWasmMemory } = await import('../src/model/memoryProbe');
  const { config, problems } = parseQuery(`dataset=synthetic&warmupIters=0&${query}`);
  if (problems.length) throw new Error(`${query}: ${problems.map((p) => `${p.key}: ${p.reason}`).join('; ')}`);
  const choice = chooseMicroBatch(config, memoryLimit(config, 'wasm'));
  if (!choice.ok) throw new Error(choice.reason);
  const data = await loadDataset('synthetic', 'embedded', config.seed);
  const probe = probeWasmMemory();
  const t = new Trainer({ ...config, microBatch: choice.microBatch }, data);
  await t.step();
  await t.step();
  return {
    query,
    microBatch: choice.microBatch,
    planned: choice.memory.peak,
    native: choice.memory.native,
    measured: probe.peak,
    heap: probe.heap,
    state: tf.memory().numBytes,
  };
}

const MIB = 2 ** 20;
const mib = (b: number) => `${(b / MIB).toFixed(0)} MiB`;

if (process.argv[2] === '--one') {
  process.stdout.write(JSON.stringify(await one(process.argv[3]!)));
} else {
  const queries = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT;
  const rows: string[][] = [];
  for (const q of queries) {
    process.stderr.write(`${q}…\n`);
    const r = spawnSync('npx', ['tsx', 'scripts/bench-memory.ts', '--one', q], { encoding: 'utf8' });
    if (r.status !== 0) {
      const lines = r.stderr.trim().split('\n');
      rows.push([
        q,
        ...Array<string>(7).fill('—'),
        // The error's own line, not Node's closing banner under the stack.
        `failed: ${(lines.findLast((l) => /Error\b/.test(l)) ?? lines.at(-1) ?? '').slice(0, 80)}`,
      ]);
      continue;
    }
    const row = JSON.parse(r.stdout) as Row;
    const tensors = row.planned - row.native;
    const off = (x: number, plan: number) => `${x >= plan ? '+' : ''}${(((x - plan) / plan) * 100).toFixed(1)}%`;
    rows.push([
      q,
      String(row.microBatch),
      mib(row.planned),
      mib(tensors),
      mib(row.measured),
      off(row.measured, tensors),
      mib(row.heap),
      off(row.heap, row.planned),
      mib(row.state),
    ]);
  }
  const head = [
    'config (embedded set)',
    'micro',
    'planned',
    'tensors',
    'measured',
    'vs tensors',
    'heap',
    'vs planned',
    'tf.memory',
  ];
  console.log(table(head, rows).join('\n'));
}
