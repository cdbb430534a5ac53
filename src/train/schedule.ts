// Learning rate as a function of training progress, evaluated every step so that cosine decay
// is smooth even over a handful of epochs.
import type { ScheduleConfig } from '../config/types.js';

/** `epoch` may be fractional (step / stepsPerEpoch). */
export function learningRateAt(base: number, schedule: ScheduleConfig, epoch: number, totalEpochs: number): number {
  if (epoch < schedule.warmupEpochs) {
    return base * (0.1 + (0.9 * epoch) / schedule.warmupEpochs);
  }
  const after = epoch - schedule.warmupEpochs;
  const span = Math.max(totalEpochs - schedule.warmupEpochs, 1e-9);
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'cosine': {
      const t = Math.min(after / span, 1);
      return base * (schedule.minFactor + (1 - schedule.minFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
    case 'step':
      return base * schedule.gamma ** Math.floor(after / schedule.stepEpochs);
    case 'exponential':
      return base * schedule.gamma ** after;
  }
}
