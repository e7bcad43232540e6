"""A deterministic synthetic company, projected into every source system in that system's own shape.

`generate` writes the history, `generate_increment` one further day; the same arguments always give
byte-identical files. See `manifest.json` in the output folder for what was written, and
`_ground_truth/` for the figures the model knows to be true. The second mode,
`company.publish` (`lakehouse company publish`), puts the same batches into real servers.
"""

from company.api import DEFAULT_START, generate, generate_increment
from company.inject import Injection, InjectionKind
from company.manifest import BatchStats, Manifest, StreamManifest, SystemManifest
from company.systems import SYSTEMS

__all__ = [
    "DEFAULT_START",
    "SYSTEMS",
    "BatchStats",
    "Injection",
    "InjectionKind",
    "Manifest",
    "StreamManifest",
    "SystemManifest",
    "generate",
    "generate_increment",
]
