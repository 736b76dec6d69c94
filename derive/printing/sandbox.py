"""Templates run in Jinja's sandbox, with their work bounded: a course's own templates
(``--templates``) are code from a file, and hostile until shown otherwise.

The sandbox keeps a template from Python's insides (``cycler.__init__.__globals__``
reaches ``os``); the bounds keep it from the machine's time and memory: at most
:data:`MAX_STEPS` steps of ``range`` loops, :data:`MAX_OUTPUT` characters written, no
string or list multiplied past that, and :data:`MAX_SECONDS` seconds in all. A template
past a bound stops with :class:`TemplateBound`, which says which.
"""

from __future__ import annotations

import contextlib
import operator
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

# Far above what the shipped notes need (mnist's note is about 100 kB and loops over no
# range), far below what would hold the machine.
MAX_STEPS = 100_000
MAX_OUTPUT = 20_000_000
MAX_SECONDS = 20.0


class TemplateBound(Exception):
    """A template went past one of the bounds; the message says which."""


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox, with ``range``, ``*`` and ``**`` bounded and no ``lipsum``."""

    intercepted_binops = frozenset(["*", "**"])

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.steps = 0
        self.globals.pop("lipsum", None)  # unbounded text on request
        self.globals["range"] = self._range

    def _range(self, *args: int) -> Iterator[int]:
        span = range(*args)
        if self.steps + len(span) > MAX_STEPS:
            raise TemplateBound(f"a loop over range() would take over {MAX_STEPS:,} steps")
        self.steps += len(span)
        return iter(span)

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            ints = isinstance(left, int) and isinstance(right, int)
            if ints and right > 0 and abs(left).bit_length() * right > 100_000:
                raise TemplateBound("a power in the template is too large to compute")
            return left**right
        size = [len(x) for x in (left, right) if isinstance(x, str | list | tuple)]
        count = [x for x in (left, right) if isinstance(x, int)]
        if size and count and size[0] * count[0] > MAX_OUTPUT:
            raise TemplateBound(f"a repeated string would be over {MAX_OUTPUT:,} characters")
        return operator.mul(left, right)


def render_bounded(template: jinja2.Template, values: dict[str, Any]) -> str:
    """Return the template rendered within the bounds of this module.

    Raises
    ------
    TemplateBound
        Saying which bound it went past.
    """
    env = template.environment
    if isinstance(env, BoundedEnvironment):
        env.steps = 0
    out: list[str] = []
    size = 0
    with _deadline(MAX_SECONDS):
        start = time.monotonic()
        for chunk in template.generate(**values):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateBound(f"the template writes over {MAX_OUTPUT:,} characters")
            if time.monotonic() - start > MAX_SECONDS:
                raise TemplateBound(f"the template takes over {MAX_SECONDS:g} seconds")
            out.append(chunk)
    return "".join(out)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Stop the block with TemplateBound after ``seconds``, even in a loop that writes nothing.

    A timer signal, so only in the main thread (elsewhere the output's own checks stand);
    a timer set before (pytest-timeout's) is put back, less the time spent here.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TemplateBound(f"the template takes over {seconds:g} seconds")

    start = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, stop)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - start), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)
