/**
 * What the network gets wrong, counted in JS from what the evaluation pass reads back (the predicted class of
 * every test image and the labels JS already holds): the confusion matrix, and the gallery of the first test
 * images the page shows with their predictions.
 */
import { labelOf } from '../data/format';
import { gatherBatch, rangeIndices } from '../data/pipeline';
import type { LoadedDataset } from '../data/source';
import { GALLERY_SIZE, type Gallery } from '../experiment/record';

/** classes × classes counts, row-major: row = true class, column = predicted class. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[] {
  if (labels.length !== predicted.length)
    throw new RangeError(`${labels.length} labels but ${predicted.length} predictions`);
  const m = new Array<number>(classes * classes).fill(0);
  for (let i = 0; i < labels.length; i++) m[labels[i]! * classes + predicted[i]!]!++;
  return m;
}

/** Images of each class among `labels`. */
export function classCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts;
}

/** How many test images an evaluation covers: the test set, or its first `testSubset` (0: all). */
export function evaluatedImages(data: LoadedDataset, testSubset: number): number {
  return testSubset > 0 ? Math.min(testSubset, data.test.count) : data.test.count;
}

/** The first min(GALLERY_SIZE, evaluated) test images with their labels, and the class counts of the evaluated. */
export function galleryOf(data: LoadedDataset, testSubset: number): Gallery {
  const evaluated = evaluatedImages(data, testSubset);
  const shown = gatherBatch(data.test, rangeIndices(0, Math.min(GALLERY_SIZE, evaluated)));
  return {
    classNames: data.classNames.slice(),
    classCounts: classCounts(
      Array.from({ length: evaluated }, (_, i) => labelOf(data.test, i)),
      data.layout.classes,
    ),
    labels: Array.from(shown.labels),
    pixels: shown.pixels,
  };
}
