"""derive: chain-rule expansions, checks and study notes for small neural networks.

The package imports nothing heavy until used, so ``derive --help`` starts fast:
``derive.load``, ``derive.differentiate``, ``derive.check_answer`` and
``derive.write_notes`` are looked up on first access. (No submodule shares those
names, so importing a submodule never hides one of them.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["load", "differentiate", "Result", "backprop", "check_answer", "write_notes"]


def __getattr__(name: str) -> Any:
    if name == "backprop":
        # The module derive.backprop is callable: derive.backprop(net, at=...) is
        # derive.api.backprop, whether or not the module was imported first.
        import derive.backprop

        return derive.backprop
    if name in ("load", "differentiate", "Result"):
        from derive import api

        return getattr(api, name)
    if name == "check_answer":
        from derive.check import check

        return check
    if name == "write_notes":
        from derive.notes import write_course

        return write_course
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
