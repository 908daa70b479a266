export { encode, encodeModule, DEFAULT_TYPES, type EncodeConfig } from './encode.js';
export { negotiate } from './negotiate.js';
export { zstdAvailable, type EncodingName } from './encoders.js';
export { EncodeWriter } from './writer.js';
