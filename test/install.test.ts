/**
 * Installing as users do: `npm pack` of this checkout, then `npm install -g` of the tarball into
 * a temporary prefix (the npm cache serves the dependencies), and `lamin` from that prefix works
 * outside the clone. Also what `npm install` asks of a user: every dependency's install script is
 * decided in package.json's `allowScripts`, and the PGlite template cache stays in LAMIN_HOME.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import semver from "semver";
import { afterAll, describe, expect, it } from "vitest";
import { lamin, REPO, tempDir } from "./helpers.js";

const execFileP = promisify(execFile);
const work = tempDir("lamin-install-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("installing lamindb-serverless", () => {
  it("decides every install script of the lockfile in allowScripts (npm 11 asks, npm 12 refuses)", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      allowScripts?: Record<string, boolean | string>;
    };
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.hasInstallScript)
      .map(([path]) => path.split("node_modules/").at(-1) as string);
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of new Set(withScripts)) expect(pkg.allowScripts, name).toHaveProperty(name);
  });

  it("installs without engine warnings on the Node versions the README and engines name", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      engines: { node: string };
    };
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { engines?: { node?: string }; dev?: boolean; optional?: boolean }>;
    };
    const runtimeMin = semver.minVersion(pkg.engines.node)?.version as string;
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const cloneMin = /Node\.js (\d+\.\d+) or newer in a clone/.exec(readme)?.[1];
    expect(cloneMin, "the README names the Node version a clone needs").toBeDefined();
    const mismatches: string[] = [];
    for (const [path, p] of Object.entries(lock.packages)) {
      const range = p.engines?.node;
      // a platform's optional binary is skipped by npm where it does not apply
      if (!range || path === "" || p.optional) continue;
      const node = p.dev ? `${cloneMin}.0` : runtimeMin;
      if (!semver.satisfies(node, range)) mismatches.push(`${path} needs ${range}, not ${node}`);
    }
    expect(mismatches).toEqual([]);
  });

  it("keeps the PGlite template cache in LAMIN_HOME when LAMIN_CACHE_DIR is not set", async () => {
    const home = join(work, "settings");
    const userHome = join(work, "user-home");
    const r = await lamin(["init", "--storage", join(work, "cached"), "--json"], {
      cwd: work,
      env: {
        LAMIN_HOME: home,
        HOME: userHome,
        XDG_CACHE_HOME: "",
        LAMIN_CACHE_DIR: "",
        LAMIN_TEMPLATE_DIR: "",
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(home, "cache", "templates")).length).toBeGreaterThan(0);
    expect(existsSync(join(userHome, ".cache"))).toBe(false);
  }, 300_000);

  it("npm pack, npm install -g of the tarball into a prefix, and lamin runs outside the clone", async () => {
    const npmEnv = { ...process.env, npm_config_update_notifier: "false" };
    // dist/ is built (as for every CLI test): pack it without running `prepare` (the build) again
    const packed = await execFileP(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", work],
      {
        cwd: REPO,
        env: npmEnv,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = (info?.files ?? []).map((f) => f.path);
    expect(files).toContain("bin/lamin.js");
    expect(files).toContain("dist/cli/cli.js");
    expect(files.some((f) => f.startsWith("migrations/instance/"))).toBe(true);
    expect(files.some((f) => f.startsWith("test/") || f.startsWith("node_modules/"))).toBe(false);

    const prefix = join(work, "prefix");
    await execFileP(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        join(work, info?.filename ?? ""),
      ],
      { cwd: work, env: npmEnv, maxBuffer: 64 * 1024 * 1024 },
    );
    const elsewhere = tempDir("lamin-installed-");
    const env = {
      ...process.env,
      PATH: `${join(prefix, "bin")}:${process.env.PATH}`,
      LAMIN_HOME: join(elsewhere, "settings"),
    };
    const run = (args: string[]) => execFileP("lamin", args, { cwd: elsewhere, env });
    const version = await run(["--version"]);
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    await run(["init", "--storage", "./mydir"]);
    const ls = await run(["ls", "--json"]);
    expect(JSON.parse(ls.stdout)).toEqual([]);
    rmSync(elsewhere, { recursive: true, force: true });
  }, 600_000);
});
