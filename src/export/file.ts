// `tinyforge export`: writes the .tflite only after importing it back and finding the same
// arithmetic (anything else would be an exporter bug, reported rather than written).
import { importTflite } from '../import/import.js';
import type { IrModel } from '../ir/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { compareArithmetic } from './compare.js';
import { describeExactness, exportTflite, type Exactness } from './export.js';

export interface ExportReport {
  file: string;
  bytes: number;
  operators: number;
  tensors: number;
  exactness: Exactness;
}

export function exportTfliteFile(ir: IrModel, source: string, target: string): ExportReport {
  const result = exportTflite(ir, source);
  const back = compareArithmetic(ir, importTflite(result.bytes, { label: target }));
  if (back.mismatches.length > 0 || back.differingMultipliers !== result.exactness.differingMultipliers) {
    throw new Error(
      `export of ${source} does not import back as the same model (nothing written):\n  ${back.mismatches.join('\n  ')}` +
        `\n  ${back.differingMultipliers} multipliers differ, ${result.exactness.differingMultipliers} predicted`,
    );
  }
  writeFileAtomic(target, result.bytes);
  return { file: target, bytes: result.bytes.length, operators: result.operators, tensors: result.tensors, exactness: result.exactness };
}

export function formatExportReport(r: ExportReport): string {
  return `wrote ${r.file} (${r.bytes} bytes, ${r.operators} operators, ${r.tensors} tensors)\n${describeExactness(r.exactness)}`;
}
