// The exit-code table (src/util/errors.ts ExitCode, docs/exit-codes.md) and the one module that
// maps errors to it (src/cli/exit.ts); option parsers; names that could break generated C.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError, InvalidArgumentError } from 'commander';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { classifyError, jsonRequested } from '../src/cli/exit.js';
import { imageCount, timeoutMs, workerCount } from '../src/cli/options.js';
import { generateLibrary, writeLibrary } from '../src/codegen/generate.js';
import { firstComment, lineColumn, syntaxErrorOffset } from '../src/config/json-text.js';
import { QemuTimeoutError } from '../src/toolchain/qemu.js';
import { findTool } from '../src/toolchain/tools.js';
import { BudgetError } from '../src/toolchain/build.js';
import { EnvironmentError, ExitCode, UserError } from '../src/util/errors.js';
import { randomIr } from './helpers/random-ir.js';

describe('the exit-code table', () => {
  it('has one code per kind of outcome', () => {
    expect(ExitCode).toEqual({ passed: 0, verificationFailed: 1, badInput: 2, environment: 3, interrupted: 130 });
  });

  const errno = (code: string, syscall: string, path?: string) => Object.assign(new Error(`${code}: x`), { code, syscall, path });
  const rows: [string, unknown, number, RegExp][] = [
    ['a config error', new UserError('c.json: invalid config', ExitCode.badInput, { file: 'c.json', field: '/a' }), 2, /invalid config/],
    ['a bad option', new InvalidArgumentError('expected a whole number'), 2, /whole number/],
    ['an unknown option', new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), 2, /^unknown option '--x'$/],
    ['a model too big for the board', new BudgetError('does not fit', 'microbit', 'FLASH', 10), 2, /does not fit/],
    ['a directory as a file', errno('EISDIR', 'read', '/tmp/a'), 2, /^\/tmp\/a: is a directory, expected a file \(EISDIR in read\)$/],
    ['an output dir that is a file', errno('ENOTDIR', 'mkdir', '/tmp/f/x'), 2, /^\/tmp\/f\/x: a part of this path is a file/],
    ['a missing tool', (() => { try { findTool('qemu-system-arm', '/nonexistent'); } catch (e) { return e; } })(), 3, /apt-get install qemu-system-arm/],
    ['a hung firmware', new QemuTimeoutError('firmware hung'), 3, /hung/],
    ['a full disk', errno('ENOSPC', 'write', '/tmp/out/x.json'), 3, /^\/tmp\/out\/x\.json: no space left on the device \(ENOSPC in write\)$/],
    ['a read-only disk', errno('EROFS', 'mkdir', '/ro/out'), 3, /read-only file system/],
    ['no permission', errno('EACCES', 'open', '/root/x'), 3, /permission denied/],
    ['an environment error', new EnvironmentError('openocd could not flash'), 3, /openocd/],
    ['a bug', new TypeError('x is undefined'), 3, /^internal error: x is undefined$/],
  ];
  it.each(rows)('%s', (_what, err, code, message) => {
    const report = classifyError(err);
    expect(report.code).toBe(code);
    expect(report.message).toMatch(message);
    // Never "verification failed": exit 1 is reserved for a verification that ran and failed.
    expect(report.code).not.toBe(ExitCode.verificationFailed);
  });

  it('keeps the location of a user error for the JSON answer', () => {
    expect(classifyError(new UserError('m', 2, { file: 'c.json', field: '/training/epochs' }))).toEqual({ code: 2, message: 'm', file: 'c.json', field: '/training/epochs' });
  });

  it('--json is seen anywhere before "--"', () => {
    expect(jsonRequested(['node', 'cli', 'verify', 'c.json', '--json'])).toBe(true);
    expect(jsonRequested(['node', 'cli', 'verify', 'c.json', '--', '--json'])).toBe(false);
  });
});

describe('numeric option parsers', () => {
  it.each(['abc', '', '0', '-5', '1.5', '1e3', '0x10', ' ', '9007199254740993'])('--images %j is refused', (text) => {
    expect(() => imageCount(text)).toThrow(InvalidArgumentError);
  });
  it('accepts whole numbers in range', () => {
    expect(imageCount('10000')).toBe(10000);
    expect(imageCount(' 7 ')).toBe(7);
    expect(timeoutMs('1')).toBe(1);
    expect(timeoutMs(String(2 ** 31 - 1))).toBe(2 ** 31 - 1);
    expect(workerCount('2')).toBe(2);
  });
  it('refuses timeouts that would disable the hang check (0, or beyond what a Node timer holds)', () => {
    for (const text of ['0', String(2 ** 31), 'abc']) expect(() => timeoutMs(text)).toThrow(/from 1 to 2147483647/);
    expect(() => workerCount('0')).toThrow(InvalidArgumentError);
  });
});

describe('JSON text positions', () => {
  it('finds comments outside strings only', () => {
    expect(firstComment('{"a": "http://x"}')).toBe(-1);
    expect(firstComment('{"a": "\\"//"} // c')).toBe(14);
    expect(firstComment('{\n /* c */ "a": 1}')).toBe(3);
  });
  it('finds the first syntax error', () => {
    for (const [text, offset] of [['{"a": }', 6], ['[1, 2,]', 6], ['{"a": 1} x', 9], ['{"a": 1', 7], ['{"a": [1, {"b": true}]}', -1]] as const) {
      expect(syntaxErrorOffset(text)).toBe(offset);
    }
    expect(lineColumn('{\n  "a": }', 9)).toEqual({ line: 2, column: 8 });
  });
});

describe('names in generated C', () => {
  it('a model or layer name holding comment delimiters compiles warning-free', async () => {
    const ir = randomIr(3, { architecture: 'mnist-cnn' });
    ir.name = 'evil /* name */ model/*';
    ir.metadata = { ...ir.metadata, configName: 'cfg/*x*/', architecture: 'a*/b' };
    ir.ops.forEach((op, i) => (op.name = i % 2 ? `layer*/${i}` : `/*layer ${i}`));
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-names-'));
    writeLibrary(dir, generateLibrary(ir));
    const sources = readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
    // -Wcomment (in -Wall) flags "/*" inside a comment; -Werror makes it fatal.
    for (const source of sources) {
      await execa('gcc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', `-I${dir}`, '-c', source, '-o', `${source}.o`]);
    }
  });
});
