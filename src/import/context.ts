// What a converter sees of one TFLite operator: its input and output tensors, their IR ids
// (activations become IR tensors with the batch dimension dropped; constants stay in the file),
// typed views of constant data, and a way to report what tinyforge does not support.
import type { IrTensor } from '../ir/types.js';
import type { FbTable } from './flatbuffer.js';
import type { TfliteModel, TfliteOperator, TfliteTensor } from './tflite-model.js';
import { operatorName, TensorType, tensorTypeName } from './tflite-schema.js';

/** One line of the "not supported" list. */
export interface Unsupported {
  /** Operator index in the subgraph, or undefined for a model-level problem. */
  index?: number;
  op: string;
  what: string;
  supported: string;
}

/** The IR shape of a TFLite activation: the batch dimension (which must be 1) dropped. */
export function irShape(shape: number[]): number[] {
  if (shape.length <= 1) return shape.length === 0 ? [1] : [...shape];
  return shape.slice(1);
}

export class ImportState {
  readonly tensors: IrTensor[] = [];
  readonly problems: Unsupported[] = [];
  private readonly ids = new Map<number, number>();

  constructor(readonly model: TfliteModel) {}

  /** The IR id of TFLite tensor `index`, created on first use with `shape` (default: irShape). */
  irTensor(t: TfliteTensor, shape = irShape(t.shape)): number {
    const known = this.ids.get(t.index);
    if (known !== undefined) return known;
    const id = this.tensors.length;
    const q = t.quantization;
    this.tensors.push(
      t.type === TensorType.FLOAT32
        ? { id, name: t.name, shape, dtype: 'float32', scale: 1, zeroPoint: 0 }
        : { id, name: t.name, shape, scale: q?.scale[0] ?? 1, zeroPoint: q?.zeroPoint[0] ?? 0 },
    );
    this.ids.set(t.index, id);
    return id;
  }

  hasIrTensor(t: TfliteTensor): boolean {
    return this.ids.has(t.index);
  }
}

export class OpContext {
  private problemCount = 0;

  constructor(
    readonly state: ImportState,
    readonly op: TfliteOperator,
  ) {}

  get name(): string {
    const out = this.op.outputs[0];
    return out === undefined ? `op${this.op.index}` : this.state.model.tensors[out].name;
  }

  get opName(): string {
    return this.op.code === 32 && this.op.custom ? `CUSTOM (${this.op.custom})` : operatorName(this.op.code);
  }

  /** Records one unsupported attribute; the op is then left out of the IR. */
  unsupported(what: string, supported: string): void {
    this.problemCount++;
    this.state.problems.push({ index: this.op.index, op: this.opName, what, supported });
  }

  get ok(): boolean {
    return this.problemCount === 0;
  }

  /** TFLite input k, or undefined (reported) when absent. */
  input(k: number, role: string): TfliteTensor | undefined {
    const index = this.op.inputs[k];
    if (index === undefined || index < 0) {
      this.unsupported(`no ${role} (input ${k})`, `a ${role} tensor`);
      return undefined;
    }
    return this.state.model.tensors[index];
  }

  optionalInput(k: number): TfliteTensor | undefined {
    const index = this.op.inputs[k];
    return index === undefined || index < 0 ? undefined : this.state.model.tensors[index];
  }

  output(): TfliteTensor | undefined {
    if (this.op.outputs.length !== 1) {
      this.unsupported(`${this.op.outputs.length} outputs`, 'one output');
      return undefined;
    }
    return this.state.model.tensors[this.op.outputs[0]];
  }

  /**
   * Checks that `t` is an activation tinyforge can hold: not constant, batch 1, int8 with one
   * scale and zero point (or float32 where `allowFloat`). Reports and returns false otherwise.
   */
  activation(t: TfliteTensor, role: string, allowFloat = false): boolean {
    const at = `${role} "${t.name}"`;
    if (t.data) {
      this.unsupported(`${at} is a constant`, `a computed ${role}`);
      return false;
    }
    if (t.shape.length >= 2 && t.shape[0] !== 1) {
      this.unsupported(`${at} has batch ${t.shape[0]} (shape ${JSON.stringify(t.shape)})`, 'batch 1');
      return false;
    }
    if (t.type === TensorType.FLOAT32 && allowFloat) return true;
    if (t.type !== TensorType.INT8) {
      const floatNote = allowFloat ? '' : ' (float32 only as the graph input of QUANTIZE or output of DEQUANTIZE)';
      this.unsupported(`${at} is ${tensorTypeName(t.type)}`, `int8 activations${floatNote}`);
      return false;
    }
    const q = t.quantization;
    if (!q || q.scale.length !== 1 || q.zeroPoint.length > 1) {
      this.unsupported(`${at} has ${q ? `${q.scale.length} scales` : 'no quantization'}`, 'per-tensor quantization (one scale and zero point)');
      return false;
    }
    const zp = q.zeroPoint[0] ?? 0;
    if (!(q.scale[0] > 0 && Number.isFinite(q.scale[0])) || zp < -128 || zp > 127) {
      this.unsupported(`${at} has scale ${q.scale[0]} and zero point ${zp}`, 'a positive finite scale and an int8 zero point');
      return false;
    }
    return true;
  }

  /** The builtin options table, checked to be of `type` (undefined when absent: all defaults). */
  options(type: number, typeName: string): FbTable | undefined {
    if (this.op.optionsType !== 0 && this.op.optionsType !== type) {
      this.unsupported(`builtin_options of union type ${this.op.optionsType}`, `${typeName} (union type ${type})`);
      return undefined;
    }
    return this.op.options;
  }

  /** Integer values of a constant INT32 (or INT64) tensor, or undefined (reported). */
  constantInts(t: TfliteTensor | undefined, role: string): number[] | undefined {
    if (!t) return undefined;
    if (!t.data || (t.type !== TensorType.INT32 && t.type !== TensorType.INT64)) {
      this.unsupported(`${role} "${t.name}" is ${t.data ? tensorTypeName(t.type) : 'not a constant'}`, `a constant INT32 ${role}`);
      return undefined;
    }
    const n = t.shape.reduce((a, b) => a * b, 1);
    const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      out.push(t.type === TensorType.INT32 ? view.getInt32(4 * i, true) : Number(view.getBigInt64(8 * i, true)));
    }
    return out;
  }
}
