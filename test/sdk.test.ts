/** The README's SDK example, run through the package's public name as a user's script would. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { REPO, tempDir, useTempHome } from "./helpers.js";

useTempHome();

it("runs examples/quickstart.ts against the built package", async () => {
  const work = tempDir();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(REPO, "examples", "quickstart.ts"), work],
    { cwd: REPO, env: process.env },
  );
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^created raw\/counts\.csv as [0-9A-Za-z]{16}0000 \(hash [\w-]{22}\)$/);
  expect(lines[1]).toMatch(/^new-version [0-9A-Za-z]{16}0001$/);
  expect(lines[2]).toBe("listed 1: raw/counts.csv@0001");
  expect(lines[3]).toBe("versions: 0001, 0000");
  expect(lines[4]).toBe(`loaded to ${join(work, "downloads", "counts.csv")}`);
  expect(lines[5]).toMatch(/^latest after delete: [0-9A-Za-z]{16}0000$/);
  expect(lines[6]).toMatch(
    /^rejected: invalid key '\.\.\/outside\.csv': it contains a '\.\.' segment \(hint: /,
  );
});
