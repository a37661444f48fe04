"""What Python LaminDB's `lamin migrate deploy` would do with an instance's django_migrations.

Runs Django's own migration loader and executor (django 5.2, as lamindb_setup pins) over the
migration files of LaminDB and bionty, read from their git repositories (only `replaces` and
`dependencies` of each file matter to the loader), with the applied rows given as JSON
(`[{"app": ..., "name": ...}, ...]`, e.g. `SELECT app, name FROM django_migrations`). Prints,
per LaminDB version, the migrations Django would still apply, the rows its `check_replacements`
would add, and whether it raises InconsistentMigrationHistory. Needs django, asgiref and
sqlparse importable (PYTHONPATH); no database.

    python3 scripts/check-django-migrations.py rows.json \\
      lamindb=/path/to/laminlabs+lamindb/repo@2.9.1 lamindb=...@760fdf9 bionty=...@18e0b60
"""

import ast
import json
import subprocess
import sys

from django.conf import settings

settings.configure(INSTALLED_APPS=[], DATABASES={})

import django  # noqa: E402

django.setup()

from django.db.migrations.exceptions import InconsistentMigrationHistory  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django.db.migrations.migration import Migration  # noqa: E402
from django.db.migrations.recorder import MigrationRecorder  # noqa: E402


def git(repo, *args):
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def read_migrations(app, repo, rev):
    """The Migration objects of one app at one revision (names, replaces, dependencies)."""
    folder = f"{app}/migrations/"
    out = {}
    for path in git(repo, "ls-tree", "--name-only", rev, folder).split():
        name = path[len(folder) :].removesuffix(".py")
        if not name[:4].isdigit():
            continue
        tree = ast.parse(git(repo, "show", f"{rev}:{path}"))
        attrs = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == "Migration":
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                        key = stmt.targets[0].id
                        if key in ("replaces", "dependencies", "initial"):
                            attrs[key] = ast.literal_eval(stmt.value)
        migration = Migration(name, app)
        migration.replaces = [tuple(r) for r in attrs.get("replaces", [])]
        migration.dependencies = [tuple(d) for d in attrs.get("dependencies", [])]
        migration.initial = attrs.get("initial")
        out[(app, name)] = migration
    return out


class Loader(MigrationLoader):
    def __init__(self, disk, applied):
        self._disk = disk
        self._applied = applied
        super().__init__(connection=object(), load=True, replace_migrations=True)

    def load_disk(self):
        self.disk_migrations = dict(self._disk)
        self.unmigrated_apps = set()
        self.migrated_apps = {app for app, _ in self._disk}


def check(rows, sources):
    applied = {(r["app"], r["name"]): True for r in rows}
    MigrationRecorder.applied_migrations = lambda self: dict(applied)
    disk = {}
    for app, repo, rev in sources:
        disk.update(read_migrations(app, repo, rev))
    loader = Loader(disk, applied)
    try:
        loader.check_consistent_history(object())
        consistent = "consistent"
    except InconsistentMigrationHistory as error:
        consistent = f"InconsistentMigrationHistory: {error}"
    plan = []
    for target in loader.graph.leaf_nodes():
        for node in loader.graph.forwards_plan(target):
            if node not in loader.applied_migrations and node not in plan:
                plan.append(node)
    # executor.check_replacements: squashed migrations whose replaced ones are all recorded
    added = [
        key
        for key, migration in loader.replacements.items()
        if key not in applied and all(r in applied for r in migration.replaces)
    ]
    return consistent, plan, added


def main():
    rows = json.load(open(sys.argv[1]))
    sources = []
    for spec in sys.argv[2:]:
        app, rest = spec.split("=", 1)
        repo, rev = rest.rsplit("@", 1)
        sources.append((app, repo, rev))
    lamindbs = [s for s in sources if s[0] == "lamindb"]
    others = [s for s in sources if s[0] != "lamindb"]
    ok = True
    for lamindb in lamindbs:
        consistent, plan, added = check(rows, [lamindb, *others])
        print(f"lamindb@{lamindb[2]} + {', '.join(f'{a}@{r}' for a, _, r in others)}:")
        print(f"  history: {consistent}")
        print(f"  to apply: {plan or 'nothing'}")
        print(f"  check_replacements would record: {added or 'nothing'}")
        ok = ok and consistent == "consistent" and not plan and not added
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
