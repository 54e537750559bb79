/**
 * A run's weights in tfjs's weights format, for use elsewhere: `model.json` holds a `weightsManifest` (names,
 * shapes, dtypes) pointing at `weights.bin` (the float32 values, concatenated in manifest order), which is what
 * `tf.io.loadWeights` reads. There is no Keras topology to ship (the network is code, not layers): model.json
 * carries the experiment's config and link instead, and `buildNetwork(config)` rebuilds the same network whose
 * `variables` take these tensors by name.
 */
import { toQuery } from '../experiment/codec';
import type { Config } from '../experiment/schema';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TfjsWeights {
  modelJson: string;
  weightsBin: ArrayBuffer;
}

export function toTfjsWeights(
  config: Config,
  checkpoint: { iter: number; params: readonly NamedTensor[] },
): TfjsWeights {
  return encodeWeights(checkpoint.params, { link: toQuery(config), config, iteration: checkpoint.iter });
}

/** Named float32 tensors as a weights manifest and one `bin` file (the PyTorch package reads and writes these too). */
export function encodeWeights(
  tensors: readonly NamedTensor[],
  userDefinedMetadata: Record<string, unknown>,
  bin = 'weights.bin',
): TfjsWeights {
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const values = new Float32Array(total);
  let offset = 0;
  for (const t of tensors) {
    values.set(t.data, offset);
    offset += t.data.length;
  }
  const model = {
    format: 'identity-mappings-resnet-weights',
    generatedBy: 'Identity Mappings playground',
    modelTopology: null,
    userDefinedMetadata,
    weightsManifest: [
      { paths: [bin], weights: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' })) },
    ],
  };
  return { modelJson: JSON.stringify(model, null, 2), weightsBin: values.buffer };
}
