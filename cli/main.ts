/**
 * `lamin`: the command line of lamindb-serverless. Commands load their code lazily so that
 * `lamin --version` and `--help` answer without starting a database.
 */
import { setFlagsFromString } from "node:v8";
import { Command, CommanderError, Option } from "commander";
import { tunePgliteForShortCommand } from "../core/db/pglite-tuning.js";
import { BLOCK_OWNER_NAMES } from "../core/registry/blocks/block-owners.js";
import { printJson, reportError } from "./output.js";

/**
 * A command opens PGlite once and exits: compile its WebAssembly with V8's baseline compiler
 * (Liftoff) only. By default V8 re-compiles hot functions with TurboFan on background threads,
 * and starting Postgres makes thousands hot at once: ~0.4 s of CPU per command (`lamin ls`:
 * 0.75 s of CPU, 0.37 s with this) that a short process never earns back. Each function is also
 * validated when it is first compiled rather than all 9 MB up front (~25 ms): PGlite's module
 * is ours, shipped with the package, and V8 still refuses an invalid function before running it.
 * Servers (and SDK users' processes) keep V8's default; LAMIN_PGLITE_TIERUP=1 keeps it for
 * every command. Postgres also starts with small shared buffers (core/db/pglite-tuning.ts).
 * And the young generation keeps its first size: V8 grows it to 2 x 16 MiB as a command loads
 * its modules and PGlite, and those pages stay resident until exit (`lamin ls` peaked at
 * 120 MiB, 112 MiB without the growth, in the same wall time; issue 20).
 */
if (!isLongRunning(process.argv)) {
  if (process.env.LAMIN_PGLITE_TIERUP !== "1") {
    setFlagsFromString("--liftoff-only");
    setFlagsFromString("--wasm-lazy-validation");
  }
  setFlagsFromString("--semi-space-growth-factor=1");
  tunePgliteForShortCommand();
}

declare const __VERSION__: string;
const version = typeof __VERSION__ === "string" ? __VERSION__ : "0.0.0-dev";

const program = new Command("lamin")
  .description("LaminDB in TypeScript: register, version and find data artifacts.")
  .version(version, "-v, --version")
  .showHelpAfterError("hint: run the command with --help to see its usage")
  .exitOverride();

/** Every command takes --json and runs through one error handler. */
function command(nameAndArgs: string, description: string): Command {
  return program
    .command(nameAndArgs)
    .description(description)
    .option("--json", "print one JSON document on stdout");
}

function run<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    const opts = args.find((a) => a && typeof a === "object" && !(a instanceof Command)) as
      | { json?: boolean }
      | undefined;
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = await reportError(error, opts?.json === true);
    }
  };
}

const instanceCmds = () => import("./commands/instance.js");
/** LaminDB's forms of the commands (`load artifact --uid X`, `get`, `update`, ...). */
const formCmds = () => import("./commands/lamindb-forms.js");
const artifactCmds = () => import("./commands/artifacts.js");
const hubCmds = () => import("./commands/hub.js");
const moduleCmds = () => import("./commands/module.js");
const migrateCmds = () => import("./commands/migrate.js");

/** A folder written as a path (`./mydir`, `/data/lab`, `..`), not a name or a slug. */
const isFolderPath = (value: string) => /^(\.{1,2}|~)?\//.test(value) || /^\.{1,2}$/.test(value);

/** `owner/name`: an instance on the hub (a local name has no '/', a URL has a ':'). */
const isSlug = (value: string | undefined) =>
  !!value && !isFolderPath(value) && /^[^/:\s]+\/[^/\s]+$/.test(value);

command(
  "init [owner/name]",
  "create an instance: a database plus a storage folder or bucket; with owner/name, on the hub you are logged in to",
)
  .option(
    "--storage <dir-or-url>",
    "storage folder (created if missing; the embedded database lives in <dir>/.lamindb/), s3://bucket/prefix or gs://bucket/prefix (default: the current folder, as LaminDB; with owner/name, the hub's default storage)",
  )
  .option(
    "--name <name>",
    "instance name (default: the folder name, or the database name with --db)",
  )
  .option(
    "--db <url>",
    "put the database on a Postgres server (postgresql://...); created if missing",
  )
  .option(
    "--modules <names>",
    "enable modules, comma-separated (bionty; module packages: lamin module enable)",
  )
  .addOption(
    new Option(
      "--endpoint-url <url>",
      "S3-compatible server of s3:// storage, or a GCS endpoint (an emulator) of gs:// storage (default: STORAGE_EMULATOR_HOST, then Google)",
    ).env("AWS_ENDPOINT_URL_S3"),
  )
  .option(
    "--python",
    "also write the settings Python LaminDB reads (~/.lamin/instance--<owner>--<name>.env); needs --db",
  )
  .action(
    run(async (slug: string | undefined, opts, cmd: Command) => {
      // AWS_ENDPOINT_URL_S3 is an S3 endpoint: a gs:// storage takes only one it is given
      if (
        /^gs:\/\//i.test(opts.storage ?? "") &&
        cmd.getOptionValueSource("endpointUrl") === "env"
      ) {
        opts.endpointUrl = undefined;
      }
      if (slug === undefined) return (await instanceCmds()).init(opts);
      if (opts.modules) return (await moduleCmds()).modulesNeedLocalInit();
      if (opts.python) return (await instanceCmds()).pythonNeedsLocalInit();
      return (await hubCmds()).initOnHub(slug, opts);
    }),
  );

command(
  "connect <name-or-url>",
  "make an instance current: a local one by name or by its storage folder (./mydir: also one this machine does not know yet), a server by URL, or owner/name on the hub",
)
  .option("--token <token>", "access token of the server (or LAMIN_API_TOKEN)")
  .option("--name <name>", "name to remember a server's instance by (default: its own name)")
  .option("--python", "also write the settings Python LaminDB reads (a Postgres instance)")
  .action(
    run(async (target: string, opts) =>
      isSlug(target)
        ? (await hubCmds()).connectSlug(target, opts)
        : (await instanceCmds()).connect(target, opts),
    ),
  );

const settingsCmd = program
  .command("settings")
  .description("settings of this machine: instance, storage, branch, folders (export: for Python)")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await formCmds()).showSettings(opts)));
settingsCmd
  .command("export")
  .description(
    "write the settings Python LaminDB reads for an instance on Postgres, so that `import lamindb` opens it (in $LAMIN_SETTINGS_DIR/.lamin or ~/.lamin)",
  )
  .option("--python", "the settings of Python's lamindb_setup: instance--<owner>--<name>.env")
  .option("--instance <name>", "which instance (default: the current one)")
  .option("--current", "also make it Python's current instance (current_instance.env)")
  .option("--force", "replace a settings file that describes another instance")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (opts, cmd: Command) => {
      // `settings` has --json too: commander hands it to the parent wherever it is written
      if (cmd.parent?.opts().json) opts.json = true;
      return (await import("./commands/python.js")).exportSettings(opts);
    }),
  );

command("serve", "serve the current instance over HTTP (other commands then go through it)")
  .option("--port <port>", "port to listen on (0 picks a free one)", "8787")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--token <token>", "access token to require (default: a new random one, printed)")
  .option("--watch", "register files dropped into (local) storage as they settle")
  .action(run(async (opts) => (await import("./commands/serve.js")).serve(opts)));

command(
  "dev",
  "run the serverless flow locally: an S3 endpoint, an instance stored in it, the API and the upload events",
)
  .option("--dir <dir>", "folder for the bucket's objects and the database", ".lamin-dev")
  .option("--port <port>", "API port (0 picks a free one)", "8787")
  .option("--s3-port <port>", "S3 endpoint port (0 picks a free one)", "4569")
  .option(
    "--host <host>",
    "address to listen on (other than loopback, other computers reach it: a warning says so)",
    "127.0.0.1",
  )
  .option("--bucket <name>", "the instance's bucket", "lamin-dev")
  .option("--prefix <prefix>", "the storage root inside the bucket", "data")
  .option("--name <name>", "the instance's name", "dev")
  .option("--token <token>", "API access token to require (default: a new random one)")
  .addHelpText(
    "after",
    "\nOnce ready it prints the S3 endpoint and its keys, the storage root, the API URL and a token (with --json: one JSON line).\nThe endpoint accepts only requests signed with its keys (made on the first run, kept in <dir>/s3-credentials.json).\nUpload with any S3 client, e.g.\n  export AWS_ACCESS_KEY_ID=<printed> AWS_SECRET_ACCESS_KEY=<printed>\n  aws s3 cp f.csv s3://lamin-dev/data/f.csv --endpoint-url http://127.0.0.1:4569\nthen `lamin ls` in another terminal shows the artifact. A development endpoint, not a production one.",
  )
  .action(run(async (opts) => (await import("./commands/dev.js")).dev(opts)));

command("disconnect", "forget the current instance (its data stays)").action(
  run(async (opts) => (await instanceCmds()).disconnect(opts)),
);

command("info", "show the current instance: storage, database, user").action(
  run(async (opts) => (await instanceCmds()).info(opts)),
);

command("save <path>", "register a file or folder as an artifact (copied into storage)")
  .option(
    "--key <key>",
    "a path-like name, e.g. raw/sample1.csv; saving new content under it makes a new version",
  )
  .option("--description <text>", "a description (required when there is no key)")
  .addOption(new Option("--kind <kind>", "what the artifact is").choices(["dataset", "model"]))
  .option("--version-tag <tag>", "a label for this version, e.g. 1.0")
  .option(
    "--schema <name>",
    "validate a CSV, TSV, Parquet or JSON file against this schema first; nothing is saved unless it is valid",
  )
  .option(
    "--follow-links",
    "a folder: also save files that symbolic links in it point to outside it (refused by default)",
  )
  .option("--project <name-or-uid>", "link the artifact to this project (it must exist)")
  .option(
    "--space <name-or-uid>",
    "the space to save it in (default all; lamin list space shows yours; you need write in it)",
  )
  .option("--branch <name-or-uid>", "save it on this branch instead of the current one")
  .option("--stem-uid <uid>", "save it as a new version of the artifact family with this stem")
  .action(run(async (path, opts) => (await formCmds()).saveWithForms(path, opts)));

const listOptions = (cmd: Command) =>
  cmd
    .option("--key-prefix <prefix>", "keys starting with this")
    .option("--suffix <suffix>", "e.g. .csv")
    .option("--hash <hash>", "artifacts with this content hash")
    .option("--created-by <handle>", "created by this user")
    .option("--created-after <date>", "created after this date or time (ISO 8601)")
    .option("--created-before <date>", "created before this date or time (ISO 8601)")
    .option(
      "--filter <lookup...>",
      "more lookups: field__op=value, e.g. size__gt=1000000 (see README)",
    )
    .option(
      "--features <lookup...>",
      "feature values: name=value or name__op=value, e.g. temperature__gt=30 cell_type=T-cell",
    )
    .option("--ulabel <name>", "artifacts with this label (linked without a feature)")
    .option("--project <name>", "artifacts of this project")
    .option("--all-versions", "show every version, not only the latest")
    .option("--trash", "show the trash instead")
    .option(
      "--order-by <field>",
      "created_at, updated_at, id, key, description, size or suffix; prefix - for descending",
      "-created_at",
    )
    .option("--limit <n>", "at most this many", "100")
    .action(run(async (opts) => (await artifactCmds()).list(opts)));

listOptions(command("ls", "list artifacts (latest versions, newest first)"));
const list = program.command("list").description("list artifacts or instances");
listOptions(
  list
    .command("artifacts")
    .description("list artifacts (same as lamin ls)")
    .option("--json", "print one JSON document on stdout"),
);
list
  .command("branch")
  .alias("branches")
  .description("list the branches; * marks the current one")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await branchCmds()).listBranches(opts)));
list
  .command("space")
  .alias("spaces")
  .description("list the spaces you can see (all, and restricted spaces you are a member of)")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await import("./commands/spaces.js")).listSpaces(opts)));
list
  .command("instances")
  .description("list the instances this machine knows")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await instanceCmds()).listInstances(opts)));

command(
  "reconcile",
  "compare storage with the registry: register what is missing, trash what vanished, version what changed",
)
  .option("--dry-run", "only report what would change")
  .action(run(async (opts) => (await import("./commands/reconcile.js")).reconcileCommand(opts)));

command("describe [uid]", "show an artifact and its versions (LaminDB: describe artifact --uid X)")
  .option("--key <key>", "address the artifact by key instead of uid")
  .option("--uid <uid>", "address the artifact by uid")
  .action(
    run(async (uid, opts) =>
      (await artifactCmds()).describe((await formCmds()).artifactUid("describe", uid, opts), opts),
    ),
  );

command("load [uid]", "copy an artifact's bytes out of storage, verified against its hash")
  .option("--key <key>", "address the artifact by key instead of uid")
  .option("--uid <uid>", "address the artifact by uid (LaminDB: load artifact --uid X)")
  .option("--to <dir>", "folder to put it in (default: the cache folder)")
  .option("--force", "replace a file of the same name in --to that holds other content")
  .action(
    run(async (uid, opts) =>
      (await artifactCmds()).load((await formCmds()).artifactUid("load", uid, opts), opts),
    ),
  );

const del = command("delete [uid]", "move an artifact to the trash")
  .option("--key <key>", "address the artifact by key instead of uid")
  .option("--uid <uid>", "address the artifact by uid (LaminDB: delete artifact --uid X)")
  .option("--permanent", "delete the row and its bytes for good")
  .action(
    run(async (uid, opts) =>
      (await artifactCmds()).remove((await formCmds()).artifactUid("delete", uid, opts), opts),
    ),
  );
del
  .command("instance <name-or-owner/name>")
  .description(
    "owner/name: delete an instance on the hub and its database; NAME: forget a local instance on this machine (its folder, with its database, stays: `lamin connect DIR` brings it back)",
  )
  .option("--force", "do not ask for confirmation (needed without a terminal)")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (target, opts, cmd: Command) => {
      // `delete` has --json too: commander hands it to the parent wherever it is written
      if (cmd.parent?.opts().json) opts.json = true;
      return isSlug(target)
        ? (await hubCmds()).deleteInstance(target, opts)
        : (await instanceCmds()).forgetInstance(target, opts);
    }),
  );

command("restore [uid]", "bring an artifact back from the trash")
  .option("--key <key>", "address the artifact by key instead of uid")
  .action(run(async (uid, opts) => (await artifactCmds()).restore(uid, opts)));

// ---- branches (LaminDB's `lamin create branch`, `switch`, `merge`, `update branch`) ----

const branchCmds = () => import("./commands/branches.js");
command(
  "create <registry> [name]",
  "create a branch, a project or a space (LaminDB's lamin create)",
)
  .addHelpText(
    "after",
    "\nE.g. lamin create branch my_branch; lamin create project my_project; lamin create space lab-a (admins)",
  )
  .option("--description <text>", "a description")
  .action(
    run(async (registry: string, name: string | undefined, opts) =>
      (await formCmds()).createEntity(registry, name, opts),
    ),
  );
command("switch [branch]", "switch the branch later commands write to (reads: it and main)")
  .option("-c, --create", "create the branch first (refused if it exists)")
  .option("--space", "switch the space later saves go to instead (LaminDB: lamin switch --space S)")
  .addHelpText(
    "after",
    "\nE.g. lamin switch my_branch; lamin switch -c my_branch; lamin switch --space lab-a",
  )
  .action(
    run(async (name, opts) => {
      if (!opts.space) return (await branchCmds()).switchBranch(name, opts);
      return (await import("./commands/spaces.js")).switchSpace(name, opts);
    }),
  );
command("merge <branch>", "merge a branch into the current branch: its records move there")
  .option("--target <branch>", "merge into this branch instead of the current one")
  .addHelpText(
    "after",
    "\nOne latest version per family remains on the target (the newest); a key with new versions\non both sides since the branch was made is a conflict: reported, nothing changed. E.g.\n  lamin switch main\n  lamin merge my_branch",
  )
  .action(run(async (name, opts) => (await branchCmds()).mergeBranch(name, opts)));
command(
  "update <entity>",
  "update the description of an artifact, transform, collection or project, an artifact's key, or a branch's status",
)
  .option("--uid <uid>", "the record by uid (a stem: the latest version)")
  .option("--key <key>", "an artifact, transform or collection by key (the latest version)")
  .option("--name <name>", "a project by name; a branch by name (default: the current one)")
  .option(
    "--status <status>",
    "a branch's status: draft, review or closed (a change request); standalone",
  )
  .option("--description <text>", "a new description")
  .option("--new-key <key>", "an artifact's new key")
  .option("--space <name-or-uid>", "move the artifact (this version) into this space")
  .addHelpText(
    "after",
    '\nE.g. lamin update artifact --key raw/a.csv --description "first run"\n     lamin update artifact --key raw/a.csv --space lab-a\n     lamin update project --name my_project --description "updated notes"\n     lamin update branch --name my_branch --status review',
  )
  .action(run(async (entity: string, opts) => (await formCmds()).updateEntity(entity, opts)));
command(
  "get [entity]",
  "a field of an artifact, transform, collection, project or branch, or its description (LaminDB's lamin get)",
)
  .option("--uid <uid>", "the record by uid (a stem: the latest version)")
  .option("--key <key>", "an artifact, transform or collection by key (the latest version)")
  .option("--name <name>", "a project by name; a branch by name (default: the current one)")
  .option("--status", "a branch's status")
  .option("--description", "the description")
  .addHelpText(
    "after",
    "\nE.g. lamin get branch --status; lamin get artifact --key raw/a.csv --description\n     lamin get transform --key pipelines/rnaseq.py; lamin get project --name P1 --description",
  )
  .action(run(async (entity, opts) => (await formCmds()).getEntity(entity, opts)));

// ---- runs, lineage, collections ----

const trackingCmds = () => import("./commands/tracking.js");

command(
  "track [file]",
  "track a run of a script (e.g. a shell pipeline) until `lamin finish`; without a file, the shell script running it",
)
  .option("--uid <stem>", "pin the transform with a 12-character uid stem (survives renames)")
  .option("--key <key>", "transform key (default: the path relative to the git repo or folder)")
  .option("--description <text>", "a description of the transform")
  .option("--params <json>", "parameters of the run as a JSON object, e.g. '{\"threads\": 8}'")
  .option(
    "--plan <key-or-uid>",
    "the run's plan: a saved artifact (e.g. an agent's plan.md), by key or uid",
  )
  .addHelpText(
    "after",
    "\nThe script becomes a transform (new source: a new version) and a run starts; `lamin save` and\n`lamin load` until `lamin finish` record the run's outputs and inputs. E.g. in pipe.sh:\n  lamin track pipe.sh\n  lamin load --key raw/in.csv --to .\n  ./step.sh in.csv > out.csv\n  lamin save out.csv --key processed/out.csv\n  lamin finish",
  )
  .action(
    run(async (file, opts) =>
      (await trackingCmds()).trackCommand(file ?? (await formCmds()).shellScript(), opts),
    ),
  );

command("finish", "end the run `lamin track` started")
  .addOption(
    new Option("--status <status>", "how it ended")
      .choices(["completed", "errored", "aborted"])
      .default("completed"),
  )
  .action(run(async (opts) => (await trackingCmds()).finishCommand(opts)));

const runCmd = program.command("run").description("runs of transforms");
runCmd
  .command("ls")
  .description("list runs (newest first), e.g. by feature values")
  .option(
    "--features <lookup...>",
    "feature values: name=value or name__op=value, e.g. temperature__gt=30 cell_type=T-cell",
  )
  .option("--filter <lookup...>", "more lookups: field__op=value, e.g. started_at__gt=2026-01-01")
  .option("--transform <key>", "runs of the transform with this key")
  .addOption(
    new Option("--status <status>", "runs in this state").choices([
      "scheduled",
      "restarted",
      "started",
      "completed",
      "errored",
      "aborted",
    ]),
  )
  .option("--ulabel <name>", "runs with this label (linked without a feature)")
  .option("--project <name>", "runs of this project")
  .option("--limit <n>", "at most this many", "100")
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nAnnotate a run with lamin annotate RUN_UID --run --features temperature=37, then e.g.\n  lamin run ls --features temperature__gt=30",
  )
  .action(run(async (opts) => (await trackingCmds()).runList(opts)));

command(
  "lineage [uid]",
  "show where an artifact came from and where it went: runs, transforms, inputs, outputs",
)
  .option("--key <key>", "address the artifact by key instead of uid")
  .option("--upstream", "only what it was made from")
  .option("--downstream", "only what was made from it")
  .option("--depth <n>", "how many runs deep (1-100)", "5")
  .addOption(
    new Option(
      "--format <format>",
      "text, json, a picture (svg: `lamin lineage UID --format svg > lineage.svg`), or its source (mermaid, dot)",
    )
      .choices(["text", "json", "mermaid", "dot", "svg"])
      .default("text"),
  )
  .action(run(async (uid, opts) => (await trackingCmds()).lineageCommand(uid, opts)));

const collection = program
  .command("collection")
  .description("collections: versioned groups of artifacts");
collection
  .command("create <key> <uids...>")
  .description("collect saved artifacts under a key (same artifacts: the existing collection)")
  .option("--description <text>", "a description")
  .option("--version-tag <tag>", "a label for this version, e.g. 1.0")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (key, uids, opts) => (await trackingCmds()).collectionCreate(key, uids, opts)));
collection
  .command("ls")
  .description("list collections (newest first)")
  .option("--limit <n>", "at most this many", "100")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await trackingCmds()).collectionList(opts)));
collection
  .command("members [key-or-uid]")
  .description("the artifacts of a collection, in order")
  .option("--key <key>", "address the collection by key")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (ref, opts) => (await trackingCmds()).collectionMembers(ref, opts)));
collection
  .command("load [key-or-uid]")
  .description("download every artifact of a collection, verified against its hash")
  .option("--key <key>", "address the collection by key")
  .option("--to <dir>", "folder to put them in (default: the cache folder)")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (ref, opts) => (await trackingCmds()).collectionLoad(ref, opts)));

// ---- modules and schema migrations ----

const mod = program
  .command("module")
  .description("modules: extra registries, e.g. bionty, or your own (lamin module new)");
mod
  .command("new <name>")
  .description("scaffold a module package of your own in a new folder (default: ./<name>)")
  .option("--dir <dir>", "the folder to create")
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nE.g. lamin module new mylab; edit mylab/index.js; lamin migrate create --module ./mylab;\n  lamin module enable ./mylab",
  )
  .action(run(async (name, opts) => (await moduleCmds()).newModule(name, opts, version)));
mod
  .command("create <registry> <values...>")
  .description(
    "create a record of a module registry, e.g. lamin module create mylab.Sample name=S1",
  )
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (registry, values, opts) =>
      (await moduleCmds()).createRecord(registry, values, opts),
    ),
  );
mod
  .command("update <registry> <uid> <values...>")
  .description(
    "change fields of a record of a module registry, e.g. lamin module update mylab.Sample UID weight=2",
  )
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (registry, uid, values, opts) =>
      (await moduleCmds()).updateRecord(registry, uid, values, opts),
    ),
  );
mod
  .command("delete <registry> <uid>")
  .description("move a record of a module registry to the trash (--permanent: for good)")
  .option("--permanent", "delete it for good (refused while it is used)")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (registry, uid, opts) => (await moduleCmds()).deleteRecord(registry, uid, opts)),
  );
mod
  .command("records <registry>")
  .description("list records of a module registry, newest first")
  .option("--name <name>", "only the record(s) of this name")
  .option("--limit <n>", "at most this many", "100")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (registry, opts) => (await moduleCmds()).listRecords(registry, opts)));
mod
  .command("list")
  .description("the modules this build knows, and which the current instance has enabled")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await moduleCmds()).list(opts)));
mod
  .command("enable <modules...>")
  .description("enable modules on the current instance: apply their migrations, seed their data")
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nA module is bionty, a folder (./mylab) or an installed npm package (mylab).\nE.g. lamin module enable bionty (all or nothing per module).\nOn a hub's instance (admin): bionty and pertdb by name; a package's declaration is sent\nand the hub writes the SQL.",
  )
  .action(run(async (names, opts) => (await moduleCmds()).enable(names, opts)));
mod
  .command("disable <module>")
  .description("disable a module of its own package: drop its tables and its migration records")
  .option("--force", "drop its tables even when they hold records or features use it")
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nRefused, with what would be lost, when its tables hold rows or a feature's dtype names it.",
  )
  .action(run(async (name, opts) => (await moduleCmds()).disable(name, opts)));

mod
  .command("search <registry> <text>")
  .description("search a module registry, e.g. lamin module search mylab.Sample S1")
  .option("--limit <n>", "at most this many", "20")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (registry, text, opts) => (await moduleCmds()).search(registry, text, opts)));
mod
  .command("lookup <field> <values...>")
  .description("validate values against a module registry field (exit 3 if any is missing)")
  .option("--json", "print one JSON document on stdout")
  .addHelpText("after", "\nE.g. lamin module lookup mylab.Sample S1 S2")
  .action(run(async (field, values, opts) => (await moduleCmds()).lookup(field, values, opts)));

const bionty = program
  .command("bionty")
  .description("the bionty module's registries: Organism, Gene, Protein, CellType, ...");
bionty
  .command("search <registry> <text>")
  .description("search a registry by name, synonym or ontology id: exact matches first")
  .option("--limit <n>", "at most this many", "20")
  .option("--json", "print one JSON document on stdout")
  .addHelpText("after", '\nE.g. lamin bionty search celltype "t cell"')
  .action(run(async (registry, text, opts) => (await moduleCmds()).search(registry, text, opts)));
bionty
  .command("lookup <field> <values...>")
  .description(
    "validate values against a registry field, e.g. CellType.ontology_id (exit 3 if any is missing)",
  )
  .option("--json", "print one JSON document on stdout")
  .addHelpText("after", '\nE.g. lamin bionty lookup CellType "T cell" "T-cell"')
  .action(run(async (field, values, opts) => (await moduleCmds()).lookup(field, values, opts)));

const mig = program
  .command("migrate")
  .description("the database schema of the current instance and its modules");
mig
  .command("status")
  .description("applied and pending migrations per app (lamindb, then enabled modules)")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await migrateCmds()).status(opts)));
mig
  .command("deploy")
  .description("apply pending migrations (core and enabled modules), all or nothing per app")
  .addHelpText(
    "after",
    "\nOn a hub's instance (admin): each enabled module whose package this machine has is sent\nits declaration; the hub writes and applies the SQL.",
  )
  .option("--dry-run", "print the SQL of what is pending; change nothing")
  .option(
    "--all-instances",
    "every instance on the hub you administer that has a module whose package is on this machine",
  )
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await migrateCmds()).deploy(opts)));
mig
  .command("create [name]")
  .description("generate a migration from schema changes (a module package's, or the core's)")
  .option(
    "--module <module>",
    "a module package (./mylab, or an installed package) or bionty, instead of the core",
  )
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nDiffs core/db/schema.ts (or core/modules/<module>/schema.ts) against migrations/instance\n(or migrations/<module>) and writes the SQL there; review it, then run lamin migrate deploy.\nWith --module ./mylab: diffs the package's declarations (index.js) against its last\nmigration (migrations/meta/snapshot.json) and writes migrations/NNNN_<name>.sql there.",
  )
  .action(run(async (name, opts) => (await migrateCmds()).create(name, opts)));

// ---- features, labels, annotation, search ----

const annotationCmds = () => import("./commands/annotations.js");
const DTYPE_HELP =
  "int, float, num, str, bool, date, datetime, dict, path, url, cat (= cat[ULabel]), cat[ULabel], cat[ULabel[TYPE]], cat[Record], cat[Project], cat[Artifact], cat[Run.uid], cat[User], cat[Collection], cat[Transform], cat[Reference], list[...] of those";

const feature = program.command("feature").description("features: typed keys of annotations");
feature
  .command("create <name>")
  .description("define a feature (the same name and dtype: the existing one)")
  .requiredOption("--dtype <dtype>", DTYPE_HELP)
  .option("--unit <unit>", "e.g. degC")
  .option("--description <text>", "a description")
  .option("--not-nullable", "values may not be missing when data is validated against a schema")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (name, opts) => (await annotationCmds()).featureCreate(name, opts)));
const ulabel = program.command("ulabel").description("ulabels: labels, with types and parents");
ulabel
  .command("create <name>")
  .description("create a label (the same name and type: the existing one; --parent adds parents)")
  .option(
    "--type <type>",
    "the label type it belongs to (uid or name of a label made with --is-type)",
  )
  .option("--is-type", "make it a type of labels, e.g. CellTypes")
  .option("--parent <parent...>", "parent labels (uid or name); a cycle is refused")
  .option("--description <text>", "a description")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (name, opts) => (await annotationCmds()).ulabelCreate(name, opts)));
const projectCmd = program.command("project").description("projects");
projectCmd
  .command("create <name>")
  .description("create a project (the same name: the existing one)")
  .option("--abbr <abbr>", "an abbreviation")
  .option("--url <url>", "a web page")
  .option("--description <text>", "a description")
  .option("--parent <project...>", "parent projects (uid or name); a cycle is refused")
  .option("--start-date <date>", "when it started, YYYY-MM-DD")
  .option("--end-date <date>", "when it ended, YYYY-MM-DD")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (name, opts) => (await annotationCmds()).projectCreate(name, opts)));
const recordCmd = program
  .command("record")
  .description("records: values of cat[Record] features, with feature values of their own");
recordCmd
  .command("create <name>")
  .description("create a record (the same name and type: the existing one)")
  .option("--type <type>", "the record type it belongs to (uid or name)")
  .option("--is-type", "make it a type of records")
  .option("--schema <schema>", "a schema (name or uid): the type is a sheet of these features")
  .option("--description <text>", "a description")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (name, opts) => (await annotationCmds()).recordCreate(name, opts)));
recordCmd
  .command("sheet <type>")
  .description("the records of a type with their feature values, as rows")
  .option("--limit <n>", "at most this many records", "1000")
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nWhile a run is tracked (lamin track), the type and its records become inputs of the run.",
  )
  .action(run(async (type, opts) => (await annotationCmds()).recordSheet(type, opts)));
const referenceCmd = program
  .command("reference")
  .description("references: studies, papers, documents and URLs that data cite");
referenceCmd
  .command("create <name>")
  .description("create a reference (the same name and type: the existing one)")
  .option("--doi <doi>", "a DOI, e.g. 10.1000/xyz123")
  .option("--url <url>", "a web page")
  .option("--pubmed-id <id>", "a PubMed id")
  .option("--date <date>", "date of creation or publication, YYYY-MM-DD")
  .option("--abbr <abbr>", "an abbreviation")
  .option("--text <text>", "abstract or full text, searchable")
  .option("--type <type>", "the reference type it belongs to (uid or name)")
  .option("--is-type", "make it a type of references, e.g. Paper")
  .option("--description <text>", "a description")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (name, opts) => (await annotationCmds()).referenceCreate(name, opts)));
for (const change of ["link", "unlink"] as const) {
  command(
    `${change} <registry> <uid> <relation> <uids...>`,
    change === "link"
      ? "link a record to others, e.g. lamin link project UID collections C1 C2"
      : "remove links of a record, e.g. lamin unlink reference UID projects P1",
  )
    .option("--role <role>", "a project's users: the role, e.g. responsible (unlink: only it)")
    .option("--feature <feature>", "a project's records: the feature they are linked for")
    .option("--config <json>", "a transform's predecessors: the config of the link")
    .addHelpText(
      "after",
      [
        "",
        "Relations of a reference: artifacts, collections, transforms, records, projects.",
        "Of a record: parents (a cycle is refused), collections, transforms.",
        "Of a project: parents, predecessors (no cycles; by uid or name), collections, features,",
        "  schemas, transforms, ulabels, blocks, branches, records (--feature), references,",
        "  users (by uid or handle, with --role; a project role grants no access).",
        "Of a transform: predecessors (no cycles; --config). Of a block: projects.",
        "A 16-character artifact stem (12 for a transform) names the latest version. E.g.",
        "  lamin link project P1 users alice --role responsible",
        "  lamin link transform T2 predecessors T1 --config '{\"step\": 2}'",
      ].join("\n"),
    )
    .action(
      run(async (registry, uid, relation, uids, opts) =>
        (await annotationCmds()).changeLinks(change, registry, uid, relation, uids, opts),
      ),
    );
}
for (const [cmd, registry] of [
  [feature, "features"],
  [ulabel, "ulabels"],
  [projectCmd, "projects"],
  [recordCmd, "records"],
  [referenceCmd, "references"],
] as const) {
  const list = cmd
    .command("list")
    .description(`list ${registry} (newest first)`)
    .option("--limit <n>", "at most this many", "100")
    .option("--json", "print one JSON document on stdout")
    .action(run(async (opts) => (await annotationCmds()).listRecords(registry, opts)));
  if (registry === "records") {
    list.option(
      "--features <lookup...>",
      "feature values: name=value or name__op=value, e.g. gc_content__gt=0.5 experiment=E1",
    );
  }
}

// ---- blocks: the instance's README, readmes and comments of records ----

const blockCmds = () => import("./commands/blocks.js");
/** `--artifact UID`, ... `--branch NAME`: the record whose blocks a command reads or writes. */
function ownerOptions(cmd: Command, what: string): Command {
  for (const name of BLOCK_OWNER_NAMES) {
    cmd.option(
      `--${name} <${name === "space" || name === "branch" ? "uid-or-name" : "uid"}>`,
      `${what} of this ${name}`,
    );
  }
  return cmd;
}
const readme = program
  .command("readme")
  .description("the instance's README, or a record's (--artifact UID, --transform UID, ...)");
ownerOptions(
  readme
    .command("show")
    .description("print the latest README (markdown)")
    .option("--json", "print one JSON document on stdout"),
  "the README",
).action(run(async (opts) => (await blockCmds()).readmeShow(opts)));
ownerOptions(
  readme
    .command("set [file]")
    .description("write the README from a markdown file or --text (a new version if it changed)")
    .option("--text <markdown>", "the content itself instead of a file")
    .option("--version-tag <tag>", "a label for this version, e.g. 1.0")
    .option("--json", "print one JSON document on stdout")
    .addHelpText(
      "after",
      "\nE.g.\n  lamin readme set README.md\n  lamin readme set --artifact UID --text '# About this dataset'\n  lamin readme show --artifact UID",
    ),
  "the README",
).action(run(async (file, opts) => (await blockCmds()).readmeSet(file, opts)));
const block = program
  .command("block")
  .description("blocks: versioned markdown of the instance and of records, and comments");
ownerOptions(
  block
    .command("list")
    .description("the blocks of a record, newest first (without one: the instance's blocks)")
    .addOption(
      new Option("--kind <kind>", "only readmes or comments").choices(["readme", "comment"]),
    )
    .option("--all-versions", "every version of a README, not only the latest")
    .option("--limit <n>", "at most this many", "100")
    .option("--json", "print one JSON document on stdout"),
  "the blocks",
).action(run(async (opts) => (await blockCmds()).blockList(opts)));
ownerOptions(
  block
    .command("comment [file]")
    .description("comment on a record (a file or --text)")
    .option("--text <markdown>", "the comment itself instead of a file")
    .option("--line <n>", "a transform's comment: the line of its source code")
    .option("--json", "print one JSON document on stdout")
    .addHelpText("after", "\nE.g. lamin block comment --artifact UID --text 'checked: looks good'"),
  "a comment",
).action(run(async (file, opts) => (await blockCmds()).blockComment(file, opts)));
ownerOptions(
  block
    .command("edit <block> [file]")
    .description("edit a block: a README gets its next version, a comment changes in place")
    .option("--text <markdown>", "the new content instead of a file")
    .option("--version-tag <tag>", "a label for the new version")
    .option("--json", "print one JSON document on stdout"),
  "a block",
).action(run(async (uid, file, opts) => (await blockCmds()).blockEdit(uid, file, opts)));
ownerOptions(
  block
    .command("delete <block>")
    .description("delete a block of a record (for good), or move an instance block to the trash")
    .option("--permanent", "an instance block: delete it for good")
    .option("--json", "print one JSON document on stdout"),
  "a block",
).action(run(async (uid, opts) => (await blockCmds()).blockDelete(uid, opts)));

command(
  "annotate [uid]",
  "annotate an artifact (or a run, or a record) with feature values and labels",
)
  .option("--key <key>", "the artifact by key (its latest version) instead of a uid")
  .option("--features <pairs...>", "feature=value pairs, e.g. temperature=37.5 cell_type=T-cell")
  .option("--ulabel <names...>", "labels to link without a feature")
  .option("--project <names...>", "projects to link")
  .option("--record <names...>", "records to link without a feature")
  .option("--remove <features...>", "remove every value of these features first")
  .option("--run", "the uid is a run's (as --registry run)")
  .addOption(
    new Option("--registry <registry>", "what the uid names (default artifact)").choices([
      "artifact",
      "run",
      "record",
    ]),
  )
  .option("--uid <uid>", "the record by uid (LaminDB: annotate artifact|run|record --uid X)")
  .option("--readme <file>", "attach this markdown file as the record's README")
  .option("--comment <text>", "attach a comment to the record")
  .addHelpText(
    "after",
    "\nValues are checked against the feature's dtype (37.5 for an int feature is refused) and\ncategorical values must be existing labels; nothing is written unless all of it is valid.\nA record holds one value per feature (--remove F replaces it); a record of a sheet takes\nthe features of its type's schema, every required one. Without options it prints the\nannotations. E.g.\n  lamin feature create temperature --dtype float\n  lamin ulabel create T-cell\n  lamin annotate UID --features temperature=37.5 cell_type=T-cell --project P\n  lamin annotate --key raw/a.csv --ulabel T-cell\n  lamin annotate RECORD_UID --registry record --features gc_content=0.5 experiment=E1\n  lamin ls --features temperature__gt=30 cell_type=T-cell\n  lamin record list --features gc_content__gt=0.4",
  )
  .action(run(async (uid, opts) => (await formCmds()).annotateWithForms(uid, opts)));

command("search <registry> <text>", "ranked search by name: exact and synonym matches first")
  .option("--limit <n>", "at most this many", "20")
  .addHelpText(
    "after",
    '\nRegistries: ulabel, feature, project, record, transform, collection, artifact. E.g.\n  lamin search ulabel "t cell"',
  )
  .action(
    run(async (registry, text, opts) =>
      (await annotationCmds()).searchCommand(registry, text, opts),
    ),
  );

// ---- schemas and validation ----

const schemaCmds = () => import("./commands/schemas.js");
const schemaCmd = program
  .command("schema")
  .description("schemas: named sets of features that data is validated against");
schemaCmd
  .command("create <name>")
  .description("define a schema of features (the same name and definition: the existing one)")
  .option("--features <names>", "feature names, comma-separated, e.g. sample_id,n_cells")
  .option("--maximal", "no columns other than the features")
  .option("--ordered", "columns in the order of --features")
  .option("--coerce", 'convert values to the feature\'s dtype first ("37" -> 37)')
  .option("--no-minimal", "features are not required (default: every feature is required)")
  .option("--flexible", "also validate other columns that are registered features")
  .option(
    "--component <slot=schema>",
    "a composite schema's slot and its schema, repeatable: --component obs=cells --component var.T=genes",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option("--description <text>", "a description")
  .option("--json", "print one JSON document on stdout")
  .addHelpText(
    "after",
    "\nFeatures must exist (lamin feature create NAME --dtype DTYPE [--not-nullable]). Without\n--features, any registered feature among the columns is validated. E.g.\n  lamin schema create samples --features sample_id,n_cells,cell_type --maximal\n  lamin validate samples.csv --schema samples\n  lamin save samples.csv --key raw/samples.csv --schema samples\nA composite schema validates a folder, one table file per slot (obs -> obs.csv):\n  lamin schema create cells_and_genes --component obs=cells --component var.T=genes\n  lamin save dataset/ --key datasets/d1 --schema cells_and_genes",
  )
  .action(run(async (name, opts) => (await schemaCmds()).schemaCreate(name, opts)));
schemaCmd
  .command("list")
  .description("list schemas (newest first)")
  .option("--limit <n>", "at most this many", "100")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await schemaCmds()).schemaList(opts)));

command("validate <file>", "validate a CSV, TSV, Parquet or JSON file against a schema")
  .requiredOption("--schema <name>", "the schema's name or uid")
  .addHelpText(
    "after",
    "\nChecks missing columns (minimal set), extra columns (maximal set), column order (ordered\nset), each value's dtype, missing values of non-nullable features and categorical values\nnot in their registry (cat[ULabel], cat[Record], cat[bionty.CellType.ontology_id], ...).\nEvery offending column is listed with its first 20 values, counts and close matches.\nJSON: a list of records, or one object of feature -> value. Exit code 2 when invalid;\n--json prints the report.",
  )
  .action(run(async (file, opts) => (await schemaCmds()).validateCommand(file, opts)));

// ---- the hub ----

const hub = program.command("hub").description("run a hub: accounts, API keys, shared instances");
hub
  .command("serve")
  .description("serve the hub's API (instances at /instances/{owner}/{name}/...)")
  .option(
    "--dir <dir>",
    "PGlite folder of the hub database (default: DATABASE_URL if set, else $LAMIN_HOME/hub)",
  )
  .option("--port <port>", "port to listen on (0 picks a free one)", "8788")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option(
    "--storage-allow <roots>",
    "where instances may be created: absolute folders, s3://bucket/prefix and gs://bucket/prefix, comma-separated (default: LAMIN_HUB_STORAGE_ALLOW)",
  )
  .option("--json", "print one JSON line with the URL once ready")
  .addHelpText(
    "after",
    "\nInstances' databases are created on the Postgres server of DATABASE_URL, or on Neon (NEON_API_KEY, NEON_PROJECT_ID).\nTheir storage goes only where the operator allows: LAMIN_HUB_DEFAULT_STORAGE (used when `lamin init owner/name` names none)\nand --storage-allow (an S3 root may name its endpoint: s3://bucket/prefix@http://host:port, else AWS_ENDPOINT_URL_S3;\na GCS root too: gs://bucket/prefix@http://host:port, else STORAGE_EMULATOR_HOST, else Google with Application Default Credentials).\nA caller's storage must be a new or empty folder strictly inside one of them, apart from the hub's --dir and $LAMIN_HOME.",
  )
  .action(run(async (opts) => (await hubCmds()).hubServe(opts)));
hub
  .command("create-account <handle>")
  .description("create an account and its first API key, on the hub database directly")
  .option("--org", "an organisation instead of a user")
  .option(
    "--dir <dir>",
    "PGlite folder of the hub database (default: DATABASE_URL if set, else $LAMIN_HOME/hub)",
  )
  .option("--json", "print one JSON document on stdout")
  .action(run(async (handle, opts) => (await hubCmds()).createAccount(handle, opts)));

hub
  .command("add-member <org> <handle>")
  .description(
    "make an account a member of an organisation (admins create and manage its instances; members write)",
  )
  .option("--role <role>", "member or admin", "member")
  .option("--remove", "remove the account from the organisation instead")
  .option(
    "--dir <dir>",
    "PGlite folder of the hub database (default: DATABASE_URL if set, else $LAMIN_HOME/hub)",
  )
  .option("--json", "print one JSON document on stdout")
  .action(run(async (org, handle, opts) => (await hubCmds()).setMember(org, handle, opts)));

command("login", "log in to a hub with an API key (stored in $LAMIN_HOME/hub.json)")
  .option("--hub <url>", "the hub's URL (or LAMIN_HUB_URL)")
  .option("--key <key>", "your API key (or LAMIN_API_KEY)")
  .action(run(async (opts) => (await hubCmds()).login(opts)));

command("logout", "forget the hub login of this machine").action(
  run(async (opts) => (await hubCmds()).logout(opts)),
);

const collaborator = program
  .command("collaborator")
  .description("who may use an instance on the hub, and how");
for (const verb of ["add", "update"]) {
  collaborator
    .command(`${verb} <owner/name> <handle>`)
    .description(verb === "add" ? "grant an account a role" : "change an account's role")
    .requiredOption("--role <role>", "read, write or admin")
    .option("--json", "print one JSON document on stdout")
    .action(
      run(async (slug, handle, opts) => (await hubCmds()).setCollaborator(slug, handle, opts)),
    );
}
collaborator
  .command("list <owner/name>")
  .description("the collaborators and their roles")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (slug, opts) => (await hubCmds()).listCollaborators(slug, opts)));
collaborator
  .command("remove <owner/name> <handle>")
  .description("take an account's role away (and its roles in spaces)")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (slug, handle, opts) => (await hubCmds()).removeCollaborator(slug, handle, opts)),
  );
for (const verb of ["space-add", "space-update"]) {
  collaborator
    .command(`${verb} <owner/name> <handle> <space>`)
    .description(
      verb === "space-add"
        ? "let a collaborator see a restricted space (admins; read: see it, write/admin: also save into it)"
        : "change a collaborator's role in a space",
    )
    .requiredOption("--role <role>", "read, write or admin")
    .option("--json", "print one JSON document on stdout")
    .action(
      run(async (slug, handle, space, opts) =>
        (await hubCmds()).setSpaceCollaborator(slug, handle, space, opts),
      ),
    );
}
collaborator
  .command("space-list <owner/name>")
  .description("who has a role in which restricted space (admins)")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (slug, opts) => (await hubCmds()).listSpaceCollaborators(slug, opts)));
collaborator
  .command("space-remove <owner/name> <handle> <space>")
  .description("take a collaborator's role in a space away: its records disappear for them")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (slug, handle, space, opts) =>
      (await hubCmds()).removeSpaceCollaborator(slug, handle, space, opts),
    ),
  );

const keys = program.command("keys").description("your API keys on the hub");
keys
  .command("list")
  .description("every key of your account (never a secret)")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await hubCmds()).listKeys(opts)));
keys
  .command("create")
  .description("a new API key, shown once")
  .option("--name <name>", "what the key is for")
  .option("--expires-in-days <days>", "let it expire after this many days")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (opts) => (await hubCmds()).createKey(opts)));
keys
  .command("revoke [id]")
  .description("revoke a key by id or prefix, or --all")
  .option("--all", "revoke every live key, this login's included")
  .option("--json", "print one JSON document on stdout")
  .action(run(async (id, opts) => (await hubCmds()).revokeKey(id, opts)));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    const ok = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(
      error.code,
    );
    process.exitCode = ok ? 0 : 2;
    // commander has printed the error and the hint on stderr; scripts still get their JSON
    if (!ok && process.argv.includes("--json")) {
      printJson({
        error: {
          type: "validation",
          message: error.message.replace(/^error: /, ""),
          hint: "run the command with --help to see its usage",
        },
      });
    }
  } else {
    process.exitCode = await reportError(error, process.argv.includes("--json"));
  }
}

// A finished command exits at once, once its output is flushed: idle keep-alive sockets of the
// HTTP client must not hold the process. `serve` and `dev` keep running until a signal.
if (!isLongRunning(process.argv)) {
  process.stdout.write("", () => process.stderr.write("", () => process.exit()));
}

function isLongRunning(argv: string[]): boolean {
  const [name, sub] = argv.slice(2).filter((a) => !a.startsWith("-"));
  return name === "serve" || name === "dev" || (name === "hub" && sub === "serve");
}
