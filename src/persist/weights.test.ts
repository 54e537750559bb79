import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { toTfjsWeights } from './weights';

describe('toTfjsWeights', () => {
  it('writes a manifest tf.io.decodeWeights reads back to the same tensors', async () => {
    const { config } = parseQuery('depth=8&dataset=synthetic');
    const params = [
      { name: 'conv1/w', shape: [3, 3, 3, 2], data: Float32Array.from({ length: 54 }, (_, i) => i / 7) },
      { name: 'bn1/gamma', shape: [2], data: Float32Array.from([1, -2.5]) },
    ];
    const { modelJson, weightsBin } = toTfjsWeights(config, { iter: 12, params });
    const model = JSON.parse(modelJson);
    expect(model.userDefinedMetadata).toMatchObject({ link: 'depth=8&dataset=synthetic', iteration: 12 });
    expect(weightsBin.byteLength).toBe(56 * 4);
    const decoded = tf.io.decodeWeights(weightsBin, model.weightsManifest[0].weights);
    for (const p of params) {
      expect(decoded[p.name]!.shape).toEqual(p.shape);
      expect(Array.from(await decoded[p.name]!.data())).toEqual(Array.from(p.data));
    }
    Object.values(decoded).forEach((t) => t.dispose());
  });
});
