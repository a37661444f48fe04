/**
 * Commands that need the current instance's database in this process (features, labels,
 * schemas, validation): a local instance that no `lamin serve` holds. Elsewhere they say why
 * and what to do instead.
 */
import { LaminError } from "../../core/errors.js";
import type { Instance } from "../../core/instance.js";
import { resolveInstanceSettings, runningServer } from "../../core/settings.js";
import { note } from "../output.js";

export async function withInstanceInProcess<T>(
  what: string,
  remoteHint: string,
  fn: (ln: Instance) => Promise<T>,
): Promise<T> {
  const settings = resolveInstanceSettings();
  const remote = settings.db.kind === "remote";
  if (remote || runningServer(settings.name)) {
    throw new LaminError(
      "unavailable",
      `${what} work on the instance's database directly, not yet through ${
        remote ? "a remote server" : "a running `lamin serve`"
      }`,
      remote ? remoteHint : "stop `lamin serve` for this command, or use the SDK",
    );
  }
  const { openInstance } = await import("../../core/setup.js");
  const ln = await openInstance(settings.name, {
    onWait: (holder) => note(`waiting for process ${holder.pid}, which has the instance open ...`),
  });
  try {
    return await fn(ln);
  } finally {
    await ln.close();
  }
}
