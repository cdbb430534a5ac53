// The headline comparison: the best lightweight model against the baselines. "Best" means the
// highest on-target accuracy; ties go to fewer parameters, then to sweep order.
import { isBaseline, type PointResult } from './results.js';

export interface Comparison {
  lightweight: PointResult;
  baseline: PointResult;
  /** How many fewer parameters the lightweight model has, % of the baseline's. */
  paramReductionPct: number;
  flashReductionPct: number;
  /** Baseline accuracy minus lightweight accuracy, in percentage points (positive: baseline better). */
  accuracyGapPoints: number;
}

export interface Headline {
  bestLightweight: PointResult | null;
  bestBaseline: PointResult | null;
  /** The best keras-cnn point, the reference the parameter reduction is quoted against. */
  keras: PointResult | null;
  vsKeras: Comparison | null;
  vsBestBaseline: Comparison | null;
}

export function best(results: readonly PointResult[]): PointResult | null {
  let top: PointResult | null = null;
  // A point without an accuracy (a model file verified on unlabelled inputs) is never the best.
  for (const r of results.filter((x) => x.summary.onTargetAccuracy !== null)) {
    if (
      !top ||
      r.summary.onTargetAccuracy! > top.summary.onTargetAccuracy! ||
      (r.summary.onTargetAccuracy === top.summary.onTargetAccuracy && r.summary.params < top.summary.params)
    ) {
      top = r;
    }
  }
  return top;
}

export function compare(lightweight: PointResult, baseline: PointResult): Comparison {
  const reduction = (small: number, large: number) => (1 - small / large) * 100;
  return {
    lightweight,
    baseline,
    paramReductionPct: reduction(lightweight.summary.params, baseline.summary.params),
    flashReductionPct: reduction(lightweight.summary.flashBytes, baseline.summary.flashBytes),
    accuracyGapPoints: (baseline.summary.onTargetAccuracy! - lightweight.summary.onTargetAccuracy!) * 100,
  };
}

export function headline(results: readonly PointResult[]): Headline {
  const bestLightweight = best(results.filter((r) => !isBaseline(r)));
  const bestBaseline = best(results.filter(isBaseline));
  const keras = best(results.filter((r) => r.summary.architecture === 'keras-cnn'));
  return {
    bestLightweight,
    bestBaseline,
    keras,
    vsKeras: bestLightweight && keras ? compare(bestLightweight, keras) : null,
    vsBestBaseline: bestLightweight && bestBaseline ? compare(bestLightweight, bestBaseline) : null,
  };
}
