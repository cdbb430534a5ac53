// One progress bar per epoch (loss, accuracy, samples/s) on a terminal; one log line per epoch
// otherwise (CI logs, --quiet, log files).
import cliProgress from 'cli-progress';
import { getLogLevel, log } from '../util/log.js';
import type { EpochRecord } from './train.js';

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);

export class EpochProgress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly epoch: number, private readonly epochs: number, total: number) {
    if (process.stderr.isTTY && getLogLevel() !== 'silent' && getLogLevel() !== 'warn' && getLogLevel() !== 'error') {
      this.bar = new cliProgress.SingleBar(
        {
          format: `epoch ${epoch}/${epochs} [{bar}] {percentage}% | loss {loss} | acc {acc} | {rate} samples/s | {eta}s left`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { loss: '-', acc: '-', rate: '-' });
    }
  }

  update(seen: number, loss: number, accuracy: number, seconds: number): void {
    this.bar?.update(seen, { loss: loss.toFixed(4), acc: pct(accuracy), rate: (seen / seconds).toFixed(0) });
  }

  finish(r: EpochRecord): void {
    this.bar?.stop();
    log.info(
      `epoch ${this.epoch}/${this.epochs}: loss ${r.loss.toFixed(4)} acc ${pct(r.accuracy)} | ` +
        `val loss ${r.valLoss === null ? '-' : r.valLoss.toFixed(4)} val acc ${pct(r.valAccuracy)} | ` +
        `lr ${r.learningRate.toExponential(2)} | ${r.samplesPerSecond.toFixed(0)} samples/s, ${r.seconds.toFixed(1)} s`,
    );
  }
}
