import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './index';
import { checkKernels } from '../testing';

describe('our WASM kernels against the CPU backend', () => {
  it('conv2d gradients and batch norm: values and gradients match, nothing leaks', async () => {
    const results = await checkKernels('wasm');
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThan(50);
  }, 120_000);

  it('replace tfjs-backend-wasm’s missing filter gradient, so tf.conv2d trains there', async () => {
    await tf.setBackend('wasm');
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
    await tf.setBackend('cpu');
  });
});
