// Worst-case stack depth of a linked firmware image, found statically: the call graph comes from
// the disassembly of the ELF (every BL/BLX and every branch to another function's first
// instruction, so library functions and the compiler's helper calls are included), each
// function's frame from GCC's -fstack-usage (.su) files where it compiled the function, and
// otherwise from the function's own instructions (the sum of every PUSH, VPUSH, SUB SP and
// pre-indexed store to SP in it, which over-counts a function that pushes on several paths).
// Exception handlers are analysed as roots of their own: one can be taken at the deepest point.
// The result bounds the stack from `root` down as long as nothing is `unbounded`: an indirect
// call, a stack adjustment by a register (alloca, VLA) or recursion makes a static bound
// impossible, and is listed instead.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { findTool } from './tools.js';

export interface StackUsageEntry {
  /** The function name (static functions of different files may share one). */
  name: string;
  file: string;
  bytes: number;
  /** GCC's qualifier: "static", "dynamic" or "dynamic,bounded". */
  qualifier: string;
}

/** Parses GCC's -fstack-usage output: `file:line:column:function<TAB>bytes<TAB>qualifier`. */
export function parseStackUsage(text: string): StackUsageEntry[] {
  const entries: StackUsageEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(.*):\d+:\d+:([^\t:]+)\t(\d+)\t(\S+)\s*$/.exec(line);
    if (m) entries.push({ file: m[1], name: m[2], bytes: Number(m[3]), qualifier: m[4] });
  }
  return entries;
}

export interface DisassembledFunction {
  name: string;
  address: number;
  /** Bytes the function's own instructions take from the stack (see the file comment). */
  frameBytes: number;
  /** Addresses of the functions it calls or tail-calls. */
  calls: number[];
  /** Instructions that call through a register (BLX rN, BX rN other than LR). */
  indirect: string[];
  /** Instructions that move SP by a register amount. */
  dynamic: string[];
}

const CONDITIONS = '(?:eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?';
const DIRECT_BRANCH = new RegExp(`^(bl|blx|b${CONDITIONS})(?:\\.[nw])?\\s+([0-9a-f]+)\\s+<([^>]+)>`);

/** How many bytes a register list like "r4, r5, r8-r11, lr" or "d8-d15" or "s16-s31" holds. */
export function registerListBytes(list: string): number {
  let bytes = 0;
  for (const item of list.split(',').map((r) => r.trim()).filter(Boolean)) {
    const range = /^([a-z]+)(\d+)-[a-z]+(\d+)$/.exec(item);
    const count = range ? Number(range[3]) - Number(range[2]) + 1 : 1;
    const kind = range ? range[1] : item.replace(/\d+$/, '');
    bytes += count * (kind === 'd' ? 8 : 4);
  }
  return bytes;
}

/** Stack bytes one instruction takes, or 'dynamic'; 0 for everything else. */
function stackEffect(mnemonic: string, operands: string): number | 'dynamic' {
  const base = mnemonic.replace(/\.[nw]$/, '');
  const list = /\{([^}]*)\}/.exec(operands)?.[1];
  if ((base === 'push' || base === 'vpush') && list !== undefined) return registerListBytes(list);
  if ((base === 'stmdb' || base === 'stmfd' || base === 'vstmdb') && /^sp!/.test(operands) && list !== undefined) {
    return registerListBytes(list);
  }
  if (/^(sub|subw)$/.test(base) && /^sp,/.test(operands)) {
    const imm = /#(\d+)\s*(?:@.*)?$/.exec(operands);
    if (imm) return Number(imm[1]);
    return 'dynamic'; // sub sp, rN / sub sp, sp, rN
  }
  if (base === 'add' && /^sp,/.test(operands)) {
    const imm = /#-(\d+)/.exec(operands);
    if (imm) return Number(imm[1]);
    if (/,\s*r\d+\s*$/.test(operands) || /^sp,\s*(r\d+|ip|fp|sl)\s*$/.test(operands)) return 'dynamic';
  }
  if (/^str[bhd]?$/.test(base)) {
    const pre = /\[sp,\s*#-(\d+)\]!/.exec(operands);
    if (pre) return Number(pre[1]);
  }
  return 0;
}

/** Parses `objdump -d --no-show-raw-insn`: one entry per symbol header ("0000c4 <main>:"). */
export function parseDisassembly(text: string): DisassembledFunction[] {
  const functions: DisassembledFunction[] = [];
  let current: DisassembledFunction | undefined;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+) <([^>]+)>:\s*$/.exec(line);
    if (header) {
      current = { name: header[2], address: Number.parseInt(header[1], 16), frameBytes: 0, calls: [], indirect: [], dynamic: [] };
      functions.push(current);
      continue;
    }
    const insn = /^\s*([0-9a-f]+):\s+([a-z][a-z0-9.]*)\s*(.*)$/.exec(line);
    if (!current || !insn) continue;
    const [, , mnemonic, operands] = insn;
    if (mnemonic === '.word' || mnemonic === '.short' || mnemonic === '.byte') continue;
    const effect = stackEffect(mnemonic, operands);
    if (effect === 'dynamic') current.dynamic.push(`${mnemonic} ${operands}`.trim());
    else current.frameBytes += effect;

    const branch = DIRECT_BRANCH.exec(`${mnemonic} ${operands}`);
    if (branch) {
      const target = Number.parseInt(branch[2], 16);
      const label = branch[3];
      // A call, or a branch to the very start of another function (a tail call).
      if (branch[1] === 'bl' || branch[1] === 'blx' || (!label.includes('+') && target !== current.address)) {
        if (!current.calls.includes(target)) current.calls.push(target);
      }
      continue;
    }
    // MOV PC, rN and ADD PC, rN are the jump tables of switch statements on ARMv6-M (local
    // jumps, like TBB/TBH on ARMv7-M): no call, so not counted.
    const base = mnemonic.replace(/\.[nw]$/, '');
    if (base === 'blx' || (base === 'bx' && !/^lr\b/.test(operands))) {
      current.indirect.push(`${mnemonic} ${operands}`.trim());
    }
  }
  return functions;
}

export type StackPath = Array<{ name: string; bytes: number; from: 'stack-usage' | 'disassembly' }>;

export interface StackAnalysis {
  root: string;
  /** Worst-case bytes from the root's frame down, over every call chain. */
  bytes: number;
  /** The deepest chain: each function and the bytes of its own frame. */
  path: StackPath;
  /**
   * The deepest of the exception handlers' own chains (0 if none is in the image). An exception
   * can come at the root chain's deepest point, so the stack needs bytes + the hardware's
   * exception frame + handlerBytes.
   */
  handlerBytes: number;
  handlerPath: StackPath;
  /** Why the figures may not be bounds; empty when they are. */
  unbounded: string[];
}

/** The handlers firmware/startup/startup.c's vector table can reach (aliases share an address). */
export const EXCEPTION_HANDLERS = [
  'NMI_Handler', 'HardFault_Handler', 'MemManage_Handler', 'BusFault_Handler', 'UsageFault_Handler', 'SecureFault_Handler',
  'SVC_Handler', 'DebugMon_Handler', 'PendSV_Handler', 'SysTick_Handler', 'Default_Handler',
];

/** The worst-case depth from `root` (and from each of `handlers`) over `functions`, frames from `usage` where it has them. */
export function worstCaseStack(
  functions: DisassembledFunction[], usage: StackUsageEntry[], root: string, handlers: string[] = EXCEPTION_HANDLERS,
): StackAnalysis {
  const byAddress = new Map<number, DisassembledFunction>();
  for (const f of functions) if (!byAddress.has(f.address)) byAddress.set(f.address, f);

  const suByName = new Map<string, StackUsageEntry[]>();
  for (const e of usage) suByName.set(e.name, [...(suByName.get(e.name) ?? []), e]);

  const unbounded = new Set<string>();
  const frame = (f: DisassembledFunction): { bytes: number; from: 'stack-usage' | 'disassembly' } => {
    const entries = suByName.get(f.name);
    if (entries) {
      for (const e of entries) if (e.qualifier === 'dynamic') unbounded.add(`${f.name}: variable stack use (${e.file})`);
      // Static functions of several files may share the name: take the largest.
      return { bytes: Math.max(...entries.map((e) => e.bytes)), from: 'stack-usage' };
    }
    for (const d of f.dynamic) unbounded.add(`${f.name}: stack moved by a register (${d})`);
    return { bytes: f.frameBytes, from: 'disassembly' };
  };

  const memo = new Map<number, { bytes: number; chain: number[] }>();
  const visiting = new Set<number>();
  const depth = (f: DisassembledFunction): { bytes: number; chain: number[] } => {
    const known = memo.get(f.address);
    if (known) return known;
    visiting.add(f.address);
    for (const i of f.indirect) unbounded.add(`${f.name}: indirect call (${i})`);
    let deepest: { bytes: number; chain: number[] } = { bytes: 0, chain: [] };
    for (const target of f.calls) {
      const callee = byAddress.get(target);
      if (!callee) {
        unbounded.add(`${f.name}: calls 0x${target.toString(16)}, which is no function start`);
        continue;
      }
      if (visiting.has(target)) {
        unbounded.add(`${f.name}: recursion through ${callee.name}`);
        continue;
      }
      const d = depth(callee);
      if (d.bytes > deepest.bytes || deepest.chain.length === 0) deepest = d;
    }
    visiting.delete(f.address);
    const result = { bytes: frame(f).bytes + deepest.bytes, chain: [f.address, ...deepest.chain] };
    memo.set(f.address, result);
    return result;
  };
  const pathOf = (chain: number[]): StackPath =>
    chain.map((address) => {
      const f = byAddress.get(address)!;
      return { name: f.name, ...frame(f) };
    });

  const rootFunction = functions.find((f) => f.name === root);
  if (!rootFunction) unbounded.add(`${root} is not in the image`);
  const main = rootFunction ? depth(rootFunction) : { bytes: 0, chain: [] };
  let handler = { bytes: 0, chain: [] as number[] };
  for (const f of functions.filter((g) => handlers.includes(g.name))) {
    const d = depth(f);
    if (d.bytes > handler.bytes || handler.chain.length === 0) handler = d;
  }
  return {
    root,
    bytes: main.bytes,
    path: pathOf(main.chain),
    handlerBytes: handler.bytes,
    handlerPath: pathOf(handler.chain),
    unbounded: [...unbounded].sort(),
  };
}

/** Disassembles `elf` and bounds the stack from `root`, with the frames of the given .su files. */
export async function analyseStack(options: {
  elf: string; stackUsageFiles: string[]; root?: string; handlers?: string[];
}): Promise<StackAnalysis> {
  const { stdout } = await execa(findTool('arm-none-eabi-objdump'), ['-d', '--no-show-raw-insn', options.elf], {
    maxBuffer: 512 * 1024 * 1024,
  });
  const usage = options.stackUsageFiles.flatMap((file) => parseStackUsage(readFileSync(file, 'utf8')));
  return worstCaseStack(parseDisassembly(stdout), usage, options.root ?? 'Reset_Handler', options.handlers);
}
