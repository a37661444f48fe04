/**
 * The two tables behind every typed fault, for the causes the other fault tests cannot produce on
 * this machine (EACCES and EPERM need a non-root user, EDQUOT a quota, 57P01 an admin shutdown,
 * "Aborted()" a PGlite that died): which error each cause becomes, and that none of their
 * messages carries SQL or parameters.
 */
import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import { asDbError, dbFault } from "../../core/db/faults.js";
import {
  InsufficientStorageError,
  LaminError,
  UnavailableError,
  ValidationError,
} from "../../core/errors.js";
import { fsError, ioError } from "../../core/io-errors.js";
import { expectNoInternals } from "./support.js";

const nodeError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code}: something, open '/data/x'`), { code, ...extra });
const pgError = (code: string, message = "server says no") =>
  Object.assign(new Error(message), { code });
const wrapped = (cause: Error) =>
  new DrizzleQueryError(
    `insert into "lamindb_artifact" values ${"($1), ".repeat(5000)}`,
    ["secret"],
    cause,
  );

describe("ioError: the disk under a write", () => {
  it.each([
    ["ENOSPC", "insufficient-storage", /: the disk is full \(ENOSPC\)$/],
    ["EDQUOT", "insufficient-storage", /: the disk is full \(EDQUOT\)$/],
    ["EROFS", "permission", /: the file system is read-only \(EROFS\)$/],
    ["EACCES", "permission", /: permission denied \(EACCES\)$/],
    ["EPERM", "permission", /: permission denied \(EPERM\)$/],
  ] as const)("%s from Node's fs", (code, kind, message) => {
    const typed = ioError(nodeError(code), "could not write x.csv", "nothing was registered");
    expect(typed).toBeInstanceOf(kind === "permission" ? LaminError : InsufficientStorageError);
    expect(typed?.kind).toBe(kind);
    expect(typed?.message).toMatch(/^could not write x\.csv/);
    expect(typed?.message).toMatch(message);
    expect(typed?.hint).toMatch(/; nothing was registered$/);
  });

  it("PGlite's file system errors: Emscripten's numbers", () => {
    const errno = (n: number) =>
      Object.assign(Object.create(null), { name: "ErrnoError", errno: n });
    expect(ioError(errno(51), "w")?.message).toBe("w: the disk is full (ENOSPC)");
    expect(ioError(errno(69), "w")?.kind).toBe("permission");
    expect(ioError(errno(44), "w")).toBeUndefined(); // ENOENT: not ours to name
  });

  it("fsError names the path the error was about", () => {
    expect(fsError(nodeError("EACCES", { syscall: "mkdir", path: "/data/out" }))?.message).toBe(
      "cannot write /data/out: permission denied (EACCES)",
    );
    expect(fsError(nodeError("ENOENT", { path: "/x" }))).toBeUndefined();
  });
});

describe("dbFault: a database that failed", () => {
  it.each([
    ["57P01", "terminating connection due to administrator command"],
    ["57P03", "the database system is starting up"],
    ["08006", "connection failure"],
    ["53300", "sorry, too many clients already"],
  ])("SQLSTATE %s is unavailable", (code, message) => {
    const typed = dbFault(wrapped(pgError(code, message)));
    expect(typed).toBeInstanceOf(UnavailableError);
    expect(typed?.message).toBe(`the database is unavailable: ${message}`);
  });

  it.each([
    ["a refused connection", nodeError("ECONNREFUSED")],
    ["a reset one", nodeError("ECONNRESET")],
    ["a connection that ended", new Error("Connection terminated unexpectedly")],
    ["a closed PGlite", new Error("PGlite is closed")],
  ])("%s is unavailable", (_, cause) => {
    expect(dbFault(wrapped(cause))).toBeInstanceOf(UnavailableError);
  });

  it("a full disk, a NUL byte, and a PGlite that aborted", () => {
    const full = dbFault(
      wrapped(pgError("53100", 'could not extend file "base/5/1": No space left')),
    );
    expect(full).toBeInstanceOf(InsufficientStorageError);
    expect(dbFault(wrapped(pgError("22021", "invalid byte sequence")))).toBeInstanceOf(
      ValidationError,
    );
    expect(dbFault(wrapped(pgError("22P05", "unsupported Unicode escape")))).toBeInstanceOf(
      ValidationError,
    );
    const aborted = dbFault(new Error("Aborted(). Build with -sASSERTIONS for more info."));
    expect(aborted).toBeInstanceOf(UnavailableError);
    expect(aborted?.message).toBe("the embedded database stopped unexpectedly (PGlite aborted)");
  });

  it("what it does not classify keeps its SQLSTATE but loses the SQL from its message", () => {
    const unique = wrapped(pgError("23505", "duplicate key value violates unique constraint"));
    const error = asDbError(unique) as DrizzleQueryError;
    expect(error).toBe(unique);
    expect(error.message).toBe(
      "the database refused a query: duplicate key value violates unique constraint",
    );
    expect((error.cause as unknown as { code: string }).code).toBe("23505");
    for (const e of [error, dbFault(wrapped(pgError("57P01", "bye")))]) {
      expectNoInternals(`${e?.message}\n${(e as LaminError).hint ?? ""}`);
      expect(e?.message).not.toMatch(/secret|\$1/);
    }
  });
});
