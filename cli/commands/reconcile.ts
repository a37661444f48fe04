/** `lamin reconcile`: compare storage with the registry and repair what events missed. */
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
  if (opts.json) return printJson(report);
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
      ? `storage and registry agree (${report.unchanged} objects)`
      : `${dry ? "dry run: " : ""}${total} differences, ${report.unchanged} objects unchanged${dry ? "; run without --dry-run to repair" : ""}`,
  );
}
