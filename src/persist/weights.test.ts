import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { decodeWeights, encodeWeights, toTfjsWeights } from './weights';

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

describe('decodeWeights', () => {
  const params = [
    { name: 'conv1.w', shape: [3, 3, 3, 2], data: Float32Array.from({ length: 54 }, (_, i) => i / 7) },
    { name: 'momentum/conv1.w', shape: [3, 3, 3, 2], data: Float32Array.from({ length: 54 }, (_, i) => -i) },
    { name: 'bn1.gamma', shape: [2], data: Float32Array.from([1, -2.5]) },
  ];
  const { modelJson, weightsBin } = encodeWeights(params, { iteration: 30, link: 'depth=8' }, 'run-model.bin');

  it("reads back what encodeWeights wrote, momentum buffers apart (a PyTorch run's export)", () => {
    const d = decodeWeights(modelJson, new Map([['run-model.bin', weightsBin]]));
    expect(d.metadata).toEqual({ iteration: 30, link: 'depth=8' });
    expect(d.params.map((t) => t.name)).toEqual(['conv1.w', 'bn1.gamma']);
    expect(d.momentum.map((t) => t.name)).toEqual(['conv1.w']);
    expect(d.params[0]!.data).toEqual(params[0]!.data);
    expect(d.params[1]!).toEqual(params[2]!);
    expect(d.momentum[0]!.data).toEqual(params[1]!.data);
  });

  it('takes a renamed .bin when it is the only one, and says what is wrong otherwise', () => {
    expect(decodeWeights(modelJson, new Map([['weights (1).bin', weightsBin]])).params).toHaveLength(2);
    const two = new Map([
      ['a.bin', weightsBin],
      ['b.bin', weightsBin],
    ]);
    expect(() => decodeWeights(modelJson, two)).toThrow(
      'run-model.bin is missing: choose it together with the model.json',
    );
    expect(() => decodeWeights(modelJson, new Map([['run-model.bin', weightsBin.slice(8)]]))).toThrow(
      'run-model.bin holds 108 values, fewer than the manifest describes',
    );
    expect(() => decodeWeights('{"runs": []}', new Map())).toThrow('not a weights file');
    expect(() => decodeWeights('{', new Map())).toThrow(/^not valid JSON/);
    const int = modelJson.replace('"float32"', '"int32"');
    expect(() => decodeWeights(int, new Map([['run-model.bin', weightsBin]]))).toThrow('conv1.w is int32');
  });
});
