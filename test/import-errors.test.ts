// Malformed and unsupported .tflite files, built by changing a conformance model in memory
// (raw bytes, or decoded, edited and written again): each gets its documented error, and no
// file ever crashes the importer or produces an IR.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTflite, type TfliteSpec } from '../src/export/tflite-writer.js';
import { importTflite, TfliteFormatError, UnsupportedModelError } from '../src/import/import.js';
import { TensorType } from '../src/import/tflite-schema.js';
import { UserError } from '../src/util/errors.js';
import { conformanceBytes, conformanceRoot, specOf } from './helpers/tflite-spec.js';

const present = existsSync(conformanceRoot);

function errorOf(bytes: Uint8Array): Error {
  try {
    importTflite(bytes, { label: 'bad.tflite' });
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the import to fail');
}

function edited(model: string, edit: (s: TfliteSpec) => void): Uint8Array {
  const spec = specOf(conformanceBytes(model));
  edit(spec);
  return writeTflite(spec);
}

describe.skipIf(!present)('malformed files: "not a valid TFLite model"', () => {
  const cases: { name: string; bytes: () => Uint8Array; message: RegExp }[] = [
    {
      name: 'wrong file identifier',
      bytes: () => { const b = conformanceBytes('ops/conv_1x1_s2'); b.set([65, 66, 67, 68], 4); return b; },
      message: /expected the file identifier "TFL3" at bytes 4-7, found "ABCD"/,
    },
    { name: 'shorter than a header', bytes: () => conformanceBytes('ops/conv_1x1_s2').subarray(0, 6), message: /at least 8 bytes/ },
    {
      name: 'truncated file',
      bytes: () => { const b = conformanceBytes('ops/conv_1x1_s2'); return b.subarray(0, b.length >> 1); },
      message: /outside the \d+-byte file|runs past the end/,
    },
    {
      name: 'root offset out of range',
      bytes: () => { const b = conformanceBytes('ops/conv_1x1_s2'); new DataView(b.buffer).setUint32(0, 0x7ffffff0, true); return b; },
      message: /model: table at byte \d+ lies outside/,
    },
    {
      name: 'buffer shorter than its tensor',
      bytes: () => edited('ops/conv_1x1_s2', (s) => { const w = s.tensors.find((t) => t.type === TensorType.INT8 && t.buffer > 0)!; s.buffers[w.buffer] = s.buffers[w.buffer]!.subarray(0, 10); }),
      message: /holds 10 bytes, shorter than the 128 bytes of a INT8 \[16,1,1,8\] tensor/,
    },
    {
      name: 'operator input index out of range',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.operators[0].inputs[0] = 999)),
      message: /operators\[0\]\.inputs\[0\]: expected a tensor index in \[0, \d+\], found 999/,
    },
    {
      name: 'opcode index out of range',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.operators[0].opcodeIndex = 7)),
      message: /opcode_index: expected an index in \[0, 0\] of operator_codes, found 7/,
    },
    {
      name: 'tensor buffer index out of range',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.tensors[1].buffer = 99)),
      message: /tensors\[1\]\.buffer: expected an index in \[0, \d+\] of buffers, found 99/,
    },
    {
      name: 'a shape too large for any tensor',
      bytes: () => edited('ops/softmax_10', (s) => void (s.tensors[s.inputs[0]].shape = [1, 100000, 100000])),
      message: /shape: expected at most 2\^31 - 1 elements, found \[1,100000,100000\]/,
    },
    {
      name: 'output shape contradicting the op',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.tensors[s.outputs[0]].shape = [1, 6, 7, 16])),
      message: /tensors and ops disagree:\n.*op "[^"]+" \(conv2d\)\/output: expected a tensor of shape \[7,7,16\]/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = errorOf(c.bytes());
      expect(err).toBeInstanceOf(TfliteFormatError);
      expect(err.message).toMatch(/^bad\.tflite: not a valid TFLite model: /);
      expect(err.message).toMatch(c.message);
    });
  }

  it('200 corrupted copies never crash: each imports or fails with a UserError', () => {
    const original = conformanceBytes('micro_speech_quantized');
    let seed = 12345;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    let failures = 0;
    for (let k = 0; k < 200; k++) {
      const bytes = original.slice();
      // Corrupt the FlatBuffer's tables (the first 1.5 KB and the last 2 KB: offsets, vtables,
      // shapes, indices), where a byte flip changes structure rather than a weight value.
      for (let j = 0; j < 4; j++) {
        const at = next() % 2 ? next() % 1536 : bytes.length - 1 - (next() % 2048);
        bytes[at] = next() & 0xff;
      }
      try {
        importTflite(bytes, { label: 'fuzz.tflite' });
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('2,100 copies of seven small models with 1-6 bytes changed anywhere never crash', () => {
    // Anywhere includes the builtin options tables, which are read while converting, not decoding.
    let seed = 987;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const outcomes = new Map<string, number>();
    for (const model of ['ops/add_residual', 'ops/concat_requant', 'ops/mean', 'ops/quantize_fc_dequantize', 'hello_world_int8', 'ops/pad', 'ops/softmax_10']) {
      const original = conformanceBytes(model);
      for (let k = 0; k < 300; k++) {
        const bytes = original.slice();
        const flips = 1 + (next() % 6);
        for (let j = 0; j < flips; j++) bytes[next() % bytes.length] = next() & 0xff;
        let outcome = 'imported';
        try {
          importTflite(bytes, { label: 'fuzz.tflite' });
        } catch (err) {
          outcome = err instanceof UserError ? err.name : `crash: ${(err as Error).stack}`;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    expect([...outcomes.keys()].filter((o) => o.startsWith('crash'))).toEqual([]);
    expect(outcomes.get('TfliteFormatError')).toBeGreaterThan(0);
  });
});

describe.skipIf(!present)('unsupported models: every problem listed, one line per op', () => {
  const cases: { name: string; bytes: () => Uint8Array; lines: RegExp[] }[] = [
    {
      name: 'an operator tinyforge does not have',
      bytes: () => edited('ops/softmax_10', (s) => void (s.operatorCodes[0].code = 28)),
      lines: [/^ {2}op 0 TANH: operator not supported; supported: CONV_2D, DEPTHWISE_CONV_2D, .*DEQUANTIZE$/],
    },
    {
      name: 'dilated convolution',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.operators[0].options![4] = 2)),
      lines: [/^ {2}op 0 CONV_2D: dilation \[1,2\]; supported: dilation 1$/],
    },
    {
      name: 'fused TANH',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.operators[0].options![3] = 4)),
      lines: [/^ {2}op 0 CONV_2D: fused activation TANH; supported: fused NONE, RELU, RELU6 or RELU_N1_TO_1$/],
    },
    {
      name: 'int16 activations',
      bytes: () => edited('ops/softmax_10', (s) => void (s.tensors[s.inputs[0]].type = TensorType.INT16)),
      lines: [/^ {2}op 0 SOFTMAX: input "[^"]+" is INT16; supported: int8 activations/],
    },
    {
      name: 'float32 activation into a conv',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.tensors[s.inputs[0]].type = TensorType.FLOAT32)),
      lines: [/^ {2}op 0 CONV_2D: input "[^"]+" is FLOAT32; supported: int8 activations \(float32 only as the graph input of QUANTIZE or output of DEQUANTIZE\)$/],
    },
    {
      name: 'batch 2',
      bytes: () => edited('ops/softmax_10', (s) => { for (const t of s.tensors) t.shape[0] = 2; }),
      lines: [/^ {2}op 0 SOFTMAX: input "[^"]+" has batch 2 \(shape \[2,10\]\); supported: batch 1$/],
    },
    {
      name: 'broadcasting ADD',
      bytes: () => edited('ops/add', (s) => void (s.tensors[s.inputs[1]].shape = [1, 1, 1, 16])),
      lines: [/^ {2}op 0 ADD: inputs \[1,8,8,16\] \+ \[1,1,1,16\] -> \[1,8,8,16\] \(broadcasting\); supported: two inputs and an output of the same shape$/],
    },
    {
      name: 'MEAN over channels',
      bytes: () => edited('ops/mean', (s) => {
        const axes = s.tensors[s.operators[0].inputs[1]];
        s.buffers[axes.buffer] = new Uint8Array(new Int32Array([3]).buffer);
        axes.shape = [1];
      }),
      lines: [/^ {2}op 0 MEAN: axes \[3\] of a \[1,7,7,24\] input; supported: the mean over H and W/],
    },
    {
      name: 'softmax output quantization',
      bytes: () => edited('ops/softmax_12', (s) => void (s.tensors[s.outputs[0]].quantization!.zeroPoint = [0])),
      lines: [/^ {2}op 0 SOFTMAX: output scale 0\.00390625 and zero point 0; supported: output scale 1\/256 and zero point -128/],
    },
    // The limits of the generated C, listed at import like any other unsupported attribute.
    {
      name: 'softmax rows longer than the C kernel takes',
      bytes: () => edited('ops/softmax_10', (s) => { s.tensors[s.inputs[0]].shape = [1, 600]; s.tensors[s.outputs[0]].shape = [1, 600]; }),
      lines: [/^ {2}op 0 SOFTMAX: rows of 600 values \(input \[1,600\]\); supported: rows \(the last dimension\) of at most 511 values/],
    },
    {
      name: 'PAD of a rank-6 tensor',
      bytes: () => edited('ops/pad', (s) => {
        s.tensors[s.inputs[0]].shape = [1, 1, 1, 10, 10, 4];
        s.tensors[s.outputs[0]].shape = [1, 1, 1, 13, 13, 4];
        const paddings = s.tensors[s.operators[0].inputs[1]];
        s.buffers[paddings.buffer] = new Uint8Array(new Int32Array([0, 0, 0, 0, 0, 0, 1, 2, 2, 1, 0, 0]).buffer);
        paddings.shape = [6, 2];
      }),
      lines: [/^ {2}op 0 PAD: a rank-6 input \[1,1,1,10,10,4\]; supported: input of rank at most 4 besides the batch/],
    },
    {
      name: 'PAD to a dimension above the int16 fields',
      bytes: () => edited('ops/pad', (s) => {
        s.tensors[s.outputs[0]].shape = [1, 40011, 13, 4];
        const paddings = s.tensors[s.operators[0].inputs[1]];
        s.buffers[paddings.buffer] = new Uint8Array(new Int32Array([0, 0, 1, 40000, 2, 1, 0, 0]).buffer);
      }),
      lines: [/^ {2}op 0 PAD: output \[1,40011,13,4\]; supported: .*every output dimension at most 32767$/],
    },
    {
      name: 'MEAN whose folded rescale overflows int32',
      bytes: () => edited('ops/mean', (s) => void (s.tensors[s.outputs[0]].quantization!.scale = [0.04511275514960289 / 2 ** 24])),
      lines: [/^ {2}op 0 MEAN: a mean of 49 values with rescale shift 25; supported: input scale \/ output scale such that 255 x H x W/],
    },
    {
      name: 'ADD whose output rescale is above 1',
      bytes: () => edited('ops/add', (s) => void (s.tensors[s.outputs[0]].quantization!.scale = [0.01863168366253376 / 2 ** 21])),
      lines: [/^ {2}op 0 ADD: output scale [\d.e-]+ for input scales [\d.e-]+ and [\d.e-]+; supported: output scale above 2 x max\(input scales\) \/ 2\^20/],
    },
    {
      name: 'int8 requantization by 2^24 and more',
      bytes: () => edited('ops/concat_requant', (s) => {
        for (const t of s.tensors) if (t.name.endsWith('/requant') || t.name === 'output') t.quantization!.scale = [1e-12];
      }),
      lines: [
        /^ {2}op 0 QUANTIZE: input scale [\d.e-]+ \/ output scale [\d.e-]+; supported: int8 -> int8: input scale \/ output scale below 2\^23/,
        /^ {2}op 1 QUANTIZE: input scale [\d.e-]+ \/ output scale [\d.e-]+; supported: /,
      ],
    },
    {
      name: 'a stride above the int16 fields',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.operators[0].options![2] = 40000)),
      lines: [/^ {2}op 0 CONV_2D: kernel, stride or padding 40000; supported: tensor height, width and channels, kernel, stride and padding at most 32767/],
    },
    {
      name: 'a fully connected layer with more units than its int16 field holds',
      bytes: () => edited('ops/quantize_fc_dequantize', (s) => {
        const fc = s.operators[1];
        const [weights, bias] = [s.tensors[fc.inputs[1]], s.tensors[fc.inputs[2]]];
        weights.shape = [40000, 32];
        weights.quantization = { ...weights.quantization!, scale: [weights.quantization!.scale[0]], zeroPoint: [0] };
        s.buffers[weights.buffer] = new Uint8Array(40000 * 32).fill(1);
        bias.shape = [40000];
        s.buffers[bias.buffer] = new Uint8Array(4 * 40000);
        s.tensors[fc.outputs[0]].shape = [1, 40000];
        s.tensors[s.outputs[0]].shape = [1, 40000];
      }),
      lines: [/^ {2}op 1 FULLY_CONNECTED: 32 input elements and 40000 units; supported: at most 32767 input elements and 32767 units/],
    },
    {
      name: 'a conv multiplier of 2^30 and more',
      bytes: () => edited('ops/conv_1x1_s2', (s) => void (s.tensors[s.outputs[0]].quantization!.scale = [1e-16])),
      lines: [/^ {2}op 0 CONV_2D: channel 0: multiplier \d+ with shift \d+; supported: input scale x weight scale \/ output scale below 2\^30/],
    },
    {
      name: 'a bias that could overflow the int32 accumulator (the code generator\'s own check)',
      bytes: () => edited('ops/conv_1x1_s2', (s) => {
        const bias = s.tensors[s.operators[0].inputs[2]];
        const values = new Int32Array(s.buffers[bias.buffer]!.slice().buffer);
        values[3] = 2147480000;
        s.buffers[bias.buffer] = new Uint8Array(values.buffer);
      }),
      lines: [/^ {2}op 0 CONV_2D: channel 3: .*overflow.*; supported: what the generated C computes exactly \(docs\/ops\.md\)$/],
    },
    {
      name: 'two graph outputs',
      bytes: () => edited('ops/add_residual', (s) => void s.outputs.push(s.operators[0].outputs[0])),
      lines: [/^ {2}model graph: 2 graph outputs; supported: exactly one output$/],
    },
    {
      name: 'several problems at once, in op order',
      bytes: () => edited('person_detect', (s) => {
        s.operators[2].options![4] = 2; // CONV_2D dilation
        s.operatorCodes[s.operators[27].opcodeIndex] = { code: 12 }; // AVERAGE_POOL_2D -> L2_POOL_2D
        s.operators[30].options![0] = 0; // SOFTMAX beta 0
      }),
      lines: [
        /^ {2}op 2 CONV_2D: dilation \[1,2\]; supported: dilation 1$/,
        /^ {2}op 27 L2_POOL_2D: operator not supported; supported: /,
        /^ {2}op 30 SOFTMAX: beta 0 with input scale [\d.e-]+; supported: /,
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = errorOf(c.bytes());
      expect(err).toBeInstanceOf(UnsupportedModelError);
      expect((err as UserError).exitCode).toBe(2);
      const lines = err.message.split('\n');
      expect(lines[0]).toMatch(/^bad\.tflite: \d+ things? tinyforge cannot compile \(nothing written\):$/);
      const listed = lines.filter((l) => l.startsWith('  '));
      expect(listed.length, err.message).toBe(c.lines.length);
      c.lines.forEach((re, i) => expect(listed[i]).toMatch(re));
      expect(lines[lines.length - 1]).toMatch(/docs\/ops\.md/);
    });
  }
});

describe.skipIf(!present)('tinyforge import on an unsupported file', () => {
  it('exits 2, lists the problem and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-import-'));
    const file = join(dir, 'tanh.tflite');
    writeFileSync(file, edited('ops/softmax_10', (s) => void (s.operatorCodes[0].code = 28)));
    const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(process.execPath, [tsxCli, resolve('src/cli.ts'), 'import', file, '--out', join(dir, 'out')], (err, _out, stderr) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
      });
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/op 0 TANH: operator not supported/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  }, 60_000);
});

describe.skipIf(!present)('valid files that need care', () => {
  it('an op whose output nothing reads is left out of the IR', () => {
    const bytes = edited('ops/add_residual', (s) => {
      // A second consumer of the input whose output is not the graph output: a dead ADD.
      const dead = s.tensors.push({ ...s.tensors[s.outputs[0]], name: 'dead' }) - 1;
      s.operators.push({ ...s.operators[1], outputs: [dead] });
    });
    const ir = importTflite(bytes, { label: 'dead.tflite' });
    expect(ir.ops.map((o) => o.kind)).toEqual(['conv2d', 'add']);
  });
});
