// The toolchain stage: board profiles, building firmware, measuring it, running it in QEMU,
// and the OpenOCD command line for real boards.
export * from './boards.js';
export * from './build.js';
export * from './exitcodes.js';
export * from './openocd.js';
export * from './qemu.js';
export * from './size.js';
export * from './tools.js';
export * from './footprint.js';
export * from './stack.js';
export { firmwareDir } from './paths.js';
