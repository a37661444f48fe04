/**
 * The README and docs/*.md are a contract: every ```sh / ```bash and ```ts block runs, in order,
 * as a user would type it, and a non-zero exit fails the document's test. A block that cannot run
 * here (AWS, gcloud, a server that runs until stopped) says so in the Markdown itself, right above
 * the block, with a visible `<!-- not run: reason -->`; the test counts ran and skipped blocks.
 *
 * One fresh folder and one LAMIN_HOME for the whole file, set up as a user's project that
 * installed this package: `node_modules/lamindb-serverless` is the checkout, `lamin` is on PATH
 * and `package.json` says `"type": "module"`. `npx lamin` runs the same `node_modules/.bin/lamin`
 * npx would pick, without npx's own second of start-up per call (installing the package with npm
 * is test/install.test.ts's job). The README runs first (it creates the instance); the docs go on
 * with it.
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { LAMIN_BIN, REPO, tempDir } from "./helpers.js";

const execFileP = promisify(execFile);

interface DocBlock {
  lang: "sh" | "ts";
  line: number;
  code: string;
  /** the reason given by `<!-- not run: reason -->` right above the block, if any */
  notRun?: string;
}

/** Every sh/bash/ts block of a Markdown text, with its line and its `not run` annotation. */
function extractBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] ?? "");
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    if (end < 0) throw new Error(`unclosed code block at line ${i + 1}`);
    const lang = open[1] === "sh" || open[1] === "bash" ? "sh" : open[1] === "ts" ? "ts" : null;
    if (lang) {
      let above = i - 1;
      while (above >= 0 && (lines[above] ?? "").trim() === "") above--;
      const notRun = /^<!-- not run: (.+?) -->$/.exec((lines[above] ?? "").trim())?.[1];
      blocks.push({
        lang,
        line: i + 1,
        code: lines.slice(i + 1, end).join("\n"),
        ...(notRun ? { notRun } : {}),
      });
    }
    i = end;
  }
  return blocks;
}

const work = tempDir("lamin-docs-");
const home = tempDir("lamin-docs-home-");
const bin = join(work, ".bin");
const project = join(work, "project");
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
mkdirSync(bin);
symlinkSync(REPO, join(project, "node_modules", "lamindb-serverless"));
symlinkSync(LAMIN_BIN, join(project, "node_modules", ".bin", "lamin"));
symlinkSync(LAMIN_BIN, join(bin, "lamin"));
writeFileSync(
  join(project, "package.json"),
  JSON.stringify({ name: "docs-user", private: true, type: "module" }),
);
// `npx lamin` is the project's node_modules/.bin/lamin, as npx resolves it; anything else is npx
writeFileSync(
  join(bin, "npx"),
  `#!/bin/sh\nif [ "$1" = lamin ]; then shift; exec "${join(project, "node_modules", ".bin", "lamin")}" "$@"; fi\nexec "${join(REPO, "node_modules", ".bin", "npx")}" "$@"\n`,
);
chmodSync(join(bin, "npx"), 0o755);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${bin}:${join(REPO, "node_modules", ".bin")}:${process.env.PATH}`,
  LAMIN_HOME: home,
  LAMIN_CACHE_DIR: join(home, "cache"),
  NO_COLOR: "1",
};
// the examples must not lean on the test's environment
for (const name of ["DATABASE_URL", "LAMIN_INSTANCE", "LAMIN_HUB_URL", "LAMIN_API_KEY"]) {
  delete env[name];
}

/**
 * Each sh block: stop at the first failing command, and stop what it started in the background
 * (a hub, a server) however it ends.
 */
const SH_PRELUDE = "set -e -o pipefail\ntrap 'jobs -p | xargs -r kill 2>/dev/null' EXIT\n";

/** Run one block in the project folder; resolves with what it printed, rejects on a non-zero exit. */
async function runBlock(block: DocBlock, index: number): Promise<string> {
  const file =
    block.lang === "sh" ? join(work, `block-${index}.sh`) : join(project, `block-${index}.ts`);
  writeFileSync(file, block.lang === "sh" ? `${SH_PRELUDE}${block.code}\n` : block.code);
  const [cmd, args] =
    block.lang === "sh"
      ? ["bash", [file]]
      : [
          process.execPath,
          ["--import", join(REPO, "node_modules", "tsx", "dist", "esm", "index.mjs"), file],
        ];
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      cwd: project,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(
      `block at line ${block.line} exited with ${e.code}:\n${block.code}\n--- stdout\n${e.stdout}\n--- stderr\n${e.stderr}`,
    );
  }
}

const documents = [
  "README.md",
  ...readdirSync(join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

describe("the documentation runs as written", () => {
  it("extracts blocks and their annotations", () => {
    const blocks = extractBlocks(
      "text\n```sh\necho a\n```\n\n<!-- not run: needs AWS -->\n\n```bash\naws s3 ls\n```\n```json\n{}\n```\n```ts\nlet x = 1;\n```\n",
    );
    expect(blocks).toEqual([
      { lang: "sh", line: 2, code: "echo a" },
      { lang: "sh", line: 8, code: "aws s3 ls", notRun: "needs AWS" },
      { lang: "ts", line: 14, code: "let x = 1;" },
    ]);
  });

  let index = 0;
  for (const doc of documents) {
    // every lamin command of a document starts PGlite (seconds each on a busy machine)
    it(doc, { timeout: 1_500_000 }, async () => {
      const blocks = extractBlocks(readFileSync(join(REPO, doc), "utf8"));
      let ran = 0;
      const skipped: string[] = [];
      for (const block of blocks) {
        if (block.notRun) {
          skipped.push(`line ${block.line}: ${block.notRun}`);
          continue;
        }
        await runBlock(block, index++);
        ran++;
      }
      console.log(
        `${doc}: ran ${ran} of ${blocks.length} blocks, skipped ${skipped.length}${skipped.length ? `\n  ${skipped.join("\n  ")}` : ""}`,
      );
      // a document with blocks must run at least one, or its annotations hide everything
      if (blocks.length > 0 && doc === "README.md") expect(ran).toBeGreaterThan(skipped.length);
    });
  }
});
