// A file copied in 64 KiB writes, as `install`, cp or a download write a binary. Linux keeps a file
// written at once, or read whole, in the page cache as large folios (ext4's), which every process
// that runs it then maps whole: more of it in each run's peak RSS, and page faults that cost more.
// Written in pieces, it is cached as an installed binary is. sea.mjs writes dist/runts this way,
// and the bench runs the single executable and its Node from such copies.
import { openSync, readSync, writeSync, closeSync, chmodSync } from 'node:fs';

/** `from` copied to `to` (mode 0755) in 64 KiB writes; returns `to`. */
export function copyInPieces(from, to) {
  const src = openSync(from, 'r');
  try {
    const dst = openSync(to, 'w', 0o755);
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (let n; (n = readSync(src, buf)) > 0; ) writeSync(dst, buf, 0, n);
    } finally {
      closeSync(dst);
    }
  } finally {
    closeSync(src);
  }
  chmodSync(to, 0o755);
  return to;
}
