/** `lamin reconcile`: compare storage with the registry and repair what events missed. */

import { IntegrityError } from "../../core/errors.js";
import type { Change, ReconcileReport } from "../../core/ingest/reconcile.js";
import { printJson, say } from "../output.js";
import { withTarget } from "../target.js";

const SECTIONS: [keyof ReconcileReport, string, string][] = [
  ["registered", "registered", "would register"],
  ["changed", "new version (size or ETag changed)", "changed, would version"],
  ["trashed", "trashed (object gone)", "gone, would trash"],
  ["completed", "completed upload", "would complete upload"],
  ["expired", "removed expired upload", "would remove expired upload"],
  ["partial", "removed partial file", "would remove partial file"],
  ["waiting", "upload waiting for its bytes", "upload waiting for its bytes"],
  ["missingBytes", "MISSING BYTES (not repairable here)", "MISSING BYTES (not repairable here)"],
  ["skipped", "skipped", "would skip"],
];

export async function reconcileCommand(opts: { json?: boolean; dryRun?: boolean }) {
  const report = await withTarget((ln) =>
    ln.reconcile({
      dryRun: opts.dryRun === true,
      onProgress: (done, total) => {
        if (process.stderr.isTTY && total >= 50) {
          process.stderr.write(`\r\x1b[2Kreconciling: ${done}/${total}`);
          if (done === total) process.stderr.write("\r\x1b[2K");
        }
      },
    }),
  );
  // what no run can repair: managed bytes gone, bytes under .lamindb/ that no artifact claims
  const unrepairable = report.missingBytes.length + report.unclaimed.length;
  if (opts.json) {
    printJson(report);
    // the report is the one JSON document; the exit code and stderr say it is not all well
    if (unrepairable > 0) {
      process.stderr.write(`error: ${unrepairableMessage(report)}\nhint: ${UNREPAIRABLE_HINT}\n`);
      process.exitCode = 6;
    }
    return;
  }
  const dry = report.dryRun;
  let changes = 0;
  for (const [field, done, would] of SECTIONS) {
    for (const c of report[field] as Change[]) {
      changes++;
      const label = dry ? would : c.action === "skipped" && field !== "skipped" ? "skipped" : done;
      say(`${label}: ${c.key}${c.uid ? ` (${c.uid})` : ""}${c.detail ? ` - ${c.detail}` : ""}`);
    }
  }
  for (const key of report.unclaimed) say(`unclaimed bytes under .lamindb/: ${key}`);
  const total = changes + report.unclaimed.length;
  say(
    total === 0
      ? `storage and registry agree (${count(report.unchanged, "object")})`
      : `${dry ? "dry run: " : ""}${count(total, "difference")}, ${count(report.unchanged, "object")} unchanged${dry ? "; run without --dry-run to repair" : ""}`,
  );
  if (unrepairable > 0) throw new IntegrityError(unrepairableMessage(report), UNREPAIRABLE_HINT);
}

/** `1 object`, `2 objects`. */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

const UNREPAIRABLE_HINT =
  "restore missing bytes from a backup (or delete their artifacts: lamin delete UID --permanent); unclaimed files under .lamindb/ are no artifact's: move them out of the storage folder or delete them";

function unrepairableMessage(report: ReconcileReport): string {
  const parts = [
    report.missingBytes.length > 0
      ? `${count(report.missingBytes.length, "artifact")} whose bytes are missing`
      : "",
    report.unclaimed.length > 0
      ? `${count(report.unclaimed.length, "file")} under .lamindb/ that no artifact claims`
      : "",
  ].filter(Boolean);
  return `reconcile cannot repair ${parts.join(" and ")}`;
}
