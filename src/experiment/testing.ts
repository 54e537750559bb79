/** fast-check generators of experiments, built from the schema table (used by the tests only). */
import fc from 'fast-check';
import { canonical } from './codec';
import { divisors } from './microBatch';
import { BACKENDS, BLOCKS, DATASETS, type Config } from './schema';
import { UNIT_IDS } from './units';

const float = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((v) => v + 0); // links cannot tell -0 from 0

/** Any valid experiment, canonical (keys that do not apply are at their defaults). */
export const arbitraryConfig: fc.Arbitrary<Config> = fc
  .record({
    unit: fc.constantFrom(...UNIT_IDS),
    shortcutScale: float(0, 2),
    residualScale: float(0, 2),
    gateBias: float(-20, 20),
    dropRate: float(0, 0.95),
    block: fc.constantFrom(...BLOCKS),
    convsPerUnit: fc.constantFrom(1, 2),
    n: fc.integer({ min: 1, max: 60 }),
    dataset: fc.constantFrom(...DATASETS),
    trainSubset: fc.integer({ min: 0, max: 50_000 }),
    testSubset: fc.integer({ min: 0, max: 10_000 }),
    augment: fc.boolean(),
    batch: fc.integer({ min: 1, max: 1024 }),
    /** auto, or a pick among the batch's divisors (mapped below). */
    microBatchPick: fc.option(fc.nat(), { nil: undefined }),
    lr: float(1e-6, 1000),
    momentum: float(0, 0.999),
    nesterov: fc.boolean(),
    wd: float(0, 0.1),
    iters: fc.integer({ min: 1, max: 1_000_000 }),
    milestones: fc
      .uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 8 })
      .map((xs) => xs.sort((a, b) => a - b)),
    warmupIters: fc.integer({ min: 0, max: 1_000_000 }),
    warmupLr: float(1e-6, 1000),
    evalEvery: fc.integer({ min: 1, max: 1_000_000 }),
    checkpointMinutes: float(0, 1440),
    seed: fc.integer({ min: 0, max: 2_147_483_647 }),
    backend: fc.constantFrom(...BACKENDS),
    memoryBudget: fc.option(float(0.25, 1024), { nil: undefined }),
  })
  .map(({ n, microBatchPick, memoryBudget, ...rest }) => {
    const convs = rest.block === 'bottleneck' ? 3 : rest.convsPerUnit;
    const d = divisors(rest.batch);
    const microBatch = microBatchPick === undefined ? 'auto' : d[microBatchPick % d.length]!;
    return canonical({
      ...rest,
      microBatch,
      memoryBudget: memoryBudget ?? 'auto',
      depth: 3 * convs * n + 2,
    } as Config);
  })
  .filter((c) => c.depth <= 1202);
