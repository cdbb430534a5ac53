// The int8 reference (golden model): interpreter, kernels and fixed-point primitives.
export {
  argmax,
  evaluateReference,
  pixelsToInput,
  runReference,
  runReferenceBytes,
  runReferenceBytesTrace,
  runReferenceTensors,
  runReferenceTrace,
  type ReferenceEvaluation,
  type TensorData,
} from './interpreter.js';
export {
  multiplyByQuantizedMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from './fixedpoint.js';
export { expOnNegativeValues, getReciprocal, oneOverOnePlusXForXIn01 } from './fixedpoint-exp.js';
export type { OpKernel } from './ops/common.js';
export { prepareAdd } from './ops/add.js';
export { prepareAvgPool2d, roundedAverage } from './ops/avg_pool2d.js';
export { prepareConcatenation } from './ops/concatenation.js';
export { prepareConv2d } from './ops/conv2d.js';
export { prepareDepthwiseConv2d } from './ops/depthwise_conv2d.js';
export { prepareDequantize } from './ops/dequantize.js';
export { prepareFullyConnected } from './ops/fully_connected.js';
export { prepareMaxPool2d } from './ops/max_pool2d.js';
export { foldMeanCount, prepareMean } from './ops/mean.js';
export { preparePad } from './ops/pad.js';
export { prepareQuantizeFloat, prepareRequantize } from './ops/quantize.js';
export { prepareReshape } from './ops/reshape.js';
export { prepareSoftmax } from './ops/softmax.js';
