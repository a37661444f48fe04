/**
 * `lamin module new mylab`: a module package in its own folder, ready for its own repository:
 * the registry declarations (index.js, ESM typed with JSDoc, checked by tsc), a package.json
 * naming this project as a peer dependency, an empty migrations/ folder, a README.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConflictError } from "../errors.js";
import { checkModuleName } from "./declare.js";

const indexJs = (name: string) => `// @ts-check
/**
 * The ${name} module: its registries, declared as data, as LaminDB declares its own.
 * Field types: string (max), text, integer, float, boolean, date, datetime, json, duration
 * (ISO 8601, e.g. PT2H), ref and many (to a registry of this module, or of another enabled
 * first, e.g. "bionty.Gene"). links: who may be annotated with its records. seed: records it
 * ships.
 *
 * After a change: lamin migrate create --module .   (writes migrations/NNNN_*.sql; commit it)
 * Then on each instance that has it: lamin migrate deploy
 *
 * @import { ModuleDeclaration } from "lamindb-serverless"
 */

/** @type {ModuleDeclaration} */
export default {
  name: "${name}",
  description: "${name}: the lab's own registries",
  registries: {
    Sample: {
      doc: "A biological sample",
      fields: {
        name: { type: "string", max: 255, required: true, unique: true },
        description: { type: "text" },
      },
      links: ["artifacts", "records"],
    },
  },
};
`;

const packageJson = (name: string, version: string) =>
  `${JSON.stringify(
    {
      name,
      version: "0.1.0",
      description: `${name}: a LaminDB module (registries of its own)`,
      type: "module",
      main: "index.js",
      files: ["index.js", "migrations"],
      keywords: ["lamindb", "lamindb-module"],
      peerDependencies: { "lamindb-serverless": `>=${version}` },
      scripts: { typecheck: "tsc -p ." },
    },
    null,
    2,
  )}\n`;

const tsconfig = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: true,
      skipLibCheck: true,
    },
    include: ["index.js"],
  },
  null,
  2,
)}\n`;

const readme = (name: string) => `# ${name}

A [LaminDB](https://lamin.ai) module: registries of its own, used with \`lamin\` (lamindb-serverless).

\`\`\`
lamin migrate create --module ./${name}    # SQL from the declarations in index.js
lamin module enable ./${name}              # on the current instance (or: npm install ${name}; lamin module enable ${name})
lamin module create ${name}.Sample name=S1
lamin feature create sample --dtype "cat[${name}.Sample]"
lamin annotate ARTIFACT_UID --features sample=S1
lamin ls --features sample=S1
\`\`\`

Change a registry: edit \`index.js\`, run \`lamin migrate create --module ./${name}\`, commit the new
file in \`migrations/\`, then \`lamin migrate deploy\` on each instance that has the module
(\`--dry-run\` prints the SQL first). \`npm run typecheck\` checks the declarations with tsc.
`;

/** Write the package; the folder must be new or empty. Returns the files written. */
export function scaffoldModule(name: string, dir: string, version: string): string[] {
  checkModuleName(name);
  const root = resolve(dir);
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new ConflictError(`${root} exists and is not empty`, "choose a new folder with --dir");
  }
  const files: Record<string, string> = {
    "package.json": packageJson(name, version),
    "index.js": indexJs(name),
    "tsconfig.json": tsconfig,
    "README.md": readme(name),
    ".gitignore": "node_modules/\n",
    "migrations/.gitkeep": "",
  };
  mkdirSync(join(root, "migrations"), { recursive: true });
  for (const [rel, content] of Object.entries(files)) writeFileSync(join(root, rel), content);
  return Object.keys(files).map((f) => join(root, f));
}
