/** How local paths relate once symbolic links are resolved. */
import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";

/** Whether `path` is `folder` or below it (both absolute and normalised). */
export function isWithin(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * `path` with symbolic links resolved as far as it exists: a path not there yet is its nearest
 * existing folder, resolved, plus the rest. Two spellings of one place compare equal.
 */
export async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  const rest: string[] = [];
  let probe = abs;
  for (;;) {
    try {
      // synchronous: a few microseconds, cheaper than a thread-pool round trip (saves call it
      // for every file)
      return join(realpathSync.native(probe), ...rest.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(probe) === probe) return abs;
      rest.push(basename(probe));
      probe = dirname(probe);
    }
  }
}
