"""Stage 8: printers. One printer per output language over the same data.

A :class:`Printer` knows how to write one partial, a product, a sum and a
path; :func:`report` lays out a whole derivative in text, Markdown, LaTeX or
JSON with them. Concrete formulas go through SymPy printer subclasses, so a
name prints as the network says (``O_{11}``, ``a^{(L)}``) and never as a
SymPy constant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from derive.evaluate import Numbers, path_product
from derive.expand import Derivative, Local, Product, Term, Whole
from derive.graph import Network

# -- SymPy formulas ---------------------------------------------------------------


class FormulaStr(StrPrinter):
    """SymPy's str printer. ``Heaviside(z, 0)`` keeps its 0: without it SymPy reads H(0) as 1/2."""


class FormulaLatex(LatexPrinter):
    """SymPy's LaTeX printer with the network's own typesetting of every name."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__({"mul_symbol": None})
        self.names = names

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        name = expr.name
        if name in self.names:
            return self.names[name]
        if name.startswith("delta_"):
            return rf"\delta_{{{self.names.get(name[6:].rstrip('_'), name[6:])}}}"
        return rf"\mathit{{{name}}}"

    def _print_Heaviside(self, expr: sp.Heaviside, exp: Any = None) -> str:
        tex = rf"\operatorname{{H}}\left({self._print(expr.args[0])}\right)"
        return f"{tex}^{{{exp}}}" if exp else tex


def formula_text(expr: sp.Expr) -> str:
    """Return a formula as SymPy-parseable text (SPEC section 3's ``concrete.text``).

    >>> formula_text(sp.Heaviside(sp.Symbol("z1"), 0) * sp.Symbol("x1"))
    'x1*Heaviside(z1, 0)'
    """
    return FormulaStr().doprint(expr)


def formula_latex(expr: sp.Expr, net: Network) -> str:
    """Return a formula in LaTeX with the network's names."""
    return FormulaLatex(net.latex_names).doprint(expr)


# -- partials, products, sums, paths ----------------------------------------------


class Printer:
    """Writes partials, products, sums and paths; subclasses set the symbols."""

    d = "d"
    times = "*"
    plus = " + "
    arrow = " <- "
    open, close = "(", ")"

    def __init__(self, net: Network) -> None:
        self.net = net

    def name(self, name: str) -> str:
        return name

    def partial(self, top: str, bottom: str) -> str:
        return f"{self.d}{self.name(top)}/{self.d}{self.name(bottom)}"

    def term(self, term: Term, inside: bool = False) -> str:
        """Return a factored or expanded term, parenthesised where a sum is a factor."""
        if isinstance(term, Local | Whole):
            return self.partial(term.top, term.bottom)
        if isinstance(term, Product):
            if not term.factors:
                return "1"
            return self.times.join(self.term(f, inside=True) for f in term.factors)
        text = self.plus.join(self.term(t) for t in term.terms)
        return f"{self.open}{text}{self.close}" if inside and len(term.terms) > 1 else text

    def product(self, locals_: tuple[Local, ...]) -> str:
        return self.times.join(self.partial(x.top, x.bottom) for x in locals_) or "1"

    def path(self, path: tuple[str, ...]) -> str:
        return self.arrow.join(self.name(n) for n in path)

    def formula(self, expr: sp.Expr) -> str:
        return formula_text(expr)


class AsciiPrinter(Printer):
    """``dL/dO31*dO31/dO21``: what SPEC's JSON ``text`` fields and ``derive check`` read."""


class UnicodePrinter(Printer):
    """``∂L/∂O31 · ∂O31/∂O21``: for a terminal."""

    d = "∂"
    times = " · "
    arrow = " ← "


class LatexTermPrinter(Printer):
    r"""``\frac{\partial L}{\partial O_{31}} \cdot ...``: for LaTeX and Markdown math."""

    times = r" \cdot "
    arrow = r" \leftarrow "
    open, close = r"\left(", r"\right)"

    def name(self, name: str) -> str:
        return self.net.latex_names.get(name, name)

    def partial(self, top: str, bottom: str) -> str:
        return rf"\frac{{\partial {self.name(top)}}}{{\partial {self.name(bottom)}}}"

    def formula(self, expr: sp.Expr) -> str:
        return formula_latex(expr, self.net)


# -- a whole derivative ------------------------------------------------------------


def expansion(d: Derivative, p: Printer) -> list[str]:
    """Return the expansion's terms, one per listed path, ``...`` last when cut."""
    terms = [p.product(t) for t in d.expansion]
    if d.truncated:
        terms.append("...")
    return terms or ["0"]


def to_json(d: Derivative, numbers: Numbers | None = None) -> dict[str, Any]:
    """Return SPEC section 3's JSON object for a derivative."""
    ascii_, tex = AsciiPrinter(d.net), LatexTermPrinter(d.net)
    out: dict[str, Any] = {
        "network": d.net.name,
        "of": d.of,
        "wrt": d.wrt,
        "detail": d.detail,
        "path_count": d.path_count,
        "paths": [list(p) for p in d.paths],
        "paths_truncated": d.truncated,
        "expansion": {
            "text": " + ".join(expansion(d, ascii_)),
            "latex": " + ".join(t if t != "..." else r"\dots" for t in expansion(d, tex)),
        },
        "factored": {
            "text": ascii_.term(d.factored) if not d.is_zero else "0",
            "latex": tex.term(d.factored) if not d.is_zero else "0",
        },
        "local": {
            ascii_.partial(*e): {"text": formula_text(f), "latex": formula_latex(f, d.net)}
            for e, f in d.local.items()
        },
        "concrete": {"text": formula_text(d.concrete), "latex": formula_latex(d.concrete, d.net)},
    }
    if d.factored_where:
        out["factored"]["where"] = [[ascii_.term(w), ascii_.term(t)] for w, t in d.factored_where]
    if d.where:
        out["concrete"]["where"] = [[s.name, formula_text(f)] for s, f in d.where]
    if d.concrete_onehot is not None:
        out["concrete"]["one_hot"] = {
            "text": formula_text(d.concrete_onehot),
            "latex": formula_latex(d.concrete_onehot, d.net),
        }
    if d.is_zero:
        out["zero_because"] = d.why_zero()
    if numbers is not None:
        out["value"] = numbers.value
        out["point"] = {n: numbers.point[n] for n in numbers.used}
        out["path_products"] = numbers.path_products
        if numbers.lr is not None:
            out["update"] = {"lr": numbers.lr, "old": numbers.old, "new": numbers.new}
    return out


def report(
    d: Derivative, fmt: str = "text", numbers: Numbers | None = None, flavor: str = "github"
) -> str:
    """Return the whole derivative as ``text``, ``markdown``, ``latex`` or ``json``."""
    if fmt == "json":
        return json.dumps(to_json(d, numbers), indent=2, ensure_ascii=False)
    if fmt == "text":
        return _text(d, numbers)
    from derive.printing.document import derivative_document

    return derivative_document(d, numbers, fmt, flavor)


def _num(x: float) -> str:
    return f"{x + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0: a student should not see "-0"


def _text(d: Derivative, numbers: Numbers | None) -> str:
    return "\n".join(text_lines(d, numbers)) + "\n"


def text_lines(
    d: Derivative, numbers: Numbers | None = None, every_path: bool = False
) -> Iterator[str]:
    """Yield the text report line by line; with ``every_path`` the paths come from the lazy
    iterator, so ``--max-paths all`` streams them in constant memory."""
    p = UnicodePrinter(d.net)
    lhs = p.partial(d.of, d.wrt)
    if d.is_zero:
        yield f"{lhs} = 0"
        yield f"  {d.why_zero()}."
        return
    if d.of == d.wrt:
        yield f"{lhs} = 1"
        yield f"  {d.of} changes one-for-one with itself."
        return

    def paths() -> Iterator[tuple[str, ...]]:
        return d.iter_paths() if every_path else iter(d.paths)

    # Each partial and name is written once; a path's text is then built from its prefix's
    # (there may be billions of paths, and each is written twice).
    partial = {e: p.partial(*e) for e in d.edges}
    name = {n: p.name(n) for n in d.nodes}

    def term(a: str, b: str) -> str:
        return partial[(a, b)] if a == d.of else p.times + partial[(a, b)]

    def arrow(a: str, b: str) -> str:
        return p.arrow + name[b]

    if every_path:
        terms, arrows = d.iter_joined(term), d.iter_joined(arrow)
    else:
        terms = (p.product(t) for t in d.expansion)
        arrows = (p.path(path)[len(name[d.of]) :] for path in d.paths)
    pad = " " * len(lhs)
    for i, text in enumerate(terms):
        yield f"{pad} + {text}" if i else f"{lhs} = {text}"
    truncated = d.truncated and not every_path
    if truncated:
        yield f"{lhs} = ..." if not d.paths else f"{pad} + ..."
    yield ""
    head = f"Paths: {d.path_count:,}"
    if truncated:
        listed = f"the first {len(d.paths):,} are listed" if d.paths else "none are listed"
        head += f" ({listed}; --max-paths all lists every one)"
    yield head + f", from {d.of} down to {d.wrt}"
    width = len(str(d.path_count if every_path else len(d.paths)))
    top = name[d.of]
    for i, text in enumerate(arrows, 1):
        yield f"  {i:>{width}}. {top}{text}"
    yield from ["", "Factored (what backpropagation computes):", f"  {lhs} = {p.term(d.factored)}"]
    for whole, term in d.factored_where:
        yield f"  where {p.term(whole)} = {p.term(term)}"
    yield from ["", "Local partials:"]
    # Every local partial unless there are very many; then those on the listed paths.
    listed = {e for path in d.paths for e in zip(path, path[1:], strict=False)}
    many = len(d.local) > 40 and not every_path
    shown = {e: f for e, f in d.local.items() if e in listed} if many else d.local
    width = max((len(p.partial(*e)) for e in shown), default=0)
    for edge, f in shown.items():
        yield f"  {p.partial(*edge):<{width}} = {formula_text(f)}"
    if len(shown) < len(d.local):
        yield f"  ... and {len(d.local) - len(shown):,} more (--format json lists all)"
    yield from ["", "Concrete:"]
    for sym, f in d.where:
        yield f"  {sym.name} = {formula_text(f)}"
    yield f"  {lhs} = {formula_text(d.concrete)}"
    if d.concrete_onehot is not None:
        yield f"  {pad} = {formula_text(d.concrete_onehot)}   (one-hot targets: they sum to 1)"
    if numbers is not None:
        yield ""
        yield from _text_numbers(d, numbers, p, paths(), shown, summed=not truncated)


def _text_numbers(
    d: Derivative,
    n: Numbers,
    p: Printer,
    paths: Iterator[tuple[str, ...]],
    shown: dict,
    summed: bool,
) -> Iterator[str]:
    point = ", ".join(f"{k} = {_num(n.point[k])}" for k in n.used)
    computed = [
        k
        for k in d.net.names
        if k in n.values and k not in n.used and d.net.kind(k) in ("neuron", "preact", "loss")
    ]
    yield "At the point:"
    yield f"  values:   {point}"
    yield "  forward:  " + ", ".join(f"{k} = {_num(n.values[k])}" for k in computed)
    yield "  local partials:"
    width = max((len(p.partial(*e)) for e in shown), default=0)
    for edge in shown:
        yield f"    {p.partial(*edge):<{width}} = {_num(n.local[edge])}"
    yield "  paths:"
    for i, path in enumerate(paths, 1):
        yield f"    {i}. {p.path(path)}: {_num(path_product(path, n.local))}"
    total = "sum of the paths" if summed else "all paths, by backpropagation"
    yield f"  {p.partial(d.of, d.wrt)} = {_num(n.value)}   ({total})"
    if n.lr is not None:
        w = d.wrt
        yield (
            f"  update:   {w}_new = {w}_old − η·{p.partial(d.of, w)} = {_num(n.old)} − {_num(n.lr)}·"
            f"({_num(n.value)}) = {_num(n.new)}"
        )
