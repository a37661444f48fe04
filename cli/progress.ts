/**
 * Progress of long saves on stderr: a redrawn line on a terminal; on a pipe, occasional lines
 * only when LAMIN_PROGRESS=1 (so logs of scripts stay quiet by default).
 */
import type { Progress } from "../core/registry/artifacts/artifacts.js";
import { formatBytes } from "./output.js";

const MIN_BYTES = 8 * 1024 * 1024; // smaller work finishes before a bar would help
const MIN_FILES = 200;

export function progressPrinter(label: string): ((p: Progress) => void) & { end(): void } {
  const tty = process.stderr.isTTY === true;
  const forced = process.env.LAMIN_PROGRESS === "1";
  let last = 0;
  let drawn = false;
  const show = (p: Progress) => {
    const big =
      p.unit === "files" ? p.total >= MIN_FILES : p.done >= MIN_BYTES || p.total >= MIN_BYTES;
    if (!(tty || forced) || !big) return;
    const now = Date.now();
    const finished = p.total > 0 && p.done >= p.total;
    if (now - last < (tty ? 100 : 1000) && !finished) return;
    last = now;
    const amount =
      p.unit === "files"
        ? `${p.done}/${p.total} files`
        : p.total > 0
          ? `${formatBytes(p.done)}/${formatBytes(p.total)} (${Math.floor((100 * p.done) / p.total)}%)`
          : formatBytes(p.done);
    const text = `${p.phase === "hash" ? "hashing" : "copying"} ${label}: ${amount}`;
    if (tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      drawn = true;
    } else process.stderr.write(`${text}\n`);
  };
  return Object.assign(show, {
    end() {
      if (drawn) process.stderr.write("\r\x1b[2K");
    },
  });
}
