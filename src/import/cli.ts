// The import commands: `tinyforge import <model.tflite>` and `tinyforge ops`.
import { join } from 'node:path';
import type { Command } from 'commander';
import { saveIr } from '../ir/io.js';
import { packageRoot } from '../paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import { importTfliteFile } from './file.js';
import { opsReferenceMarkdown } from './ops-doc.js';
import { formatImportSummary, summarizeImport } from './summary.js';

export function registerImportCommands(program: Command): void {
  program
    .command('import')
    .description('read an int8 .tflite model into model.ir.json; print its layers, weight bytes and planned arena')
    .argument('<model>', '.tflite file')
    .option('--out <dir>', 'directory for model.ir.json (default: out/<model name>)')
    .option('--json', 'print the summary as JSON')
    .action((file: string, opts: { out?: string; json?: boolean }) => {
      // Import (which throws, writing nothing, on any problem) before touching the output.
      const ir = importTfliteFile(file);
      const target = join(opts.out ?? join('out', ir.name), 'model.ir.json');
      saveIr(target, ir);
      const summary = summarizeImport(ir);
      if (opts.json) console.log(JSON.stringify({ ir: target, ...summary }, null, 2));
      else console.log(`${formatImportSummary(ir, summary)}\nwrote ${target}`);
    });

  program
    .command('ops')
    .description('print the TFLite operators tinyforge imports, with their constraints (docs/ops.md)')
    .option('--markdown [path]', 'write the reference (default docs/ops.md) instead of printing it')
    .action((opts: { markdown?: string | boolean }) => {
      if (!opts.markdown) {
        process.stdout.write(opsReferenceMarkdown());
        return;
      }
      const target = typeof opts.markdown === 'string' ? opts.markdown : join(packageRoot(), 'docs', 'ops.md');
      writeFileAtomic(target, opsReferenceMarkdown());
      console.log(target);
    });
}
