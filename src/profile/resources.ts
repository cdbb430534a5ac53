// Per-layer resources of a quantized model, read from the IR: deployed parameters (batch norm
// folded), MACs over the full kernel window (the usual convention; the generated C's MODEL_MACS
// counts only taps inside the image), float and int8 weight storage, and activation memory.
import type { IrModel } from '../ir/types.js';
import { tensorSize } from '../ir/types.js';
import type { LayerResource } from '../pipeline/summary.js';

export function layerResources(ir: IrModel): LayerResource[] {
  return ir.ops.map((op) => {
    const input = ir.tensors[op.input];
    const output = ir.tensors[op.output];
    const outSize = tensorSize(output);
    let params = 0;
    let macs = 0;
    let int8WeightBytes = 0;
    if (op.kind === 'conv2d' || op.kind === 'depthwise_conv2d' || op.kind === 'fully_connected') {
      params = op.weights.length + op.bias.length;
      // int8 weights, int32 bias, and an int32 multiplier + int32 shift per output channel.
      int8WeightBytes = op.weights.length + 4 * op.bias.length + 8 * op.requant.multiplier.length;
      if (op.kind === 'conv2d') macs = outSize * op.kernel[0] * op.kernel[1] * input.shape[2];
      else if (op.kind === 'depthwise_conv2d') macs = outSize * op.kernel[0] * op.kernel[1];
      else macs = op.weights.length;
    }
    return {
      name: op.name, kind: op.kind, outputShape: output.shape, params, macs,
      floatWeightBytes: 4 * params, int8WeightBytes, activationBytes: outSize,
    };
  });
}
