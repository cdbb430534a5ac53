// What <prefix>.h states about the model's input and output: shape, element type, quantization,
// bytes, and whether the pixel entry point (<prefix>_predict_u8) exists. A graph that starts with a
// float32 -> int8 QUANTIZE takes float32 input; one that ends with DEQUANTIZE gives float32
// output; the quantization stated is then that of the int8 tensor on the other side of that op.
import type { IrModel, IrTensor } from '../ir/types.js';
import { dtypeBytes, graphInputs, opInputs, tensorSize } from '../ir/types.js';
import { UserError } from '../util/errors.js';
import { shapeText } from './format.js';
import { floatLiteral } from './views.js';
import type { ArenaPlan } from './planner.js';

export interface EdgeView {
  /** C element type of the API array. */
  ctype: 'int8_t' | 'float';
  dtype: 'int8' | 'float32';
  shape: string;
  rank: number;
  /** Brace list of the dimensions, e.g. `{ 96, 96, 1 }`. */
  dims: string;
  size: number;
  bytes: number;
  /** Quantization of the int8 tensor (the graph's own, or the one QUANTIZE / DEQUANTIZE uses). */
  scale: string;
  scaleText: string;
  zeroPoint: number;
  /** For float edges: how the value relates to the int8 tensor inside. */
  floatNote: string;
  offset: number;
}

/** One graph input inside the API's input array: its bytes go to its arena offset. */
export interface InputPart {
  name: string;
  shape: string;
  from: number;
  bytes: number;
  offset: number;
}

export interface InputView extends EdgeView {
  /** Every graph input, back to back in the API's input array (most models have one). */
  parts: InputPart[];
  count: number;
  multi: boolean;
  h: number;
  w: number;
  c: number;
  /** <prefix>_predict_u8 exists (image models only). */
  image: boolean;
  pixelOffsetSigned: string;
}

export interface OutputView extends EdgeView {
  numClasses: number;
  /** The predict functions' output parameter: `logits` for int8 (classifier) outputs. */
  argName: 'logits' | 'output';
}

function scaleText(scale: number): string {
  const inv = 1 / scale;
  const nice = Math.abs(inv - Math.round(inv)) < 1e-9 * inv ? ` (1/${Math.round(inv)})` : '';
  return `${Number(scale.toPrecision(9))}${nice}`;
}

function signed(n: number): string {
  return n < 0 ? `- ${-n}` : `+ ${n}`;
}

/** The int8 tensor behind a float edge: what the QUANTIZE reading the input writes, or what the DEQUANTIZE writing the output reads. */
export function quantizedSide(ir: IrModel, edge: IrTensor, which: 'input' | 'output'): IrTensor {
  if (edge.dtype !== 'float32') return edge;
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const op =
    which === 'input'
      ? ir.ops.find((o) => o.kind === 'quantize' && opInputs(o).includes(edge.id))
      : ir.ops.find((o) => o.kind === 'dequantize' && o.output === edge.id);
  const id = op ? (which === 'input' ? op.output : op.input) : undefined;
  return (id !== undefined && byId.get(id)) || edge;
}

function edgeView(ir: IrModel, t: IrTensor, which: 'input' | 'output', plan: ArenaPlan): EdgeView {
  const q = quantizedSide(ir, t, which);
  const isFloat = t.dtype === 'float32';
  const floatNote = !isFloat
    ? ''
    : which === 'input'
      ? `float32, quantized by the model: q = clamp(round(x / ${floatLiteral(q.scale)}) ${signed(q.zeroPoint)}, -128, 127)`
      : `float32, dequantized by the model: x = ${floatLiteral(q.scale)} * (q ${signed(-q.zeroPoint)})`;
  return {
    ctype: isFloat ? 'float' : 'int8_t',
    dtype: isFloat ? 'float32' : 'int8',
    shape: shapeText(t.shape),
    rank: t.shape.length,
    dims: `{ ${t.shape.join(', ')} }`,
    size: tensorSize(t),
    bytes: tensorSize(t) * dtypeBytes(t),
    scale: floatLiteral(q.scale),
    scaleText: scaleText(q.scale),
    zeroPoint: q.zeroPoint,
    floatNote,
    offset: plan.offsets.get(t.id)!,
  };
}

export function inputView(ir: IrModel, plan: ArenaPlan): InputView {
  const byId = new Map(ir.tensors.map((t) => [t.id, t]));
  const tensors = graphInputs(ir).map((i) => byId.get(i.tensor)!);
  const input = tensors[0]!;
  if (tensors.some((t) => (t.dtype ?? 'int8') !== (input.dtype ?? 'int8'))) {
    throw new UserError(`IR '${ir.name}': graph inputs of different types (${tensors.map((t) => t.dtype ?? 'int8').join(', ')}) are not supported by the C API`);
  }
  let from = 0;
  const parts = tensors.map((t) => {
    const bytes = tensorSize(t) * dtypeBytes(t);
    const part = { name: t.name.replace(/\*\//g, '* /'), shape: shapeText(t.shape), from, bytes, offset: plan.offsets.get(t.id)! };
    from += bytes;
    return part;
  });
  const s = input.shape;
  const [h, w, c] = s.length === 3 ? s : s.length === 2 ? [s[0]!, s[1]!, 1] : [1, 1, tensorSize(input)];
  const image = ir.input.pixelOffset !== undefined && input.dtype !== 'float32' && tensors.length === 1;
  const first = edgeView(ir, input, 'input', plan);
  return {
    ...first,
    size: tensors.reduce((n, t) => n + tensorSize(t), 0),
    bytes: from,
    parts,
    count: tensors.length,
    multi: tensors.length > 1,
    h: h!,
    w: w!,
    c: c!,
    image,
    pixelOffsetSigned: signed(ir.input.pixelOffset ?? input.zeroPoint),
  };
}

export function outputView(ir: IrModel, output: IrTensor, plan: ArenaPlan): OutputView {
  const view = edgeView(ir, output, 'output', plan);
  return { ...view, numClasses: ir.output.numClasses, argName: view.ctype === 'float' ? 'output' : 'logits' };
}
