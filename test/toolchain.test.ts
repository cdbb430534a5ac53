// Tool lookup, board profiles, size accounting and the OpenOCD command line. The builds here use
// the stand-in model in test/fixtures/stub-model; test/firmware.test.ts runs them in QEMU.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/util/errors.js';
import { listBoards, loadBoard, parseBytes } from '../src/toolchain/boards.js';
import { BudgetError, buildFirmware, memoryScript, type BuildResult } from '../src/toolchain/build.js';
import { flashCommand } from '../src/toolchain/openocd.js';
import { runHarness, splitRange } from '../src/toolchain/qemu.js';
import { defaultHarnessTimeoutMs } from '../src/pipeline/verify-stage.js';
import { parseLinkerMap, parseSectionHeaders } from '../src/toolchain/size.js';
import { parseDisassembly, parseStackUsage, registerListBytes, worstCaseStack } from '../src/toolchain/stack.js';
import { findTool, installHint } from '../src/toolchain/tools.js';

const STUB_DIR = fileURLToPath(new URL('./fixtures/stub-model/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'tinyforge-toolchain-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('tools', () => {
  const empty = join(scratch, 'empty-bin');
  mkdirSync(empty, { recursive: true });

  it.each([
    ['arm-none-eabi-gcc', 'apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi'],
    ['arm-none-eabi-size', 'apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi'],
    ['qemu-system-arm', 'apt-get install qemu-system-arm'],
    ['openocd', 'apt-get install openocd'],
    ['gcc', 'apt-get install gcc'],
  ] as const)('a missing %s names the package to install', (tool, hint) => {
    expect(() => findTool(tool, empty)).toThrow(UserError);
    expect(() => findTool(tool, empty)).toThrow(`${tool} was not found`);
    expect(() => findTool(tool, empty)).toThrow(hint);
    expect(installHint(tool)).toBe(hint);
  });

  it('finds installed tools on PATH', () => {
    expect(findTool('arm-none-eabi-gcc')).toMatch(/\/arm-none-eabi-gcc$/);
    expect(findTool('qemu-system-arm')).toMatch(/^\/.*qemu-system-arm$/);
  });

  it('a build without the cross compiler on PATH fails with the install hint', async () => {
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      await expect(buildFirmware({ board: 'microbit', modelDir: STUB_DIR, outDir: join(scratch, 'no-gcc') })).rejects.toThrow(
        /arm-none-eabi-gcc was not found.*apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi/,
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('board profiles', () => {
  it('lists the QEMU boards and the real chips', () => {
    expect(listBoards()).toEqual([
      'lm3s6965', 'microbit', 'mps2-an385', 'mps2-an386', 'mps2-an500', 'mps2-an505', 'nrf51822', 'stm32f405',
    ]);
  });

  it('loads every profile', () => {
    for (const name of listBoards()) {
      const board = loadBoard(name);
      expect(board.name).toBe(name);
      expect(board.cflags).toContain(`-mcpu=${board.cpu}`);
      expect(board.energy.picojoulesPerCycle).toBeCloseTo(board.energy.microampsPerMHz * board.energy.supplyVolts);
      expect(board.energy.source).toMatch(/estimate/i);
    }
  });

  it('resolves sizes, origins and emulation details', () => {
    const microbit = loadBoard('microbit');
    expect(microbit).toMatchObject({
      cpu: 'cortex-m0', dsp: false, libc: 'newlib-nano', stackSize: 1024, heapSize: 1536,
      flash: { origin: 0, size: 256 * 1024 }, ram: { origin: 0x20000000, size: 16 * 1024 },
      qemu: { machine: 'microbit', instructionsPerTick: 62.5 },
    });
    const an505 = loadBoard('mps2-an505');
    expect(an505.flash.origin).toBe(0x10000000);
    expect(an505.ram.origin).toBe(0x38000000);
    expect(an505.qemu.instructionsPerTick).toBe(50);
    // A real chip: its own map for flashing, its sizes at the emulator's addresses for QEMU.
    const stm32 = loadBoard('stm32f405');
    expect(stm32.flash).toEqual({ origin: 0x08000000, size: 1024 * 1024 });
    expect(stm32.qemu).toEqual({
      machine: 'mps2-an386', instructionsPerTick: 40,
      flash: { origin: 0, size: 1024 * 1024 }, ram: { origin: 0x20000000, size: 128 * 1024 },
    });
    expect(loadBoard('lm3s6965').qemu.machine).toBe('lm3s6965evb');
    expect(loadBoard('nrf51822').ram.size).toBe(16 * 1024);
  });

  it('an unknown name lists the valid ones', () => {
    expect(() => loadBoard('esp32')).toThrow(UserError);
    expect(() => loadBoard('esp32')).toThrow(/unknown board "esp32": expected one of lm3s6965, microbit, .*stm32f405/);
  });

  describe('broken profiles', () => {
    const dir = join(scratch, 'boards');
    const good = JSON.parse(readFileSync(loadBoard('microbit').file, 'utf8')) as Record<string, unknown>;
    const write = (name: string, content: unknown) =>
      writeFileSync(join(dir, `${name}.json`), typeof content === 'string' ? content : JSON.stringify({ ...good, name, ...content }));
    beforeAll(() => {
      mkdirSync(dir, { recursive: true });
      write('not-json', '{ "name": ');
      write('bad-enum', { libc: 'glibc' });
      write('missing', { qemu: { machine: 'microbit' } });
      write('extra', { colour: 'blue' });
      write('wrong-name', { name: 'someone-else' });
      write('dsp-m0', { dsp: true });
      write('mismatch', { cflags: ['-mcpu=cortex-m4', '-mthumb'] });
      write('too-small', { stackSize: '8K', heapSize: '8K' });
      write('fine', {});
    });

    it.each([
      ['not-json', /not-json\.json is not valid JSON/],
      ['bad-enum', /libc: must be equal to one of the allowed values \(newlib, newlib-nano\)/],
      ['missing', /qemu: must have required property 'instructionsPerTick'/],
      ['extra', /must NOT have additional properties "colour"/],
      ['wrong-name', /field "name" is "someone-else", expected "wrong-name"/],
      ['dsp-m0', /dsp: cortex-m0 has no DSP extension/],
      ['mismatch', /cflags: expected -mcpu=cortex-m0/],
      ['too-small', /stackSize \+ heapSize \(16384\) leave no room in ram\.size \(16384\)/],
    ])('%s is rejected with the field and what was expected', (name, message) => {
      expect(() => loadBoard(name, dir)).toThrow(UserError);
      expect(() => loadBoard(name, dir)).toThrow(message);
    });

    it('a well-formed copy loads', () => {
      expect(loadBoard('fine', dir).ram.size).toBe(16 * 1024);
    });
  });

  it('parses byte counts', () => {
    expect(parseBytes('16K')).toBe(16384);
    expect(parseBytes('4M')).toBe(4 * 1024 * 1024);
    expect(parseBytes('0x4000')).toBe(16384);
    expect(parseBytes(100)).toBe(100);
    expect(() => parseBytes('16k')).toThrow();
  });
});

describe('build and sizes', () => {
  let microbit: BuildResult;

  beforeAll(async () => {
    microbit = await buildFirmware({ board: 'microbit', modelDir: STUB_DIR, outDir: join(scratch, 'microbit') });
  });

  it('writes the image in every format with the memory of the board', () => {
    for (const file of [microbit.elf, microbit.bin, microbit.hex, microbit.map]) expect(readFileSync(file).length).toBeGreaterThan(0);
    const script = readFileSync(microbit.linkerScript, 'utf8');
    expect(script).toContain('FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 262144');
    expect(script).toContain('RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 16384');
    expect(script).toContain('__stack_size = 1024;');
    expect(script).toContain('__heap_size = 1536;');
    expect(script).toContain('INCLUDE sections.ld');
    // The .bin is the flash image: exactly the bytes the flash figure counts.
    expect(readFileSync(microbit.bin).length).toBe(microbit.sizes.flash.used);
  });

  it('accounts for flash and RAM and splits them by origin', () => {
    const { flash, ram, berkeley, declaredArena } = microbit.sizes;
    expect(flash.used).toBe(berkeley.text + berkeley.data);
    expect(flash.capacity).toBe(256 * 1024);
    expect(flash.weights).toBe(10 * 196 + 10 * 4); // the stub's int8 weights and int32 biases
    expect(flash.modelCode).toBeGreaterThan(0);
    expect(flash.harness).toBeGreaterThan(0);
    expect(flash.runtime).toBeGreaterThan(0);
    expect(flash.weights + flash.modelCode + flash.harness + flash.runtime + flash.other).toBe(flash.used);
    expect(flash.other).toBeGreaterThanOrEqual(0);
    expect(flash.other).toBeLessThan(64); // alignment only

    expect(declaredArena).toBe(980);
    expect(ram.arena).toBe(980);
    expect(ram.stack).toBe(1024);
    expect(ram.heap).toBe(1536);
    expect(ram.harness).toBeGreaterThanOrEqual(784); // the image buffer at least
    expect(ram.arena + ram.modelData + ram.harness + ram.runtime + ram.stack + ram.heap + ram.other).toBe(ram.used);
    expect(ram.other).toBeGreaterThanOrEqual(0);
    expect(ram.other).toBeLessThan(64);
    // .init_array is writable, so size's "data" counts it, but it lives in flash only.
    const initArray = microbit.sizes.sections.find((s) => s.name === '.init_array')?.size ?? 0;
    expect(ram.used).toBe(berkeley.data + berkeley.bss - initArray);
  });

  it('parses objdump section headers', () => {
    const text = [
      'Idx Name          Size      VMA       LMA       File off  Algn',
      '  0 .text         00001000  00000000  00000000  00010000  2**3',
      '                  CONTENTS, ALLOC, LOAD, READONLY, CODE',
      '  1 .data         00000010  20000800  00001000  00020800  2**2',
      '                  CONTENTS, ALLOC, LOAD, DATA',
      '  2 .bss          00000100  20000810  00001010  00020810  2**2',
      '                  ALLOC',
      '  3 .comment      00000026  00000000  00000000  00020810  2**0',
      '                  CONTENTS, READONLY',
    ].join('\n');
    expect(parseSectionHeaders(text, { origin: 0x20000000, size: 0x4000 })).toEqual([
      { name: '.text', size: 0x1000, vma: 0, lma: 0, inFlash: true, inRam: false },
      { name: '.data', size: 0x10, vma: 0x20000800, lma: 0x1000, inFlash: true, inRam: true },
      { name: '.bss', size: 0x100, vma: 0x20000810, lma: 0x1010, inFlash: false, inRam: true },
      { name: '.comment', size: 0x26, vma: 0, lma: 0, inFlash: false, inRam: false },
    ]);
  });

  it('parses input sections from a linker map, long names included', () => {
    const map = [
      'Discarded input sections',
      ' .text          0x00000000        0x0 ignored.o',
      'Linker script and memory map',
      '.text           0x000000c0     0x4728',
      ' *(.text .text.*)',
      ' .text.append   0x000000c0       0x10 /out/obj/firmware/faults.o',
      ' .text.append_hex',
      '                0x000000d0       0x30 /out/obj/firmware/faults.o',
      '                0x000000d0                append_hex',
      ' *fill*         0x00000100        0x2 ',
      ' .text          0x00000104        0xc /usr/lib/libc_nano.a(lib_a-errno.o)',
      '.bss            0x20000000      0x3d4',
      ' .bss.arena     0x20000000      0x3d4 /out/obj/model/model.o',
    ].join('\n');
    expect(parseLinkerMap(map)).toEqual([
      { outputSection: '.text', inputSection: '.text.append', size: 0x10, file: '/out/obj/firmware/faults.o' },
      { outputSection: '.text', inputSection: '.text.append_hex', size: 0x30, file: '/out/obj/firmware/faults.o' },
      { outputSection: '.text', inputSection: '*fill*', size: 2, file: '' },
      { outputSection: '.text', inputSection: '.text', size: 0xc, file: '/usr/lib/libc_nano.a(lib_a-errno.o)' },
      { outputSection: '.bss', inputSection: '.bss.arena', size: 0x3d4, file: '/out/obj/model/model.o' },
    ]);
  });

  it('a model too big for the chip fails at link time with the overflow', async () => {
    // 130,000 bytes of arena fit the 4 MB of mps2-an386 but not the 128 KB of an STM32F405
    // emulated on that very machine: the link uses the chip's sizes.
    const extraCflags = ['-DSTUB_ARENA_BYTES=130000'];
    const roomy = await buildFirmware({ board: 'mps2-an386', modelDir: STUB_DIR, outDir: join(scratch, 'big-an386'), extraCflags });
    expect(roomy.sizes.ram.arena).toBe(130000);
    const tooBig = buildFirmware({ board: 'stm32f405', modelDir: STUB_DIR, outDir: join(scratch, 'big-stm32'), extraCflags });
    await expect(tooBig).rejects.toBeInstanceOf(BudgetError);
    await expect(tooBig).rejects.toMatchObject({ board: 'stm32f405', region: 'RAM' });
    await expect(tooBig).rejects.toThrow(/does not fit board stm32f405: RAM \(131072 bytes\) overflowed by \d+ bytes/);
  });

  it('links a hardware build at the chip addresses and a QEMU build at the emulator addresses', async () => {
    const hardware = await buildFirmware({ board: 'stm32f405', modelDir: STUB_DIR, outDir: join(scratch, 'stm32-hw'), target: 'hardware' });
    expect(hardware.sizes.sections.find((s) => s.name === '.vectors')?.vma).toBe(0x08000000);
    // Intel hex: an extended linear address record for 0x0800 precedes the data.
    expect(readFileSync(hardware.hex, 'utf8').split(/\r?\n/)[0]).toBe(':020000040800F2');
    const qemu = await buildFirmware({ board: 'stm32f405', modelDir: STUB_DIR, outDir: join(scratch, 'stm32-qemu') });
    expect(qemu.sizes.sections.find((s) => s.name === '.vectors')?.vma).toBe(0);
  });

  it('surfaces compiler errors with gcc message', async () => {
    const broken = join(scratch, 'broken-model');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'model.h'), readFileSync(join(STUB_DIR, 'model.h')));
    writeFileSync(join(broken, 'model.c'), '#include "model.h"\nint model_predict(const int8_t *in, int8_t *out) { int unused; return 0; }\n');
    const build = buildFirmware({ board: 'microbit', modelDir: broken, outDir: join(scratch, 'broken') });
    await expect(build).rejects.toBeInstanceOf(UserError);
    await expect(build).rejects.toThrow(/compiling .*broken-model\/model\.c for board microbit failed:[\s\S]*unused variable 'unused'/);
  });

  it('a directory without model.h is refused', async () => {
    await expect(buildFirmware({ board: 'microbit', modelDir: scratch, outDir: join(scratch, 'none') })).rejects.toThrow(/expected model\.h/);
  });

  it('passes -DTINYFORGE_PORTABLE only when asked', async () => {
    const probe = join(scratch, 'portable-model');
    mkdirSync(probe, { recursive: true });
    writeFileSync(join(probe, 'model.h'), readFileSync(join(STUB_DIR, 'model.h')));
    // Fails to compile exactly when the define is present, so the outcome shows whether it was passed.
    writeFileSync(
      join(probe, 'model.c'),
      '#include "model.h"\n#ifdef TINYFORGE_PORTABLE\n#error portable path selected\n#endif\n' +
        'int model_predict(const int8_t *in, int8_t *out) { (void)in; (void)out; return 0; }\n' +
        'int model_predict_u8(const uint8_t *in, int8_t *out) { (void)in; (void)out; return 0; }\n',
    );
    await expect(buildFirmware({ board: 'mps2-an386', modelDir: probe, outDir: join(scratch, 'dsp') })).resolves.toBeDefined();
    await expect(buildFirmware({ board: 'mps2-an386', modelDir: probe, outDir: join(scratch, 'portable'), portable: true })).rejects.toThrow(
      /portable path selected/,
    );
  });
});

describe('stack analysis', () => {
  it('counts the bytes of register lists', () => {
    expect(registerListBytes('r4, r5, r6, lr')).toBe(16);
    expect(registerListBytes('r4-r11, lr')).toBe(36);
    expect(registerListBytes('d8-d15')).toBe(64);
    expect(registerListBytes('s16-s31')).toBe(64);
  });

  it('parses -fstack-usage files', () => {
    const text = '/src/model.c:128:12:model_run\t16\tstatic\n/src/k.c:9:6:scratch\t64\tdynamic,bounded\n';
    expect(parseStackUsage(text)).toEqual([
      { file: '/src/model.c', name: 'model_run', bytes: 16, qualifier: 'static' },
      { file: '/src/k.c', name: 'scratch', bytes: 64, qualifier: 'dynamic,bounded' },
    ]);
  });

  // Short and long addresses (objdump indents the first, not the second), calls, a tail call,
  // a local branch, a literal pool, a jump table, an indirect call, a register-sized stack
  // adjustment and recursion in a fault handler.
  const disassembly = [
    '00000100 <Reset_Handler>:',
    '     100:\tpush\t{r4, lr}',
    '     102:\tsub\tsp, #16',
    '     104:\tbl\t200 <leaf>',
    '     108:\tb.w\t10000300 <tail>',
    '     10c:\tbne.n\t104 <Reset_Handler+0x4>',
    '     10e:\t.word\t0xb5f0b5f0',
    '00000200 <leaf>:',
    '     200:\tpush\t{r4, r5, r6, r7, lr}',
    '     202:\tvpush\t{d8-d9}',
    '     204:\tmov\tpc, r3', // an ARMv6-M switch table: a local jump, not a call
    '     206:\tbx\tlr',
    '10000300 <tail>:',
    '10000300:\tstr.w\tlr, [sp, #-4]!',
    '10000304:\tsub.w\tsp, sp, #1024',
    '10000308:\tblx\tr3',
    '00000400 <HardFault_Handler>:',
    '     400:\tbl\t500 <report>',
    '00000500 <report>:',
    '     500:\tsub\tsp, sp, r2',
    '     502:\tbl\t500 <report>',
  ].join('\n');

  it('parses frames and calls from the disassembly', () => {
    const functions = parseDisassembly(disassembly);
    expect(functions.map((f) => [f.name, f.frameBytes, f.calls])).toEqual([
      ['Reset_Handler', 8 + 16, [0x200, 0x10000300]],
      ['leaf', 20 + 16, []],
      ['tail', 4 + 1024, []],
      ['HardFault_Handler', 0, [0x500]],
      ['report', 0, [0x500]],
    ]);
    expect(functions[1].indirect).toEqual([]);
    expect(functions[2].indirect).toEqual(['blx r3']);
    expect(functions[4].dynamic).toEqual(['sub sp, sp, r2']);
  });

  it('takes the deepest chain, prefers -fstack-usage frames, and says what it cannot bound', () => {
    const functions = parseDisassembly(disassembly);
    const usage = [{ file: 'startup.c', name: 'Reset_Handler', bytes: 32, qualifier: 'static' }];
    const analysis = worstCaseStack(functions, usage, 'Reset_Handler');
    expect(analysis.bytes).toBe(32 + 1028);
    expect(analysis.path).toEqual([
      { name: 'Reset_Handler', bytes: 32, from: 'stack-usage' },
      { name: 'tail', bytes: 1028, from: 'disassembly' },
    ]);
    expect(analysis.handlerPath.map((p) => p.name)).toEqual(['HardFault_Handler', 'report']);
    expect(analysis.unbounded).toEqual([
      'report: recursion through report',
      'report: stack moved by a register (sub sp, sp, r2)',
      'tail: indirect call (blx r3)',
    ]);
    // Without the indirect call, the recursion and the alloca: a bound.
    const clean = functions.filter((f) => f.name !== 'report' && f.name !== 'HardFault_Handler').map((f) => ({ ...f, indirect: [] }));
    expect(worstCaseStack(clean, usage, 'Reset_Handler')).toMatchObject({ bytes: 1060, handlerBytes: 0, unbounded: [] });
  });

  it('checks the harness stack reservation against the model, and refuses a model that needs more', async () => {
    const fits = await buildFirmware({ board: 'microbit', modelDir: STUB_DIR, outDir: join(scratch, 'stack-fits'), extraCflags: ['-DSTUB_STACK_BYTES=256'] });
    expect(fits.stack.unbounded).toEqual([]);
    expect(fits.stack.modelBytes).toBeGreaterThanOrEqual(256);
    expect(fits.stack.neededBytes).toBeGreaterThan(fits.stack.modelBytes);
    expect(fits.stack.neededBytes).toBeLessThanOrEqual(fits.stack.reservedBytes);
    const deep = buildFirmware({ board: 'microbit', modelDir: STUB_DIR, outDir: join(scratch, 'stack-deep'), extraCflags: ['-DSTUB_STACK_BYTES=1024'] });
    await expect(deep).rejects.toBeInstanceOf(BudgetError);
    await expect(deep).rejects.toThrow(/does not fit board microbit: the inference needs up to \d+ bytes of stack \(model \d+: model_predict_u8 \d+ > model_predict \d+.*more than the 1024 bytes reserved by stackSize/);
  });
});

describe('harness range checks', () => {
  it('splits a range into near-equal contiguous chunks', () => {
    expect(splitRange(10, 2)).toEqual([{ offset: 0, count: 5 }, { offset: 5, count: 5 }]);
    expect(splitRange(7, 3)).toEqual([{ offset: 0, count: 3 }, { offset: 3, count: 2 }, { offset: 5, count: 2 }]);
    expect(splitRange(1, 4)).toEqual([{ offset: 0, count: 1 }]);
  });

  it('the default verification timeout grows with the model (50 ms per image, or 20 ns per MAC if more)', () => {
    // The default model (510,912 MACs) keeps the floor; the Keras CNN (11,992,448) gets 240 ms.
    expect(defaultHarnessTimeoutMs(10_000, 510_912)).toBe(60_000 + 10_000 * 50);
    expect(defaultHarnessTimeoutMs(10_000, 11_992_448)).toBe(Math.ceil(60_000 + 10_000 * 239.84896));
    expect(defaultHarnessTimeoutMs(0, 11_992_448)).toBe(60_000);
  });

  it.each([
    [{ images: new Uint8Array(785) }, /multiple of 784/],
    [{ images: new Uint8Array(784 * 2), offset: 1, count: 2 }, /images 1\.\.2 requested, but only 2 images/],
    [{ images: new Uint8Array(784), processes: 0 }, /processes must be a positive integer/],
  ])('rejects a bad request before starting QEMU (%#)', async (request, message) => {
    const options = { board: 'microbit', elf: '/nonexistent.elf', workDir: join(scratch, 'range'), timeoutMs: 1000, ...request };
    await expect(runHarness(options)).rejects.toThrow(message);
  });
});

describe('openocd', () => {
  it('builds the program/verify/reset command for a real board', () => {
    expect(flashCommand('stm32f405', '/tmp/fw.hex')).toEqual([
      'openocd',
      '-f', 'interface/stlink.cfg',
      '-c', 'transport select hla_swd',
      '-f', 'target/stm32f4x.cfg',
      '-c', 'program {/tmp/fw.hex} verify reset exit',
    ]);
    expect(flashCommand('nrf51822', 'out/fw.hex').at(-1)).toBe(`program {${join(process.cwd(), 'out/fw.hex')}} verify reset exit`);
  });

  it('refuses a board that exists only in QEMU, naming the ones that can be flashed', () => {
    expect(() => flashCommand('mps2-an386', '/tmp/fw.hex')).toThrow(UserError);
    expect(() => flashCommand('mps2-an386', '/tmp/fw.hex')).toThrow(/exists only in QEMU.*lm3s6965, microbit, nrf51822, stm32f405/);
  });

  it.each(['stm32f405', 'nrf51822', 'lm3s6965', 'microbit'])('the %s configuration files exist and parse', async (board) => {
    // Everything but the final program command: OpenOCD reads the scripts, then shuts down
    // before looking for a probe.
    const [, ...args] = flashCommand(board, '/tmp/fw.hex');
    const result = await execa(findTool('openocd'), [...args.slice(0, -2), '-c', 'shutdown'], { reject: false, timeout: 10_000 });
    expect(result.exitCode, result.stderr).toBe(0);
  });
});
