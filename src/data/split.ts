// The validation split is carved out of the training set with a seeded shuffle; the test set is
// never touched here, so it cannot leak into early stopping or model selection.
import { Rng } from '../util/random.js';
import { subset, type ImageSet } from './datasets.js';

export interface TrainValSplit {
  train: ImageSet;
  validation: ImageSet;
}

export function splitTrainValidation(set: ImageSet, fraction: number, seed: number): TrainValSplit {
  const order = new Rng(seed ^ 0x5eed).permutation(set.count);
  const nVal = Math.round(set.count * fraction);
  return {
    validation: subset(set, order.subarray(0, nVal)),
    train: subset(set, order.subarray(nVal)),
  };
}
