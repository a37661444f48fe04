/**
 * `lamin`: the command line of lamindb-serverless. Commands load their code lazily so that
 * `lamin --version` and `--help` answer without starting a database.
 */
import { Command, CommanderError, Option } from "commander";
import { printJson, reportError } from "./output.js";

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
      process.exitCode = reportError(error, opts?.json === true);
    }
  };
}

const instanceCmds = () => import("./commands/instance.js");
const artifactCmds = () => import("./commands/artifacts.js");
const hubCmds = () => import("./commands/hub.js");

/** `owner/name`: an instance on the hub (a local name has no '/', a URL has a ':'). */
const isSlug = (value: string | undefined) => !!value && /^[^/:\s]+\/[^/\s]+$/.test(value);

command(
  "init [owner/name]",
  "create an instance: a database plus a storage folder or bucket; with owner/name, on the hub you are logged in to",
)
  .option(
    "--storage <dir-or-url>",
    "storage folder (created if missing; the embedded database lives in <dir>/.lamindb/) or s3://bucket/prefix; required, except on a hub that has a default (a deployed hub: its bucket)",
  )
  .option(
    "--name <name>",
    "instance name (default: the folder name, or the database name with --db)",
  )
  .option(
    "--db <url>",
    "put the database on a Postgres server (postgresql://...); created if missing",
  )
  .addOption(
    new Option("--endpoint-url <url>", "S3-compatible server of s3:// storage").env(
      "AWS_ENDPOINT_URL_S3",
    ),
  )
  .action(
    run(async (slug: string | undefined, opts) => {
      if (slug === undefined) return (await instanceCmds()).init(opts);
      return (await hubCmds()).initOnHub(slug, opts);
    }),
  );

command(
  "connect <name-or-url>",
  "make an instance current: a local one by name, a server by URL, or owner/name on the hub",
)
  .option("--token <token>", "access token of the server (or LAMIN_API_TOKEN)")
  .option("--name <name>", "name to remember a server's instance by (default: its own name)")
  .action(
    run(async (target: string, opts) =>
      isSlug(target)
        ? (await hubCmds()).connectSlug(target, opts)
        : (await instanceCmds()).connect(target, opts),
    ),
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
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--bucket <name>", "the instance's bucket", "lamin-dev")
  .option("--prefix <prefix>", "the storage root inside the bucket", "data")
  .option("--name <name>", "the instance's name", "dev")
  .option("--token <token>", "API access token to require (default: a new random one)")
  .addHelpText(
    "after",
    "\nOnce ready it prints the S3 endpoint, the storage root, the API URL and a token (with --json: one JSON line).\nUpload with any S3 client, e.g.\n  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER aws s3 cp f.csv s3://lamin-dev/data/f.csv --endpoint-url http://127.0.0.1:4569\nthen `lamin ls` in another terminal shows the artifact.",
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
  .action(run(async (path, opts) => (await artifactCmds()).save(path, opts)));

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
    .option("--all-versions", "show every version, not only the latest")
    .option("--trash", "show the trash instead")
    .option(
      "--order-by <field>",
      "created_at, updated_at or id; prefix - for descending",
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

command("describe [uid]", "show an artifact and its versions")
  .option("--key <key>", "address the artifact by key instead of uid")
  .action(run(async (uid, opts) => (await artifactCmds()).describe(uid, opts)));

command("load [uid]", "copy an artifact's bytes out of storage, verified against its hash")
  .option("--key <key>", "address the artifact by key instead of uid")
  .option("--to <dir>", "folder to put it in (default: the cache folder)")
  .action(run(async (uid, opts) => (await artifactCmds()).load(uid, opts)));

const del = command("delete [uid]", "move an artifact to the trash")
  .option("--key <key>", "address the artifact by key instead of uid")
  .option("--permanent", "delete the row and its bytes for good")
  .action(run(async (uid, opts) => (await artifactCmds()).remove(uid, opts)));
del
  .command("instance <owner/name>")
  .description("delete an instance on the hub and its database (its storage stays)")
  .option("--force", "do not ask for confirmation (needed without a terminal)")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (slug, opts, cmd: Command) => {
      // `delete` has --json too: commander hands it to the parent wherever it is written
      if (cmd.parent?.opts().json) opts.json = true;
      return (await hubCmds()).deleteInstance(slug, opts);
    }),
  );

command("restore [uid]", "bring an artifact back from the trash")
  .option("--key <key>", "address the artifact by key instead of uid")
  .action(run(async (uid, opts) => (await artifactCmds()).restore(uid, opts)));

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
  .option("--json", "print one JSON line with the URL once ready")
  .addHelpText(
    "after",
    "\nInstances' databases are created on the Postgres server of DATABASE_URL, or on Neon (NEON_API_KEY, NEON_PROJECT_ID).",
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
  .description("take an account's role away")
  .option("--json", "print one JSON document on stdout")
  .action(
    run(async (slug, handle, opts) => (await hubCmds()).removeCollaborator(slug, handle, opts)),
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
    process.exitCode = reportError(error, process.argv.includes("--json"));
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
