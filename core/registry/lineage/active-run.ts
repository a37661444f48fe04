/**
 * The run `lamin track FILE` started, remembered per instance in `$LAMIN_HOME/runs/<name>.json`
 * until `lamin finish`: the `lamin save` and `lamin load` in between belong to it. (Light on
 * purpose: commands check it before opening anything.)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { laminHome } from "../../settings.js";

export interface ActiveRunFile {
  instance: string;
  run: string;
  transform: string;
  key: string;
  started_at: string;
}

const activeRunFile = (instanceName: string) => join(laminHome(), "runs", `${instanceName}.json`);

export function loadActiveRun(instanceName: string): ActiveRunFile | undefined {
  try {
    return JSON.parse(readFileSync(activeRunFile(instanceName), "utf8")) as ActiveRunFile;
  } catch {
    return undefined;
  }
}

export function saveActiveRun(active: ActiveRunFile): void {
  const file = activeRunFile(active.instance);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(active, null, 2)}\n`);
}

export function clearActiveRun(instanceName: string): void {
  rmSync(activeRunFile(instanceName), { force: true });
}
