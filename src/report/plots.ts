// The sweep's plots as vega-lite specs, rendered to SVG headless (no browser, no canvas): accuracy
// against parameters, flash and latency with each Pareto front drawn as a line, and training curves.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { objective } from '../experiments/ranking.js';
import { paretoFront } from '../experiments/pareto.js';
import type { PointResult, SweepResults } from '../experiments/results.js';

export interface Plot {
  /** File name under plots/. */
  file: string;
  title: string;
  spec: TopLevelSpec;
}

interface CostAxis {
  file: string;
  title: string;
  cost: (r: PointResult) => number;
  log?: boolean;
}

const costAxes: CostAxis[] = [
  { file: 'accuracy-vs-params.svg', title: 'parameters', cost: (r) => r.summary.params, log: true },
  // Baselines are a hundred times larger and slower than the lightweight models: on a linear axis
  // every lightweight point would sit on top of the others at the left edge.
  { file: 'accuracy-vs-flash.svg', title: 'flash (bytes)', cost: (r) => r.summary.flashBytes, log: true },
  { file: 'accuracy-vs-latency.svg', title: 'latency (ms)', cost: (r) => r.summary.latencyMs, log: true },
];

function tradeOffPlot(results: SweepResults, axis: CostAxis): Plot {
  const row = (r: PointResult) => ({
    point: r.point.name,
    architecture: r.summary.architecture,
    cost: axis.cost(r),
    accuracy: r.summary.onTargetAccuracy,
  });
  const x = {
    field: 'cost',
    type: 'quantitative' as const,
    title: axis.log ? `${axis.title}, log scale` : axis.title,
    scale: axis.log ? { type: 'log' as const } : { zero: false },
  };
  const y = {
    field: 'accuracy',
    type: 'quantitative' as const,
    title: 'on-target accuracy',
    scale: { zero: false },
    axis: { format: '.2%' },
  };
  const title = `On-target accuracy vs ${axis.title}`;
  // A point without an accuracy (a model file verified on unlabelled inputs) has no place on these axes.
  const placed = results.finished.filter((r) => r.summary.onTargetAccuracy !== null);
  const front = paretoFront(placed, objective(axis.cost)).map(row);
  return {
    file: axis.file,
    title,
    spec: {
      title,
      width: 480,
      height: 300,
      layer: [
        {
          data: { values: front },
          mark: { type: 'line', color: '#888', strokeDash: [4, 3] },
          encoding: { x, y },
        },
        {
          data: { values: placed.map(row) },
          mark: { type: 'point', filled: true, size: 70 },
          encoding: { x, y, color: { field: 'architecture', type: 'nominal', title: 'architecture' } },
        },
        // Name every point: with a handful of models a reader wants to look each one up.
        {
          data: { values: placed.map(row) },
          mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 9 },
          encoding: { x, y, text: { field: 'point', type: 'nominal' } },
        },
      ],
    },
  };
}

function trainingCurves(results: SweepResults): Plot {
  const values = results.finished.flatMap((r) =>
    r.summary.history
      .filter((h) => h.valAccuracy !== null)
      .map((h) => ({ point: r.point.name, epoch: h.epoch, valAccuracy: h.valAccuracy })),
  );
  const title = 'Validation accuracy per epoch';
  return {
    file: 'training-curves.svg',
    title,
    spec: {
      title,
      width: 480,
      height: 300,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: { field: 'valAccuracy', type: 'quantitative', title: 'validation accuracy', scale: { zero: false }, axis: { format: '.2%' } },
        color: { field: 'point', type: 'nominal', title: 'point', legend: { labelLimit: 400 } },
      },
    },
  };
}

export function sweepPlots(results: SweepResults): Plot[] {
  return [...costAxes.map((axis) => tradeOffPlot(results, axis)), trainingCurves(results)];
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
