"""A metric plugin "installed" the way pip installs one: a package and its ``*.dist-info``
(with ``entry_points.txt`` declaring the ``rescore.metrics`` group) in a directory on
``sys.path``. Nothing imports the package until rescore looks its metric up."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rescore.registry import lookup

PACKAGE = "rescore_length_plugin"
METRIC = "length_ratio"

SOURCE = '''
"""A third-party metric: prediction length over reference length, in characters."""
import pyarrow as pa
import pyarrow.compute as pc

from rescore import register_metric


@register_metric(name="length_ratio", higher_is_better=True, continuous=True, inputs="text")
def length_ratio(predictions: pa.Array, references: pa.Array) -> pa.Array:
    """Prediction length over reference length, in characters."""
    lengths = pc.cast(pc.utf8_length(predictions), pa.float64())
    return pc.divide(lengths, pc.cast(pc.utf8_length(references), pa.float64()))
'''


def write_plugin_package(root: Path) -> Path:
    """Write the package and its metadata under ``root``; return ``root``."""
    (root / PACKAGE).mkdir(parents=True, exist_ok=True)
    (root / PACKAGE / "__init__.py").write_text(SOURCE)
    info = root / f"{PACKAGE}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {PACKAGE.replace('_', '-')}\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(f"[rescore.metrics]\n{METRIC} = {PACKAGE}:{METRIC}\n")
    return root


@contextmanager
def plugin_installed(root: Path) -> Iterator[Path]:
    """The package importable from ``root`` for the block; afterwards as if never installed."""
    write_plugin_package(root)
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        sys.modules.pop(PACKAGE, None)
        lookup.unregister(METRIC)
        # the registry remembers which entry points it imported; forget this one
        lookup._LOADED.difference_update({k for k in lookup._LOADED if PACKAGE in k})
