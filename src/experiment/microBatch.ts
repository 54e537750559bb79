/**
 * Micro-batch arithmetic (pure): which micro-batch sizes a batch allows, and the paper's per-replica size.
 *
 * A step of `batch` images runs as batch / m passes of m consecutive images (src/train/trainer.ts), so m must
 * divide the batch. The paper trained its CIFAR nets with "mini-batch size 128 on 2 GPUs (64 each)" (Appendix):
 * each GPU's BN normalised 64 images, so 64 is the paper's micro-batch.
 */

/** Images per BN in the paper's CIFAR training (2 GPUs × 64). `auto` never picks more. */
export const PAPER_MICRO_BATCH = 64;

/** Every m that divides `batch`, ascending. */
export function divisors(batch: number): number[] {
  const out: number[] = [];
  for (let m = 1; m <= batch; m++) if (batch % m === 0) out.push(m);
  return out;
}

/** "1, 2, 4 or 8": a batch's divisors, for messages. */
export function divisorList(batch: number): string {
  const d = divisors(batch);
  return d.length === 1 ? String(d[0]) : `${d.slice(0, -1).join(', ')} or ${d.at(-1)}`;
}

/** Why m cannot split `batch`, or null when it can. */
export function microBatchProblem(m: number, batch: number): string | null {
  if (m > batch) return `must be at most the batch (${batch})`;
  return batch % m === 0 ? null : `must divide the batch (${batch}): ${divisorList(batch)}`;
}

/** The largest divisor of `batch` that is at most `m` (at least 1): the closest valid micro-batch below m. */
export function divisorAtMost(batch: number, m: number): number {
  return (
    divisors(batch)
      .filter((d) => d <= m)
      .at(-1) ?? 1
  );
}

/** What microBatch=auto picks where memory allows: the paper's 64 images per BN, or the batch's largest divisor below. */
export function preferredMicroBatch(batch: number): number {
  return divisorAtMost(batch, PAPER_MICRO_BATCH);
}
