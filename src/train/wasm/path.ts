// Which wasm training path runs: tinyforge's fused kernels (batch norm as one op with its own
// gradient, the 2x2 max-pool gradient) or the composite path tfjs-layers builds, kept selectable
// so that bench:train can measure both side by side in one run and tests can compare them.
//   TINYFORGE_WASM_PATH=composite   the old path; unset (or anything else): fused
// Read at each use (a stepper's construction, each MaxPoolGrad call), so a process may switch.
export type WasmPath = 'fused' | 'composite';

export function wasmPath(): WasmPath {
  return process.env.TINYFORGE_WASM_PATH === 'composite' ? 'composite' : 'fused';
}

export function fastWasmPath(): boolean {
  return wasmPath() === 'fused';
}
