// Training throughput of the default model on every backend that starts here: the real training
// loop (src/train/train.ts) for one epoch over a fixed slice of MNIST, after a short warm-up.
//
//   node dist/bench/train.js [config] [--images N]     (default configs/default.json, 3,200 images)
import { loadConfig } from '../config/load.js';
import { loadDataset } from '../data/datasets.js';
import { initBackend, listAvailableBackends } from '../train/backend.js';
import { trainModel } from '../train/train.js';
import { setLogLevel } from '../util/log.js';

const args = process.argv.slice(2);
const configPath = args.find((a) => !a.startsWith('--')) ?? 'configs/default.json';
const imagesFlag = args.indexOf('--images');
const images = imagesFlag >= 0 ? Number(args[imagesFlag + 1]) : 3200;

setLogLevel('warn');
const config = loadConfig(configPath);
config.training.epochs = 1;
config.training.validationSplit = 0;
config.dataset.testLimit = 100;

const backends = await listAvailableBackends();
console.log(`${config.name}: ${config.model.architecture}, batch ${config.training.batchSize}, augmentation ${config.training.augmentation.enabled ? 'on' : 'off'}`);
for (const name of backends) {
  await initBackend(name);
  // cpu is ~40x slower: a smaller slice keeps the benchmark to a minute.
  const n = name === 'cpu' ? Math.min(images, 320) : images;
  const warm = loadConfig(configPath);
  Object.assign(warm.training, { epochs: 1, validationSplit: 0 });
  Object.assign(warm.dataset, { trainLimit: warm.training.batchSize * 3, testLimit: 10 });
  (await trainModel(warm, loadDataset(warm.dataset), { backend: name, trainingHash: 'bench' })).model.dispose();

  config.dataset.trainLimit = n;
  const result = await trainModel(config, loadDataset(config.dataset), { backend: name, trainingHash: 'bench' });
  const epoch = result.history[0];
  console.log(`${name.padEnd(10)} ${epoch.samplesPerSecond.toFixed(0).padStart(6)} samples/s  (${n} images in ${epoch.seconds.toFixed(1)} s)`);
  result.model.dispose();
}
