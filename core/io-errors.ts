/**
 * Failures of the machine under us (a full disk, a read-only or forbidden folder) as typed
 * errors, whichever layer met them: Node's fs (`code: "ENOSPC"`) or PGlite's virtual file
 * system (Emscripten's `ErrnoError`, a bare object with a numeric errno and no message).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { InsufficientStorageError, LaminError } from "./errors.js";

/** Emscripten's (WASI's) numbers of the errno codes we map. */
const EMSCRIPTEN_ERRNO: Record<number, string> = {
  2: "EACCES",
  19: "EDQUOT",
  51: "ENOSPC",
  63: "EPERM",
  69: "EROFS",
};

/** The errno code (`ENOSPC`, ...) of an error or of one of its causes. */
export function errnoCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 5 && e && typeof e === "object"; i++) {
    const { code, errno, name } = e as { code?: unknown; errno?: unknown; name?: unknown };
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
    if (name === "ErrnoError" && typeof errno === "number") return EMSCRIPTEN_ERRNO[errno];
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * `what` failed because of the disk or its permissions: the typed error that says so, or
 * undefined when the cause is something else. `what` says what was being done, e.g.
 * "cannot write counts.csv to storage /data"; `outcome`, if given, ends the hint (e.g. what
 * was or was not saved).
 */
export function ioError(error: unknown, what: string, outcome?: string): LaminError | undefined {
  const code = errnoCode(error);
  const options = { cause: error };
  const hint = (text: string) => (outcome ? `${text}; ${outcome}` : text);
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return new InsufficientStorageError(
        `${what}: the disk is full (${code})`,
        hint(
          code === "EDQUOT"
            ? "free space or raise the disk quota, then try again"
            : "free space on that disk, then try again",
        ),
        options,
      );
    case "EROFS":
      return new LaminError(
        "permission",
        `${what}: the file system is read-only (EROFS)`,
        hint("mount it writable, or use a folder on a writable disk"),
        options,
      );
    case "EACCES":
    case "EPERM":
      return new LaminError(
        "permission",
        `${what}: permission denied (${code})`,
        hint(
          "check who owns the folder and its permissions (ls -ld), or use a folder you can write to",
        ),
        options,
      );
    default:
      return undefined;
  }
}

/**
 * An error of Node's fs met where no caller said what it was doing: described from the error
 * itself (its path), e.g. "cannot write /data/x.csv: permission denied (EACCES)".
 */
export function fsError(error: unknown): LaminError | undefined {
  const { path, dest, syscall } = (error ?? {}) as {
    path?: unknown;
    dest?: unknown;
    syscall?: unknown;
  };
  const target = typeof dest === "string" ? dest : typeof path === "string" ? path : undefined;
  const reading = syscall === "scandir" || syscall === "opendir" || syscall === "stat";
  const what = target
    ? `cannot ${reading ? "read" : "write"} ${target}`
    : "a file operation failed";
  return ioError(error, what);
}

/**
 * A failed write of `target` (a file or folder to create) in words. Node's recursive mkdir
 * answers ENOENT on a read-only file system: the nearest existing folder tells the real reason.
 */
export async function writeError(error: unknown, target: string): Promise<LaminError | undefined> {
  const what = `cannot write ${target}`;
  const typed = ioError(error, what);
  if (typed || errnoCode(error) !== "ENOENT") return typed;
  let dir = dirname(target);
  while (
    !(await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    )) &&
    dirname(dir) !== dir
  ) {
    dir = dirname(dir);
  }
  return access(dir, constants.W_OK).then(
    () => undefined,
    (denied: unknown) => ioError(denied, what),
  );
}
