"""Where the bundled networks and templates are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder of bundled ``networks`` or ``templates``.

    A wheel installs them inside the package (derive/networks); a source
    checkout keeps them beside it (networks/ next to derive/).

    >>> data_dir("networks").joinpath("two_hidden.yaml").is_file()
    True
    """
    inside = _HERE / name
    return inside if inside.is_dir() else _HERE.parent / name
