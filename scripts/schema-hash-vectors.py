"""Write test/fixtures/schema-hash-vectors.json with LaminDB's own schema hash code.

Usage: python3 scripts/schema-hash-vectors.py <lamindb checkout> <commit> <lamindb-setup checkout> <commit>
       npx biome format --write test/fixtures/schema-hash-vectors.json
(bare clones work too: files are read with `git show <commit>:...`).

`Schema._validate_kwargs_calculate_hash` (lamindb/models/schema.py) is taken from the source as
it is and run on stand-ins of features and component schemas (a uid, a hash); the registry
helpers it calls are stubbed to what they return for `ln.Feature` members. `hash_string`
(lamindb_setup/core/hashing.py) and `CanonicalSuffix` (canonical_suffix.py) are LaminDB's own.
Each vector keeps the entries, the hash and the values LaminDB writes to `lamindb_schema`
(`n_members`, `coerce`, `flexible`, `_dtype_str`, `itype`, `suffix`, `_aux`).
"""

import ast
import json
import subprocess
import sys
import textwrap
import types
import warnings

lamindb, commit, setup_repo, setup_commit = sys.argv[1:5]


def show(repo, rev, path):
    return subprocess.run(
        ["git", "-C", repo, "show", f"{rev}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def module(name, source, extra=None):
    m = types.ModuleType(name)
    m.__dict__.update(extra or {})
    exec(compile(source, name, "exec"), m.__dict__)  # noqa: S102
    return m


canonical = module("canonical_suffix", show(setup_repo, setup_commit, "lamindb_setup/core/canonical_suffix.py"))
hashing_src = show(setup_repo, setup_commit, "lamindb_setup/core/hashing.py")
sys.modules["psutil"] = types.ModuleType("psutil")  # imported at the top, unused by hash_string
hashing = module("hashing", hashing_src)

schema_src = show(lamindb, commit, "lamindb/models/schema.py")
tree = ast.parse(schema_src)
method = None
for node in ast.walk(tree):
    if isinstance(node, ast.FunctionDef) and node.name == "_validate_kwargs_calculate_hash":
        method = ast.get_source_segment(schema_src, node)
validate_suffix = None
for node in tree.body:
    if isinstance(node, ast.FunctionDef) and node.name in ("validate_schema_suffix", "get_type_str"):
        pass
funcs = "\n\n".join(
    ast.get_source_segment(schema_src, n)
    for n in tree.body
    if isinstance(n, ast.FunctionDef) and n.name in ("validate_schema_suffix", "get_type_str")
)


class Feature:
    """A stand-in of ln.Feature: a uid, and the registry name LaminDB writes in itype."""

    def __init__(self, uid, optional=False):
        self.uid = uid
        self.optional = optional

    @classmethod
    def __get_name_with_module__(cls):
        return "Feature"


class Component:
    def __init__(self, hash):
        self.hash = hash


class InvalidArgument(Exception):
    pass


class FieldValidationError(Exception):
    pass


from pathlib import PurePosixPath  # noqa: E402

ns = {
    "Feature": Feature,
    "get_features_config": lambda fs: (fs, [(f, {"optional": True} if f.optional else {}) for f in fs]),
    "validate_features": lambda fs: Feature,
    "serialize_dtype": lambda itype, is_itype=False: itype if isinstance(itype, str) else "Feature",
    "hash_string": hashing.hash_string,
    "CanonicalSuffix": canonical.CanonicalSuffix,
    "PurePosixPath": PurePosixPath,
    "FieldValidationError": FieldValidationError,
    "InvalidArgument": InvalidArgument,
    "NUMBER_TYPE": "num",
    "logger": types.SimpleNamespace(important=lambda *a: None, warning=lambda *a: None),
    "warnings": warnings,
    "Any": object,
    "SQLRecord": object,
    "Registry": object,
    "Schema": Component,
    "DeferredAttribute": object,
}
exec(compile(funcs, "schema.py", "exec"), ns)  # noqa: S102
exec(compile("from __future__ import annotations\n" + textwrap.dedent(method), "schema.py", "exec"), ns)  # noqa: S102
calculate = ns["_validate_kwargs_calculate_hash"]

A, B, IDX = "Abc123XYZ000", "0aB9c8D7e6F5", "IdX000000001"
cases = {
    "two_features": dict(features=[A, B]),
    "two_features_ordered": dict(features=[A, B], ordered_set=True),
    "two_features_one_optional": dict(features=[A, B], optional=[B]),
    "two_features_coerce": dict(features=[A, B], coerce=True),
    "two_features_coerce_false": dict(features=[A, B], coerce=False),
    "two_features_flexible": dict(features=[A, B], flexible=True),
    "two_features_suffix": dict(features=[A, B], suffix=".parquet"),
    "index_and_two_features": dict(features=[A, B], index=IDX),
    "index_only": dict(features=[], index=IDX),
    "flexible_itype_feature": dict(features=[], itype="Feature"),
    "flexible_itype_feature_suffix": dict(features=[], itype="Feature", suffix=".csv"),
    "composite": dict(features=[], slots={"obs": "kMi7B_N88uu-YnbTLDU-DA", "var.T": "1gocc_TJ1RU2bMwDRK-WUA"}, otype="AnnData"),
    "composite_suffix": dict(features=[], slots={"obs": "kMi7B_N88uu-YnbTLDU-DA"}, otype="AnnData", suffix=".h5ad"),
    "maximal_two_features": dict(features=[A, B], maximal_set=True),
}

vectors = []
for name, c in cases.items():
    features = [Feature(u, optional=u in c.get("optional", [])) for u in c["features"]]
    index = Feature(c["index"]) if "index" in c else None
    self = types.SimpleNamespace()
    _, kwargs, optional, _, flexible = calculate(
        self,
        features=list(features),
        index=index,
        slots={k: Component(v) for k, v in c.get("slots", {}).items()},
        name=name,
        description=None,
        itype=c.get("itype"),
        flexible=c.get("flexible"),
        type=None,
        is_type=False,
        otype=c.get("otype"),
        suffix=c.get("suffix"),
        dtype=None,
        minimal_set=True,
        ordered_set=c.get("ordered_set", False),
        maximal_set=c.get("maximal_set", False),
        coerce=c.get("coerce"),
        n_features=None,
    )
    vectors.append(
        {
            "name": name,
            "input": c,
            "entries": self._list_for_hashing,
            "hash": kwargs["hash"],
            "row": {
                k: kwargs.get(k)
                for k in ("n_members", "coerce", "flexible", "_dtype_str", "itype", "suffix", "otype", "_aux")
            },
        }
    )

with open("test/fixtures/schema-hash-vectors.json", "w") as f:
    json.dump(
        {
            "source": f"lamindb {commit}: Schema._validate_kwargs_calculate_hash; lamindb-setup {setup_commit}: hash_string",
            "vectors": vectors,
        },
        f,
        indent=2,
    )
    f.write("\n")
print(f"{len(vectors)} vectors")
