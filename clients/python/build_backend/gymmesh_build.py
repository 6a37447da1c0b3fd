"""The package's build backend: setuptools, except for editable installs.

The package is one import package, ``gymmesh``, from two folders: the
hand-written ``src/gymmesh`` and the generated ``gen/gymmesh/v1``. A wheel
(``pip install clients/python``) gets both through setuptools' package
mapping. An editable install (``pip install -e clients/python``) from
setuptools would map them with an import hook, which type checkers cannot
follow (mypy would not find ``gymmesh`` at all); here the editable wheel puts
both folders on ``sys.path`` with a plain ``.pth`` file instead, and
``gymmesh/__init__.py`` joins ``gen/gymmesh`` to the package's ``__path__``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403  (every other PEP 517/660 hook, unchanged)

PROJECT = Path(__file__).resolve().parent.parent
ROOTS = (PROJECT / "src", PROJECT / "gen")


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    _use_static_pth(Path(wheel_directory, name))
    return name


def _use_static_pth(wheel: Path) -> None:
    """Replaces setuptools' ``__editable__`` hook (a .pth that imports a finder
    module, and the module) by a .pth naming the two source folders."""
    pth_name = "__editable__.gym_mesh_client.pth"
    pth = "".join(f"{root}\n" for root in ROOTS).encode()
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        dropped = {n for n in src.namelist() if "/" not in n and n.startswith("__editable__")}
        record = next(n for n in src.namelist() if n.endswith(".dist-info/RECORD"))
        for info in src.infolist():
            if info.filename in dropped or info.filename == record:
                continue
            dst.writestr(info, src.read(info))
        dst.writestr(pth_name, pth)
        lines = [
            line
            for line in src.read(record).decode().splitlines()
            if line and line.split(",", 1)[0] not in dropped
        ]
        digest = base64.urlsafe_b64encode(hashlib.sha256(pth).digest()).rstrip(b"=").decode()
        lines.append(f"{pth_name},sha256={digest},{len(pth)}")
        dst.writestr(record, "".join(f"{line}\n" for line in lines))
    os.replace(tmp, wheel)
