/** Finding a Python that runs the PyTorch package (python/identity_mappings): for its tests and for npm run claims. */
import { spawnSync } from 'node:child_process';

/** The first of $PYTHON, python3, /usr/bin/python3 that imports torch and numpy, or null. */
export function findTorchPython(): string | null {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return python;
  }
  return null;
}
