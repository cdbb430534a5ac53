// Board profiles: firmware/boards/<name>.json, validated against firmware/board.schema.json and
// resolved into numbers (addresses and sizes are written "0x20000000", "16K" in the files).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UserError } from '../util/errors.js';
import { boardSchemaPath, boardsDir } from './paths.js';

export interface MemoryRegion {
  origin: number;
  size: number;
}

export interface OpenOcdConfig {
  /** An interface script as shipped with OpenOCD, e.g. "interface/stlink.cfg". */
  interface: string;
  /** Passed to `transport select` when the interface supports several, e.g. "hla_swd". */
  transport?: string;
  /** A target script, e.g. "target/stm32f4x.cfg". */
  target: string;
}

export interface Board {
  name: string;
  description: string;
  /** 'qemu': exists for us only as an emulated machine; 'chip': a real part (real memory sizes). */
  kind: 'qemu' | 'chip';
  cpu: string;
  /** Code generation flags: -mcpu, -mthumb and, on hard-float cores, -mfpu and -mfloat-abi. */
  cflags: string[];
  /** Whether the kernels' DSP path (__ARM_FEATURE_DSP) applies to this core. */
  dsp: boolean;
  libc: 'newlib' | 'newlib-nano';
  clockHz: number;
  /** The chip's own memory map: what a build for the hardware links against. */
  flash: MemoryRegion;
  ram: MemoryRegion;
  stackSize: number;
  heapSize: number;
  qemu: {
    machine: string;
    /** SysTick ticks to instructions under `-icount shift=0` on this machine. */
    instructionsPerTick: number;
    /** The chip's sizes at the emulated machine's addresses: what a build for QEMU links against. */
    flash: MemoryRegion;
    ram: MemoryRegion;
  };
  openocd: OpenOcdConfig | null;
  energy: {
    microampsPerMHz: number;
    supplyVolts: number;
    /** Run current per MHz times supply voltage: µA/MHz × V = pJ per cycle. An estimate. */
    picojoulesPerCycle: number;
    source: string;
  };
  /** The profile it was read from. */
  file: string;
}

/** The JSON as written (see firmware/board.schema.json). */
interface BoardFile {
  name: string;
  description: string;
  kind: 'qemu' | 'chip';
  cpu: string;
  cflags: string[];
  dsp: boolean;
  libc: 'newlib' | 'newlib-nano';
  clockHz: number;
  flash: { origin: string; size: number | string };
  ram: { origin: string; size: number | string };
  stackSize: number | string;
  heapSize: number | string;
  qemu: { machine: string; instructionsPerTick: number; flashOrigin?: string; ramOrigin?: string };
  openocd: OpenOcdConfig | null;
  energy: { microampsPerMHz: number; supplyVolts: number; source: string };
}

let validator: ValidateFunction<BoardFile> | undefined;

function validate(): ValidateFunction<BoardFile> {
  if (!validator) {
    const schema = JSON.parse(readFileSync(boardSchemaPath, 'utf8')) as object;
    validator = new Ajv({ allErrors: true }).compile<BoardFile>(schema);
  }
  return validator;
}

/** Board names: the .json files in the boards directory. */
export function listBoards(directory: string = boardsDir): string[] {
  return readdirSync(directory)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** "16K" → 16384, "4M" → 4194304, "0x4000" → 16384; numbers pass through. */
export function parseBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)([KM]?)$/.exec(value);
  if (match) return Number(match[1]) * (match[2] === 'K' ? 1024 : match[2] === 'M' ? 1024 * 1024 : 1);
  if (/^0x[0-9a-fA-F]+$/.test(value)) return Number.parseInt(value.slice(2), 16);
  throw new Error(`not a byte count: ${value}`);
}

function describeErrors(errors: ErrorObject[]): string {
  return errors
    .map((e) => {
      const field = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replaceAll('/', '.');
      const allowed = e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
      const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : '';
      return `  ${field}: ${e.message}${allowed}${extra}`;
    })
    .join('\n');
}

/** Checks the schema cannot express: the flags agree with the core, the stack and heap fit. */
function checkConsistency(raw: BoardFile, board: Board): string[] {
  const problems: string[] = [];
  if (!raw.cflags.includes(`-mcpu=${raw.cpu}`)) problems.push(`cflags: expected -mcpu=${raw.cpu} (cpu is ${raw.cpu})`);
  if (!raw.cflags.includes('-mthumb')) problems.push('cflags: expected -mthumb (Cortex-M runs Thumb only)');
  const hardFloat = raw.cflags.includes('-mfloat-abi=hard');
  if (hardFloat && !raw.cflags.some((f) => f.startsWith('-mfpu='))) {
    problems.push('cflags: -mfloat-abi=hard needs an -mfpu=');
  }
  const dspCores = ['cortex-m4', 'cortex-m7', 'cortex-m33'];
  if (raw.dsp && !dspCores.includes(raw.cpu)) problems.push(`dsp: ${raw.cpu} has no DSP extension`);
  if (board.stackSize + board.heapSize >= board.ram.size) {
    problems.push(`stackSize + heapSize (${board.stackSize + board.heapSize}) leave no room in ram.size (${board.ram.size})`);
  }
  return problems;
}

/** Reads and checks firmware/boards/<name>.json. Unknown names list the valid ones. */
export function loadBoard(name: string, directory: string = boardsDir): Board {
  const known = existsSync(directory) ? listBoards(directory) : [];
  if (!known.includes(name)) {
    throw new UserError(`unknown board "${name}": expected one of ${known.join(', ')} (profiles in ${directory})`);
  }
  const file = join(directory, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`board profile ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const check = validate();
  if (!check(raw)) {
    throw new UserError(`board profile ${file} does not match firmware/board.schema.json:\n${describeErrors(check.errors ?? [])}`);
  }
  if (raw.name !== name) {
    throw new UserError(`board profile ${file}: field "name" is "${raw.name}", expected "${name}" (the file name)`);
  }

  const flash = { origin: Number(raw.flash.origin), size: parseBytes(raw.flash.size) };
  const ram = { origin: Number(raw.ram.origin), size: parseBytes(raw.ram.size) };
  const board: Board = {
    name: raw.name,
    description: raw.description,
    kind: raw.kind,
    cpu: raw.cpu,
    cflags: [...raw.cflags],
    dsp: raw.dsp,
    libc: raw.libc,
    clockHz: raw.clockHz,
    flash,
    ram,
    stackSize: parseBytes(raw.stackSize),
    heapSize: parseBytes(raw.heapSize),
    qemu: {
      machine: raw.qemu.machine,
      instructionsPerTick: raw.qemu.instructionsPerTick,
      flash: { origin: Number(raw.qemu.flashOrigin ?? raw.flash.origin), size: flash.size },
      ram: { origin: Number(raw.qemu.ramOrigin ?? raw.ram.origin), size: ram.size },
    },
    openocd: raw.openocd ? { ...raw.openocd } : null,
    energy: {
      ...raw.energy,
      picojoulesPerCycle: raw.energy.microampsPerMHz * raw.energy.supplyVolts,
    },
    file,
  };
  const problems = checkConsistency(raw, board);
  if (problems.length > 0) throw new UserError(`board profile ${file}:\n  ${problems.join('\n  ')}`);
  return board;
}
