// The int8 reference (golden model): interpreter, kernels and fixed-point primitives.
export {
  argmax,
  evaluateReference,
  pixelsToInput,
  runReference,
  runReferenceTrace,
  type ReferenceEvaluation,
} from './interpreter.js';
export {
  multiplyByQuantizedMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from './fixedpoint.js';
export type { OpKernel } from './ops/common.js';
export { prepareConv2d } from './ops/conv2d.js';
export { prepareDepthwiseConv2d } from './ops/depthwise_conv2d.js';
export { prepareFullyConnected } from './ops/fully_connected.js';
export { prepareMaxPool2d } from './ops/max_pool2d.js';
export { prepareAvgPool2d, roundedAverage } from './ops/avg_pool2d.js';
export { prepareReshape } from './ops/reshape.js';
