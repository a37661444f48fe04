/** Files and streams the storage tests share. */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";

export const MiB = 1024 * 1024;

/**
 * A file of `mib` MiB that is cheap to write yet never repeats a MiB: one random block with a
 * counter in its first bytes (random data for 60 MiB would cost more than the test itself).
 */
export function patternFile(path: string, mib: number): string {
  const block = randomBytes(MiB);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
