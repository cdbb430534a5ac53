// IDX, the format of the MNIST files: a big-endian header (two zero bytes, a type code, the number
// of dimensions, then one uint32 per dimension) followed by the data. Only unsigned bytes (0x08)
// occur in MNIST and Fashion-MNIST, and only those are accepted.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { locatedIn, UserError } from '../util/errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses an IDX buffer; `source` names the file in errors. */
export function parseIdx(buffer: Uint8Array, source: string): IdxArray {
  if (buffer.length < 4) {
    throw new UserError(`${source}: not an IDX file: ${buffer.length} bytes, shorter than the 4-byte magic number`);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const magic = view.getUint32(0);
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    throw new UserError(`${source}: not an IDX file: magic number 0x${hex(magic)} should start with two zero bytes`);
  }
  if (buffer[2] !== UNSIGNED_BYTE) {
    throw new UserError(`${source}: IDX type code 0x${buffer[2].toString(16)} is not supported; expected 0x08 (unsigned byte)`);
  }
  const rank = buffer[3];
  if (rank < 1 || rank > 4) {
    throw new UserError(`${source}: IDX file with ${rank} dimensions; expected 1 to 4`);
  }
  const headerBytes = 4 + 4 * rank;
  if (buffer.length < headerBytes) {
    throw new UserError(`${source}: truncated IDX header: ${buffer.length} bytes, expected at least ${headerBytes}`);
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (buffer.length !== expected) {
    const what = buffer.length < expected ? 'truncated' : 'has trailing bytes';
    throw new UserError(
      `${source}: IDX file ${what}: dimensions ${dims.join('x')} need ${expected} bytes, found ${buffer.length}`,
    );
  }
  return { dims, data: buffer.subarray(headerBytes) };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Reads an IDX file, gunzipping it first when it starts with the gzip magic. */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read IDX file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, undefined, { file: path });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new UserError(`${path}: corrupt gzip data: ${(err as Error).message}`, undefined, { file: path });
    }
  }
  try {
    return parseIdx(bytes, path);
  } catch (err) {
    throw locatedIn(err, path);
  }
}

/** Builds an IDX buffer (used by tests and to write subsets). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UNSIGNED_BYTE << 8) | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
