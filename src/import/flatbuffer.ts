// A bounds-checked view of a FlatBuffer: tables, scalar fields, vectors and strings, read with
// the npm `flatbuffers` runtime's ByteBuffer. The runtime trusts its input (an offset past the
// end reads garbage); every access here checks first, so a truncated or corrupted file becomes
// a FlatbufferError naming the field (`subgraphs[0].tensors[3].buffer`) rather than a crash or a
// silently wrong model.
import { ByteBuffer } from 'flatbuffers';

export class FlatbufferError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'FlatbufferError';
  }
}

/** Scalar types of table fields and vector elements, with their sizes in bytes. */
const SIZES = { u8: 1, i8: 1, u16: 2, i32: 4, u32: 4, f32: 4, i64: 8 } as const;
export type Scalar = keyof typeof SIZES;

export class FbTable {
  private constructor(
    private readonly bb: ByteBuffer,
    private readonly pos: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    /** Where this table sits in the model, for messages. */
    readonly path: string,
  ) {}

  /** The root table of a buffer whose file identifier must be `identifier`. */
  static root(bytes: Uint8Array, identifier: string): FbTable {
    if (bytes.length < 8) throw new FlatbufferError('file', `expected at least 8 bytes (a FlatBuffer header), found ${bytes.length}`);
    const found = String.fromCharCode(...bytes.subarray(4, 8));
    if (found !== identifier) {
      throw new FlatbufferError('file', `expected the file identifier "${identifier}" at bytes 4-7, found ${JSON.stringify(found)}`);
    }
    const bb = new ByteBuffer(bytes);
    return FbTable.at(bb, bb.readUint32(0), 'model');
  }

  private static at(bb: ByteBuffer, pos: number, path: string): FbTable {
    check(bb, pos, 4, path, 'table');
    const vtable = pos - bb.readInt32(pos);
    check(bb, vtable, 4, path, 'vtable');
    const vtableSize = bb.readUint16(vtable);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new FlatbufferError(path, `corrupt vtable (size ${vtableSize})`);
    check(bb, vtable, vtableSize, path, 'vtable');
    return new FbTable(bb, pos, vtable, vtableSize, path);
  }

  /** Absolute position of field `id`, or 0 when the field is absent (default value). */
  private fieldPos(id: number, size: number, name: string): number {
    const entry = 4 + 2 * id;
    if (entry >= this.vtableSize) return 0;
    const offset = this.bb.readUint16(this.vtable + entry);
    if (offset === 0) return 0;
    check(this.bb, this.pos + offset, size, `${this.path}.${name}`, 'field');
    return this.pos + offset;
  }

  scalar(id: number, type: Scalar, name: string, fallback = 0): number {
    const at = this.fieldPos(id, SIZES[type], name);
    return at === 0 ? fallback : readScalar(this.bb, at, type);
  }

  has(id: number): boolean {
    return this.fieldPos(id, 0, String(id)) !== 0;
  }

  /** The position an offset field points to, or undefined when absent. */
  private target(id: number, name: string): number | undefined {
    const at = this.fieldPos(id, 4, name);
    if (at === 0) return undefined;
    const target = at + this.bb.readUint32(at);
    check(this.bb, target, 4, `${this.path}.${name}`, 'offset target');
    return target;
  }

  table(id: number, name: string): FbTable | undefined {
    const at = this.target(id, name);
    return at === undefined ? undefined : FbTable.at(this.bb, at, `${this.path}.${name}`);
  }

  /** [start, length] of a vector of `elementSize`-byte elements; undefined when absent. */
  private vector(id: number, elementSize: number, name: string): [number, number] | undefined {
    const at = this.target(id, name);
    if (at === undefined) return undefined;
    const length = this.bb.readUint32(at);
    const path = `${this.path}.${name}`;
    if (length * elementSize > this.bb.capacity() - at - 4) {
      throw new FlatbufferError(path, `a vector of ${length} x ${elementSize} bytes runs past the end of the file (truncated or corrupt)`);
    }
    return [at + 4, length];
  }

  scalars(id: number, type: Scalar, name: string): number[] {
    const v = this.vector(id, SIZES[type], name);
    if (!v) return [];
    const out: number[] = [];
    for (let i = 0; i < v[1]; i++) out.push(readScalar(this.bb, v[0] + i * SIZES[type], type));
    return out;
  }

  /** A vector of bytes as a view (no copy) into the file, or undefined when absent. */
  bytes(id: number, name: string): Uint8Array | undefined {
    const v = this.vector(id, 1, name);
    return v && this.bb.bytes().subarray(v[0], v[0] + v[1]);
  }

  string(id: number, name: string): string | undefined {
    const b = this.bytes(id, name);
    return b && new TextDecoder().decode(b);
  }

  tables(id: number, name: string): FbTable[] {
    const v = this.vector(id, 4, name);
    if (!v) return [];
    const out: FbTable[] = [];
    for (let i = 0; i < v[1]; i++) {
      const at = v[0] + 4 * i;
      const path = `${this.path}.${name}[${i}]`;
      const target = at + this.bb.readUint32(at);
      check(this.bb, target, 4, path, 'offset target');
      out.push(FbTable.at(this.bb, target, path));
    }
    return out;
  }
}

function check(bb: ByteBuffer, pos: number, size: number, path: string, what: string): void {
  if (!Number.isInteger(pos) || pos < 0 || pos + size > bb.capacity()) {
    throw new FlatbufferError(path, `${what} at byte ${pos} lies outside the ${bb.capacity()}-byte file (truncated or corrupt)`);
  }
}

function readScalar(bb: ByteBuffer, at: number, type: Scalar): number {
  switch (type) {
    case 'u8':
      return bb.readUint8(at);
    case 'i8':
      return bb.readInt8(at);
    case 'u16':
      return bb.readUint16(at);
    case 'i32':
      return bb.readInt32(at);
    case 'u32':
      return bb.readUint32(at);
    case 'f32':
      return bb.readFloat32(at);
    case 'i64':
      return Number(bb.readInt64(at));
  }
}
