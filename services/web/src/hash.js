// The SHA-256 that POST /uploads declares, read in slices: the browser's own digest takes
// the whole file in memory at once, and a file may be gigabytes.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

// Small enough that the page stays responsive between slices.
const SLICE_BYTES = 4 * 1024 * 1024;

export async function sha256Hex(blob, onProgress) {
  const hash = sha256.create();
  for (let offset = 0; offset < blob.size; offset += SLICE_BYTES) {
    const slice = blob.slice(offset, offset + SLICE_BYTES);
    hash.update(new Uint8Array(await slice.arrayBuffer()));
    onProgress(Math.min(offset + SLICE_BYTES, blob.size) / blob.size);
  }
  return bytesToHex(hash.digest());
}
