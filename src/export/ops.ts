// IR op -> TFLite operator: one writer per op kind (ops-layers.ts for the layer ops, ops-graph.ts
// for the graph ops of imported models), each adding the constant tensors it reads and its
// builtin options (field ids of TFLite's schema.fbs). A writer that cannot express the op in
// TFLite terms (an explicit padding that is neither SAME nor VALID, a clamp no fused activation
// gives) reports why instead; the model writer lists every such problem at once.
import type { IrOp } from '../ir/types.js';
import { OpExportProblem, type ExportedOperator, type OpWriterContext } from './op-common.js';
import { writeAdd, writeConcatenation, writeMean, writePad, writeQuantize, writeSoftmax } from './ops-graph.js';
import { writeConvolution, writeFullyConnected, writePool, writeReshape } from './ops-layers.js';

export { OpExportProblem, type ExportedOperator } from './op-common.js';

/** The operator for `op`, or the problem that keeps it out of a .tflite file. */
export function writeOp(ctx: OpWriterContext, op: IrOp): ExportedOperator | OpExportProblem {
  try {
    switch (op.kind) {
      case 'conv2d':
      case 'depthwise_conv2d':
        return writeConvolution(ctx, op);
      case 'fully_connected':
        return writeFullyConnected(ctx, op);
      case 'max_pool2d':
      case 'avg_pool2d':
        return writePool(ctx, op);
      case 'reshape':
        return writeReshape(ctx, op);
      case 'add':
        return writeAdd(ctx, op);
      case 'concatenation':
        return writeConcatenation(ctx, op);
      case 'pad':
        return writePad(ctx, op);
      case 'mean':
        return writeMean(ctx, op);
      case 'softmax':
        return writeSoftmax(ctx, op);
      case 'quantize':
      case 'dequantize':
        return writeQuantize(ctx, op);
    }
  } catch (err) {
    if (err instanceof OpExportProblem) return err;
    throw err;
  }
}

