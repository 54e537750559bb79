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

/** A trainable parameter's SGD momentum buffer, as the PyTorch package exports it beside the parameters. */
export const MOMENTUM_PREFIX = 'momentum/';

export interface DecodedWeights {
  /** The network's parameters (BN running averages included), by plan name. */
  params: NamedTensor[];
  /** Momentum buffers by their parameter's plan name (empty when the file has none, as the page's own export). */
  momentum: NamedTensor[];
  metadata: Record<string, unknown>;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a tfjs weights manifest (`model.json`) and the .bin files it names, given by file name: the page's own
 * *Weights* export or a PyTorch run's. A browser may rename a download ("weights (1).bin"), so when the manifest
 * names one file and exactly one .bin is given, that one is used. Throws one sentence on anything it cannot use.
 */
export function decodeWeights(modelJson: string, bins: ReadonlyMap<string, ArrayBuffer>): DecodedWeights {
  let doc: unknown;
  try {
    doc = JSON.parse(modelJson);
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(doc) || !Array.isArray(doc.weightsManifest)) {
    throw new Error('not a weights file: a tfjs model.json has a weightsManifest');
  }
  const params: NamedTensor[] = [];
  const momentum: NamedTensor[] = [];
  for (const group of doc.weightsManifest as unknown[]) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new Error('the weightsManifest has a group without paths and weights');
    }
    const paths = group.paths as string[];
    const chunks = paths.map((p) => {
      const bin = bins.get(p) ?? (paths.length === 1 && bins.size === 1 ? [...bins.values()][0] : undefined);
      if (!bin) throw new Error(`${p} is missing: choose it together with the model.json`);
      return new Uint8Array(bin);
    });
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((offset, c) => (bytes.set(c, offset), offset + c.length), 0);
    if (bytes.length % 4 !== 0)
      throw new Error(`${paths.join(', ')} holds ${bytes.length} bytes, not whole float32 values`);
    const values = new Float32Array(bytes.buffer);
    let offset = 0;
    for (const w of group.weights as unknown[]) {
      if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
        throw new Error('the weightsManifest has an entry without a name and a shape');
      }
      if ((w.dtype ?? 'float32') !== 'float32')
        throw new Error(`${w.name} is ${String(w.dtype)}; only float32 is read`);
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      if (offset + n > values.length) {
        throw new Error(`${paths.join(', ')} holds ${values.length} values, fewer than the manifest describes`);
      }
      const tensor = { name: w.name, shape, data: values.slice(offset, offset + n) };
      offset += n;
      if (w.name.startsWith(MOMENTUM_PREFIX)) momentum.push({ ...tensor, name: w.name.slice(MOMENTUM_PREFIX.length) });
      else params.push(tensor);
    }
    if (offset !== values.length) {
      throw new Error(`${paths.join(', ')} holds ${values.length} values, the manifest describes ${offset}`);
    }
  }
  return { params, momentum, metadata: isRecord(doc.userDefinedMetadata) ? doc.userDefinedMetadata : {} };
}
