// Per-layer shapes, parameters and MACs of a ModelSpec, computed from the spec alone.
// `params` counts what tfjs/Keras count (batch-norm statistics included); `deployedParams` counts
// what reaches the microcontroller after batch norm is folded into the conv (weights + bias).
import type { LayerSpec, ModelSpec, Padding } from './spec.js';

export interface LayerProfile {
  index: number;
  name: string;
  kind: LayerSpec['kind'];
  outputShape: number[];
  params: number;
  deployedParams: number;
  macs: number;
}

export interface ModelProfile {
  layers: LayerProfile[];
  params: number;
  deployedParams: number;
  macs: number;
}

export function outputSize(input: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(input / stride) : Math.floor((input - kernel) / stride) + 1;
}

/** Layer names shared by the tfjs factory, the quantizer and reports: "<index>_<kind>". */
export function layerName(index: number, layer: LayerSpec): string {
  return `${String(index).padStart(2, '0')}_${layer.kind}`;
}

export function profileSpec(spec: ModelSpec): ModelProfile {
  let shape: number[] = [...spec.inputShape];
  const layers: LayerProfile[] = [];
  spec.layers.forEach((layer, index) => {
    let params = 0;
    let deployedParams = 0;
    let macs = 0;
    const [h, w, c] = shape;
    switch (layer.kind) {
      case 'conv2d': {
        const oh = outputSize(h, layer.kernel, layer.stride, layer.padding);
        const ow = outputSize(w, layer.kernel, layer.stride, layer.padding);
        const weights = layer.kernel * layer.kernel * c * layer.filters;
        params = weights + (layer.batchNorm ? 4 * layer.filters : layer.filters);
        deployedParams = weights + layer.filters;
        macs = oh * ow * weights;
        shape = [oh, ow, layer.filters];
        break;
      }
      case 'depthwise_conv2d': {
        const oh = outputSize(h, layer.kernel, layer.stride, layer.padding);
        const ow = outputSize(w, layer.kernel, layer.stride, layer.padding);
        const oc = c * layer.depthMultiplier;
        const weights = layer.kernel * layer.kernel * oc;
        params = weights + (layer.batchNorm ? 4 * oc : oc);
        deployedParams = weights + oc;
        macs = oh * ow * weights;
        shape = [oh, ow, oc];
        break;
      }
      case 'max_pool2d':
      case 'avg_pool2d':
        shape = [
          outputSize(h, layer.pool, layer.stride, layer.padding),
          outputSize(w, layer.pool, layer.stride, layer.padding),
          c,
        ];
        break;
      case 'global_avg_pool':
        shape = [c];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        const inputs = shape.reduce((a, b) => a * b, 1);
        const weights = inputs * layer.units;
        params = weights + (layer.batchNorm ? 4 * layer.units : layer.units);
        deployedParams = weights + layer.units;
        macs = weights;
        shape = [layer.units];
        break;
      }
      case 'dropout':
        break;
    }
    layers.push({ index, name: layerName(index, layer), kind: layer.kind, outputShape: shape, params, deployedParams, macs });
  });
  const sum = (key: 'params' | 'deployedParams' | 'macs') => layers.reduce((a, l) => a + l[key], 0);
  return { layers, params: sum('params'), deployedParams: sum('deployedParams'), macs: sum('macs') };
}

export function formatProfile(profile: ModelProfile, title: string): string {
  const rows = profile.layers.map((l) => [l.name, l.outputShape.join('x'), String(l.params), String(l.macs)]);
  const header = ['layer', 'output', 'params', 'MACs'];
  const total = ['total', '', String(profile.params), String(profile.macs)];
  const all = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const rule = widths.map((n) => '-'.repeat(n)).join('  ');
  return [title, line(header), rule, ...rows.map(line), rule, line(total),
    `deployed parameters after batch-norm folding: ${profile.deployedParams}`].join('\n');
}
