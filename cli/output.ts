/** How the CLI speaks: JSON documents on stdout for scripts, short human lines otherwise. */
import { LaminError } from "../core/errors.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Notes go to stderr so that stdout stays parseable. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

const EXIT_CODES: Record<string, number> = {
  validation: 2,
  // a body or table over the limit, content that cannot be processed: what was sent is wrong
  "too-large": 2,
  unprocessable: 2,
  "not-found": 3,
  conflict: 4,
  unavailable: 5,
  "insufficient-storage": 5,
  integrity: 6,
  permission: 7,
  unauthenticated: 7,
};

/**
 * A full disk, a refused folder or a database gone, met where nothing classified it yet, as a
 * typed error (loaded only on this path: short commands do not pay for the database code).
 */
async function classified(error: unknown): Promise<unknown> {
  if (error instanceof LaminError) return error;
  const [{ dbFault }, { fsError }] = await Promise.all([
    import("../core/db/faults.js"),
    import("../core/io-errors.js"),
  ]);
  return dbFault(error) ?? fsError(error) ?? error;
}

/** Print an error as one line plus a hint (and as JSON with --json); return the exit code. */
export async function reportError(thrown: unknown, json: boolean): Promise<number> {
  const error = await classified(thrown);
  const known = error instanceof LaminError;
  const message = known
    ? error.message
    : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
  // every error comes with a hint, also those whose cause has none of its own
  const hint = known
    ? (error.hint ?? "run the command with --help to see its usage")
    : "this is a bug; please report it with the command you ran";
  // a structured report (schema validation) prints every line of its message
  const report = known ? (error as { report?: unknown }).report : undefined;
  process.stderr.write(`error: ${report ? message : message.split("\n")[0]}\n`);
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  if (json) {
    printJson({
      error: {
        type: known ? error.kind : "internal",
        message,
        ...(hint ? { hint } : {}),
        ...(report ? { report } : {}),
      },
    });
  }
  if (!known && process.env.LAMIN_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  return known ? (EXIT_CODES[error.kind] ?? 1) : 1;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(n: number | null): string {
  if (n === null) return "-";
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

/** A plain text table: columns padded to the widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
