"""Write test/fixtures/canonical-suffix-vectors.json from lamindb-setup's own canonical_suffix.py.

Usage: python3 scripts/suffix-vectors.py <lamindb-setup checkout> <commit>
       npx biome format --write test/fixtures/canonical-suffix-vectors.json
(a bare clone works too: the module is read with `git show <commit>:...`).

The vectors are what `CanonicalSuffix.extract_from_path(PurePosixPath(path))` returns, computed
by LaminDB's code itself (it imports only the standard library), for: every simple, composite and
encoding format in upper and lower case, combinations of them, the cases of lamindb-setup's
tests/core/test_canonical_suffix.py and edge cases of Python's `PurePath.suffixes`.
"""

import json
import subprocess
import sys
import types
from pathlib import PurePosixPath

repo, commit = sys.argv[1], sys.argv[2]
source = subprocess.run(
    ["git", "-C", repo, "show", f"{commit}:lamindb_setup/core/canonical_suffix.py"],
    check=True,
    capture_output=True,
    text=True,
).stdout
module = types.ModuleType("canonical_suffix")
exec(compile(source, "canonical_suffix.py", "exec"), module.__dict__)  # noqa: S102
CS = module.CanonicalSuffix

simple = sorted(module.SIMPLE_FORMATS)
composite = sorted(module.COMPOSITE_FORMATS)
encoding = sorted(module.ENCODING_FORMATS)

paths = []
for s in simple:
    paths += [f"file{s}", f"dir/File{s.upper()}", f"a.b{s}", f"x{s}.unknownpart"]
    paths += [f"x{s}.gz", f"x{s}.tar.gz"]
for c in composite:
    paths += [f"x{c}", f"x{c.upper()}", f"v1.0{c}", f"x{c}.gz", f"x.xx{c}"]
for e in encoding:
    paths += [f"plain{e}", f"x.csv{e}", f"x.tar{e}", f"x.h5ad.tar{e}", f"x.random{e}"]
    paths += [f"x.random.tar{e}", f"x{e}{e}", f"x.gz{e}"]
paths += [
    # lamindb-setup tests/core/test_canonical_suffix.py
    "a", "a.txt", "a.123", "directory/file", "d.x.y.z/f.b.c", "d.x.y.z/f.a.b.c",
    "logs/date.log.txt", "logs/date.log.123", "some.unknown.suffix",
    "salmon.merged.gene_counts.tsv", "filename.h5ad.zarr", "reads.bam", "variants.vcf",
    "store.h5", "array.npy", "model.onnx", "notebook.ipynb", "filename.v1.1.0.anndata.zarr",
    "sample.ome.zarr", "sample.ome.h5", "sample.ome.hdf5", "dashboard.vitessce.json",
    "data.config.json", "plain.gz", "archive.tar.gz", "salmon.merged.gene_counts.tsv.gz",
    "variants.vcf.gz", "filename.h5ad.tar.gz", "file.random.gz", "foo.bar.tar.gz",
    "plain.bz2", "plain.xz", "plain.zst", "data.csv.bz2", "data.tsv.xz", "archive.tar.bz2",
    "archive.tar.zst", "filename.h5ad.tar.xz", "file.random.zst", "scan.TIFF", "image.PNG",
    "photo.JPG", "sample.OME.ZARR", "variants.VCF.GZ", "unknown.XYZ",
    # formats other tools know but LaminDB does not (kept as "")
    "x.fa", "x.fna", "x.toml", "x.ts", "x.R", "x.nii", "x.nii.gz", "x.fq.gz", "x.ome.tif",
    "x.ome.tiff", "x.spatialdata.zarr", "x.xlsm", "x.bai", "x.cram.crai",
    # formats LaminDB knows that a shorter list may miss
    "x.mp4", "x.doc", "x.bin", "x.qs", "model.state_dict", "x.7z", "x.gguf", "x.C", "x.H",
    # Python's PurePath.suffixes: leading dots, trailing dots, empty parts, folders
    "", ".", "..", ".bashrc", ".hidden.csv", "..csv", "x.", "x.csv.", "a..b", "x..csv",
    "folder/", "folder.zarr/", "a/b.csv/", "dir.csv/file", "x. csv", "x.c sv", "x.csv ",
    "noext", "x.CsV.Gz", "x.TAR.GZ", "x.H5AD.TAR.XZ",
]

seen = set()
vectors = []
for p in paths:
    if p in seen:
        continue
    seen.add(p)
    canonical, raw = CS.extract_from_path(PurePosixPath(p))
    vectors.append({"path": p, "canonical": str(canonical), "raw": raw})

out = {
    "source": f"lamindb-setup {commit}: lamindb_setup/core/canonical_suffix.py",
    "how": "CanonicalSuffix.extract_from_path(PurePosixPath(path)) -> (canonical, raw)",
    "python": sys.version.split()[0],
    "simple_formats": simple,
    "composite_formats": composite,
    "encoding_formats": encoding,
    "vectors": vectors,
}
with open("test/fixtures/canonical-suffix-vectors.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"{len(vectors)} vectors, {len(simple)} simple formats")
