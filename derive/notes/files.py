"""Writing a run's files: all of them whole or none, and temporary folders never left behind.

A run of ``derive notes`` writes several files (a note per network in each language, the
course's index, PDFs, point files). Each is first written in full to a temporary file
beside its place; only when every one of them is written are they renamed into place,
so a full disk or a folder in the way leaves the notes folder as it was, and the message
names the real file and why. A temporary folder (``derive-pdf-*``) is removed even when
the run is stopped by SIGINT or SIGTERM, and a second signal cannot interrupt that.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from derive.errors import DeriveError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def notes_folder(out_dir: str | Path) -> Path:
    """Return the folder ``--out`` names, refusing an empty name and a symbolic-link loop."""
    if not str(out_dir).strip():
        raise DeriveError("--out is empty", hint="give a folder, such as notes/ (or . for here)")
    out = Path(out_dir)
    try:
        out.resolve(strict=False)
        if out.exists() and not out.is_dir():
            raise DeriveError("is not a folder", file=str(out), hint="give a folder for --out")
    except (RuntimeError, OSError) as err:  # Python 3.11 raises RuntimeError on a loop
        raise DeriveError(
            f"cannot use it as the notes folder: {getattr(err, 'strerror', None) or err}",
            file=str(out),
            hint="give a folder that is not a symbolic link loop",
        ) from None
    return out


def target(out: Path, name: str) -> Path:
    """Return ``out/name``, refusing a name that could land outside ``out``."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise DeriveError(
            f"'{name}' cannot be a file name in the notes folder",
            hint="a network name is letters, digits and _",
        )
    path = (out / name).resolve()
    if path.parent != out.resolve():
        raise DeriveError(f"'{name}' would be written outside {out}")
    if path.is_dir():
        raise DeriveError(
            "is a folder, so the file cannot be written", file=str(out / name), hint="move it"
        )
    return path


def file_mode() -> int:
    """Return the mode a new file gets from ``open()``: 0o666 less the process's umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _stage(path: Path, data: str | bytes) -> str:
    """Write ``data`` to a new temporary file beside ``path``; return its name."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_all(files: list[tuple[Path, str | bytes]]) -> None:
    """Write every file whole, or none of them: each staged beside its place, then renamed.

    Raises
    ------
    DeriveError
        Naming the file that could not be written and why (never a temporary name).
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            try:
                staged.append((_stage(path, data), path))
            except OSError as err:
                raise DeriveError(
                    f"cannot write it: {err.strerror or err}; no file of this run was written",
                    file=str(path),
                ) from None
        for done, (tmp, path) in enumerate(staged):
            try:
                os.replace(tmp, path)
            except OSError as err:
                written = ", ".join(p.name for _, p in staged[:done]) or "none"
                raise DeriveError(
                    f"cannot write it: {err.strerror or err} (already written: {written})",
                    file=str(path),
                ) from None
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, then a rename."""
    write_all([(path, data)])


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """Yield a new temporary folder, removed afterwards even when SIGINT or SIGTERM stops the run.

    A signal becomes KeyboardInterrupt, raised once the folder is gone; while it is being
    removed, further signals are ignored, so a second Ctrl-C cannot leave it behind (or
    print a traceback).
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    with _stop_on_signals() as stopped:
        try:
            yield folder
        finally:
            with _signals_ignored():
                shutil.rmtree(folder, ignore_errors=True)
    if stopped:
        raise KeyboardInterrupt


class _Stop(BaseException):
    """Raised by a signal handler to leave the block, caught by :func:`_stop_on_signals`."""


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[list[int]]:
    """Turn SIGINT and SIGTERM in the block into leaving it; yield the list of those caught."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def stop(signum: int, frame: Any) -> None:
        for sig in _SIGNALS:  # the first stops the run; the cleanup after it is not stopped
            signal.signal(sig, signal.SIG_IGN)
        caught.append(signum)
        raise _Stop

    old = {sig: signal.signal(sig, stop) for sig in _SIGNALS}
    try:
        yield caught
    except _Stop:
        pass
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
