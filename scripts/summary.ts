/**
 * npm run --silent summary -- '<query string or full link>' [--plan] [--signal [--batch N]]
 * Prints one JSON object: the resolved config, the problems of the link, and its canonical query.
 * Exits 0 whatever the link holds: a bad link is reported in "problems", not by failing.
 *
 * --plan adds "plan": the network plan as the PyTorch package reads it (src/model/planExport.ts, planVersion 1):
 * every op, parameter name, shape and initialiser, each unit's downsampling and shortcut.
 *
 * --signal adds "signal": the network built at initialisation, one batch of N (default 32) test images through it
 * on tfjs's WASM backend, and each residual unit's ‖x_l‖ and ‖∂E/∂x_l‖ (src/model/signal.ts; Eqns. 5 and 8).
 * Images: the link's dataset from data/<dataset> (npm run data), else for CIFAR-10
 * ../shared/data/cifar10/test_batch.bin, else the embedded synthetic set; "source" says which.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChannelStats, Manifest, RecordSet } from '../src/data/format';
import type { Config } from '../src/experiment/schema';
import { summarize } from '../src/experiment/summary';
import { planNetwork } from '../src/model/plan';
import { exportPlan } from '../src/model/planExport';
import { dataDir } from './datasetServer';

const USAGE = "usage: npm run summary -- '<query string or link>' [--plan] [--signal [--batch N]]";

function args(argv: string[]) {
  let link: string | undefined;
  let signal = false;
  let plan = false;
  let batch = 32;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--signal') signal = true;
    else if (a === '--plan') plan = true;
    else if (a === '--batch' || a.startsWith('--batch=')) {
      const v = a === '--batch' ? argv[++i] : a.slice('--batch='.length);
      batch = Number(v);
      if (!Number.isInteger(batch) || batch < 1)
        throw new Error(`--batch needs a whole number ≥ 1, got ${v}\n${USAGE}`);
    } else if (!a.startsWith('--')) link ??= a;
  }
  return { link: link ?? '', signal, plan, batch };
}

/** First `n` test records of the link's dataset, normalised as training would, and where they came from. */
async function testBatch(config: Config, n: number) {
  const [format, pipeline, cifar, source] = await Promise.all([
    import('../src/data/format'),
    import('../src/data/pipeline'),
    import('../src/data/cifar'),
    import('../src/data/source'),
  ]);
  const root = new URL('..', import.meta.url);
  let set: RecordSet | undefined;
  let normalization: ChannelStats | undefined;
  let from = '';
  if (config.dataset !== 'synthetic') {
    const dir = pathToFileURL(`${join(dataDir(fileURLToPath(root)), config.dataset)}/`);
    const shared = new URL('../shared/data/cifar10/test_batch.bin', root);
    if (existsSync(new URL('manifest.json', dir))) {
      const m = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as Manifest;
      const shard = m.splits.test[0]!;
      const bytes = new Uint8Array(readFileSync(new URL(shard.file, dir)));
      if ((await cifar.sha256(bytes)) !== shard.sha256) throw new Error(`${shard.file} differs from its manifest`);
      [set, normalization, from] = [format.recordSet(m.layout, bytes), m.normalization, `data/${m.dataset}`];
    } else if (config.dataset === 'cifar10' && existsSync(shared)) {
      set = cifar.validateFile(cifar.OFFICIAL.cifar10, 'test_batch.bin', new Uint8Array(readFileSync(shared)));
      [normalization, from] = [format.PAPER_NORMALIZATION.cifar10, '../shared/data/cifar10/test_batch.bin'];
    }
  }
  if (!set || !normalization) {
    const d = await source.loadDataset('synthetic', 'embedded', config.seed);
    [set, normalization, from] = [d.test, d.normalization, 'embedded synthetic set'];
  }
  const count = Math.min(n, set.count);
  const { pixels, labels } = pipeline.gatherBatch(set, pipeline.rangeIndices(0, count));
  return { images: pipeline.toNormalizedImages(pixels, count, normalization), labels, source: `${from} (test)` };
}

// tfjs and the data modules are imported only with --signal, so the plain summary stays instant.
async function signal(config: Config, batch: number) {
  const tf = await import('@tensorflow/tfjs');
  await import('../src/kernels/wasm'); // the WASM backend with our kernels (its conv gradients among them)
  // WASM trains convnets in Node in seconds; the CPU backend if it cannot start.
  if (!(await tf.setBackend('wasm').catch(() => false))) await tf.setBackend('cpu');
  const { buildNetwork } = await import('../src/model/network');
  const { signalProfile } = await import('../src/model/signal');
  const { images, labels, source } = await testBatch(config, batch);
  const net = buildNetwork(config);
  const t0 = performance.now();
  const profile = await signalProfile(net, images, labels);
  const seconds = Number(((performance.now() - t0) / 1000).toFixed(2));
  net.dispose();
  images.dispose();
  return { source, backend: tf.getBackend(), seconds, ...profile };
}

let parsed: ReturnType<typeof args>;
try {
  parsed = args(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
const { link, signal: withSignal, plan: withPlan, batch } = parsed;
const out = summarize(link);
process.stdout.write(
  `${JSON.stringify(
    {
      ...out,
      ...(withPlan ? { plan: exportPlan(planNetwork(out.config)) } : {}),
      ...(withSignal ? { signal: await signal(out.config, batch) } : {}),
    },
    null,
    2,
  )}\n`,
);
