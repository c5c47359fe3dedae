"""Old import paths, kept for one release: each warns (DeprecationWarning) and is the new module.

The modules moved when each defence became a package of its own (docs/architecture.md). Code that
imported `scrapeshield.uaclass` or `scrapeshield.detectors.useragent` keeps working until the
next release, told where the module lives now.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

MOVED = {
    "scrapeshield.fingerprint_settings": "scrapeshield.fingerprint.settings",
    "scrapeshield.catalogue": "scrapeshield.fingerprint.catalogue",
    "scrapeshield.catalogue_build": "scrapeshield.fingerprint.catalogue_build",
    "scrapeshield.catalogue_match": "scrapeshield.fingerprint.catalogue_match",
    "scrapeshield.uaclass": "scrapeshield.fingerprint.uaclass",
    "scrapeshield.ipranges": "scrapeshield.fingerprint.ipranges",
    "scrapeshield.data_update": "scrapeshield.fingerprint.data_update",
    "scrapeshield.detectors": "scrapeshield.defences",
    "scrapeshield.detectors.base": "scrapeshield.detector",
    "scrapeshield.detectors.useragent": "scrapeshield.fingerprint.useragent",
    "scrapeshield.detectors.headers": "scrapeshield.fingerprint.headers",
    "scrapeshield.detectors.verified": "scrapeshield.fingerprint.verified",
    "scrapeshield.detectors.dnsverify": "scrapeshield.fingerprint.dnsverify",
    "scrapeshield.detectors.webbotauth": "scrapeshield.fingerprint.webbotauth",
    "scrapeshield.behaviour_settings": "scrapeshield.behaviour.settings",
    "scrapeshield.detectors.behaviour": "scrapeshield.behaviour.detector",
    "scrapeshield.detectors.trap": "scrapeshield.behaviour.trap",
    "scrapeshield.directive_settings": "scrapeshield.directives.settings",
}


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name and loads it as the new module, with a warning."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; the old path goes away in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        if not any(name.startswith(spec.name + ".") for name in MOVED):
            return importlib.import_module(new)
        # An old package whose modules moved too (`scrapeshield.detectors`): a package of its
        # own, so its old submodules can still be imported, reading its names from the new home.
        package = ModuleType(spec.name, f"moved to {new}")
        package.__path__ = []

        def forward(name: str) -> object:
            return getattr(importlib.import_module(new), name)

        package.__getattr__ = forward  # type: ignore[method-assign]
        return package

    def exec_module(self, module: ModuleType) -> None:
        """The new module is already executed."""


def install() -> None:
    if not any(isinstance(finder, _Moved) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Moved())
