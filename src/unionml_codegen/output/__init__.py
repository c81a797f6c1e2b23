"""Put a rendered project in OUT safely, or prove that OUT already holds it.

tree.py opens OUT once and reaches every path from its descriptor, never through a link;
manifest.py reads and writes the manifest; compare.py says how OUT differs (`Drift`);
transaction.py writes as one journaled transaction (`write`); recover.py undoes what a killed
run of this machine left; cache.py and up_to_date.py are this machine's record of clean runs,
outside the repository. Nothing here imports libcst, jinja2 or black: an up-to-date `--check`
stops here.
"""

from .compare import Drift, compare, foreign_modules, leftover_runs, unchanged
from .manifest import MANIFEST, digest, read_manifest, with_manifest
from .recover import TEMP_MARK, interrupted, recover
from .transaction import RollbackFailed, write
from .tree import LinkRefused, WriteRefused, resolve_output

__all__ = [
    "MANIFEST",
    "TEMP_MARK",
    "Drift",
    "LinkRefused",
    "RollbackFailed",
    "WriteRefused",
    "compare",
    "digest",
    "foreign_modules",
    "interrupted",
    "leftover_runs",
    "read_manifest",
    "recover",
    "resolve_output",
    "unchanged",
    "with_manifest",
    "write",
]
