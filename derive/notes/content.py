"""What a note says, as typed data: the templates receive these and only word them.

Every string in these classes is finished: LaTeX for math (``tex`` fields, typeset
through the filters ``m``, ``block`` and ``lines``), plain text for words. A
template decides nothing deeper than "show this section or not".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from derive.graph import Network
from derive.words import num

# -- numbers: the one format of the notes ------------------------------------------------


def tex_num(x: float) -> str:
    r"""Return :func:`num` for math: an exponent as a power of ten.

    >>> tex_num(1.2346e-5), tex_num(-2.0)
    ('1.235 \\times 10^{-5}', '-2.000')
    """
    text = num(x)
    if "e" in text:
        mantissa, exp = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exp)}}}"
    return text


def factor(x: float) -> str:
    """Return a number as a factor of a product: a negative one in parentheses."""
    return rf"\left({tex_num(x)}\right)" if x < 0 else tex_num(x)


def sum_tex(parts: list[str], keep: int = 4) -> str:
    r"""Return terms joined by +, the middle ones as \cdots when there are more than ``keep``.

    >>> sum_tex(["a", "b", "c", "d", "e"])
    'a + b + \\cdots + e'
    """
    if len(parts) > keep:
        parts = [*parts[:2], r"\cdots", parts[-1]]
    return " + ".join(parts)


def rounded(x: float) -> float:
    """Return the number a reader sees: ``x`` rounded as :func:`num` prints it."""
    return float(num(x))


# -- prose with math in it: a file's title and description -------------------------------

# A word of prose that is math: made of name characters and ^ _ ( ) + - = * /, with a
# superscript, a subscript or a d/d in it.
_WORD = re.compile(r"[\w^()+\-=*/]+")
_MARKS = re.compile(r"\^|[A-Za-z0-9]_[A-Za-z0-9]|\bd[A-Za-z]\w*/d[A-Za-z]")
_OPERATORS = {"=", "+", "-", "*"}


def prose(text: str, net: Network) -> list[tuple[str, str]]:
    """Return prose as (kind, piece) pairs, kind ``text`` or ``math``; math is LaTeX.

    Only letters, digits, ``_ ^ ( ) + - = * /`` and spaces ever become math, so a
    hostile description stays plain (escaped) text.

    >>> from derive.graph import load_network
    >>> prose("the cost C_0 = (a^(L) - y)^2 here", load_network("chain_3b1b"))
    [('text', 'the cost '), ('math', 'C_{0} = (a^{(L)} - y)^2'), ('text', ' here')]
    """

    def is_math(word: str) -> bool:
        if not _WORD.fullmatch(word) or not re.match(r"[(A-Za-z0-9]", word):
            return False
        if re.search(r"[\^_](?![\w(])", word):  # a ^ or _ with nothing after it
            return False
        return bool(_MARKS.search(word)) or word in net.latex_names

    tokens = []  # (start, end, kind): kind math, op or text
    for m in re.finditer(r"\S+", text):
        core = m.group(0).rstrip(".,;:")
        kind = "op" if core in _OPERATORS else "math" if core and is_math(core) else "text"
        tokens.append((m.start(), m.start() + len(core), kind))
    runs: list[list[tuple[int, int, str]]] = []
    for tok in tokens:
        joins = runs and tok[2] != "text" and runs[-1][-1][2] != "text"
        if joins and text[runs[-1][-1][1] : tok[0]].strip() == "":
            runs[-1].append(tok)
        else:
            runs.append([tok])
    out: list[tuple[str, str]] = []
    pos = 0
    for run in runs:
        while run and run[-1][2] == "op":
            run.pop()
        while run and run[0][2] == "op":
            run.pop(0)
        if not run or run[0][2] == "text":
            continue
        start, end = run[0][0], run[-1][1]
        if start > pos:
            out.append(("text", text[pos:start]))
        out.append(("math", _to_tex(text[start:end], net)))
        pos = end
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


def _to_tex(piece: str, net: Network) -> str:
    def name(m: re.Match[str]) -> str:
        word = m.group(0)
        if word in net.latex_names:
            return net.latex_names[word]
        base, _, sub = word.partition("_")
        if sub and base.isalpha():
            return f"{base}_{{{sub}}}"
        return word

    tex = re.sub(r"d([A-Za-z]\w*)/d([A-Za-z]\w*)", r"\\mathrm{d}\1/\\mathrm{d}\2", piece)
    tex = re.sub(r"\^\(([\w+\-]+)\)", r"^{(\1)}", tex)
    tex = re.sub(r"(?<![\\\w{])[A-Za-z]\w*", name, tex)
    return tex.replace("*", r" \cdot ")


# -- the pieces of a note -----------------------------------------------------------------


@dataclass
class Layer:
    """One layer of the network table."""

    label: str
    neurons: list[str]
    size: int
    activation: str
    formula: str
    slope: str


@dataclass
class Cell:
    """A row of a table of formulas: a left side, a right side, a value (all LaTeX)."""

    lhs: str
    rhs: str
    value: str = ""
    extra: str = ""
    formula: str = ""
    count: str = ""  # how many paths reach the parameter


@dataclass
class Worked:
    """One derivative worked in full: paths, picture, expansion, factored, local partials."""

    wrt: str
    wrt_tex: str
    lhs: str
    kind: str
    where_it_is: str
    path_count: int
    paths: list[str]
    truncated: bool
    diagram: object  # None: one path, listed, after a weight that was drawn
    terms: list[str]
    expansion_shown: str
    factored: str
    too_long: bool
    factored_where: list[str]
    local: list[Cell]  # the local partials of its first paths not tabulated for an earlier weight
    more_local: int  # those beyond the first paths (the same forms)
    earlier_local: list[str]  # those in an earlier weight's table
    cancel: list[str]
    cancel_familiar: bool  # it comes out as output minus target
    split: str  # the factor that holds the output's slope, split at its z
    one_hot: str  # "y1 + y2 + y3 = 1" where the formulas use it ("" elsewhere)
    fans: str  # a softmax output on its paths: each path runs through every z of that layer
    concrete_where: list[str]
    concrete: str
    value: str
    sweep_line: str


@dataclass
class OnePath:
    """The cancelling picture, on a derivative with one path."""

    lhs: str
    product: str
    path: str
    cancelled: str
    factors: str
    value: str


@dataclass
class Mistake:
    """Seed 000's "one lane per neuron" expansion, where it gives a different number."""

    lhs: str
    lines: list[str]
    wrong: str
    right: str


@dataclass
class SeveralPaths:
    """The multivariable chain rule on the derivative with the most paths."""

    lhs: str
    wrt_tex: str
    path_count: int
    terms: list[str]
    products: str
    value: str
    mistake: Mistake | None
    lanes_right: bool
    parameter: bool = True  # False: every weight has one path, and this is an input's
    zero_paths: int = 0  # the paths whose product is 0 at the example point
    zero_factors: list[str] = field(default_factory=list)  # the factors that make them 0


@dataclass
class SweepSection:
    """The backward sweep at the example point: the worked example of backpropagation."""

    source: str
    given: list[tuple[str, list[str]]]
    forward: list[Cell]
    loss: str
    detail: bool
    rows: list[str]
    gradients: list[Cell]  # every parameter: paths, error times input, value, after a step
    more_gradients: int  # the gradients a wide network leaves out of that table
    lr: str
    update_example: str
    mul_sweep: int
    mul_paths: int
    mul_shown: int  # the same count for the sweep as shown, through the z's (0: as counted)
    forward_mul: int
    fd_passes: int
    fd_mul: int
    params: int
    fd_check: str
    scaling: list[dict[str, str]]
    seed: int = 0  # of the point's random values


@dataclass
class LayerFormSection:
    """The layer (matrix) form: shapes, the four equations, the numbers as matrices."""

    shapes: list[str]
    equations: list[str]
    checks: list[Cell]  # per layer: the shapes of delta's equation and of dL/dW's
    matrices: list[str]
    entry: list[str]
    jacobian: tuple[str, str] | None = None  # softmax: J's entries, and the targets' sum 1
    inputs: str = "a^{(0)}"  # the inputs as a layer, in the network's own superscript


@dataclass
class Equations:
    """Nielsen's four equations derived from this network's sweep, with delta's meaning."""

    z: str  # the output's z
    delta: str  # delta = dL/dz = its value
    nudge: str
    moved: str  # the parameter moved to nudge z (a bias, or a weight by eps / its input)
    loss_before: str
    loss_after: str
    change: str
    order: str  # the square of the nudge: how far the change is from delta times it
    bp1: str  # the sweep's line of the output's z
    bp2: list[str]  # the lines of a hidden neuron's output and of its z
    bp2_weights: str  # the local partials of the z's it feeds: the weights
    bp3: str  # a bias's gradient line ("" without biases)
    bp4: str  # a weight's gradient line
    output_slope: str
    saturated: bool  # a sigmoid output, whose slope can be small
    low: str  # the smallest input of the BP2 neuron, and the largest
    high: str
    low_grad: str
    high_grad: str
    shared: str  # the delta those two gradients share
    slope_rule: str
    general: list[str] = field(default_factory=list)  # BP1-BP4 in index form
    cancels: bool = False  # the loss's partial cancels the output's slope (delta = O - y)
    cancelled: str = ""  # that delta as output minus target, in symbols and numbers
    packed: str = ""  # a neuron-to-neuron factor split at its z
    path: str = ""  # a path over neurons
    z_path: str = ""  # the same path at z level


@dataclass
class GraphView:
    """The computational-graph view on one neuron of this network."""

    neuron: str
    z_rule: str
    upstream: str
    multiply: list[str]
    fork: str
    fork_parts: int
    gate: str
    gate_test: str  # the relu's z against 0 at the example point ("" without a relu)
    gate_result: str  # what its gate passes down
    params: int
    forward_mode: str


@dataclass
class Exercise:
    """An exercise and its solution (folded), both finished strings with math in ``m``."""

    question: list[tuple[str, str]]
    answer: list[tuple[str, str]]
    blocks: list[str] = field(default_factory=list)
    command: str = ""
    check: str = ""  # the answer as derive check reads it: a line of the solutions file
    general: bool = False  # the same in every note: a course asks it once, in its introduction


@dataclass
class Link:
    """Another file of the course."""

    title: str
    md: str
    tex: str


@dataclass
class Note:
    """Everything one note shows."""

    name: str
    title: list[tuple[str, str]]
    title_in_text: list[tuple[str, str]]  # the title inside a sentence ("of two hidden layers")
    title_plain: str
    description: list[tuple[str, str]]
    loss_tex: str
    intro: Intro | None
    course: Link | None
    next: Link | None
    layers: list[Layer]
    equations: list[str]
    equation_columns: int  # two side by side when there are many short ones
    more_equations: int
    diagram: object
    loss_kind: str
    loss_general: str
    loss_here: str
    tied: list[str]
    one_path: OnePath | None
    several: SeveralPaths | None
    worked: list[Worked]
    others: int  # the parameters not worked in full (their rows are in the sweep's table)
    sweep: SweepSection
    layer_form: LayerFormSection | None
    layer_form_why: str
    graph_view: GraphView | None
    equations_derived: Equations | None
    gates: object  # derive.notes.neuron.NeuronGates | None: one neuron as gates, staged
    training: object  # derive.notes.training.Training: a few steps of gradient descent
    vanishing: object  # derive.notes.vanishing.Vanishing | None: slopes along a deep path
    code: str
    code_every: int  # the program checks every k-th gradient against central differences
    params: int
    exercises: list[Exercise]
    covered: list[str]
    has_biases: bool
    skips: list[str] = field(default_factory=list)  # edges that skip a layer (LaTeX)
    worked_title: str = "One weight per layer, in full"
    output_in_bp: bool = False  # the output layer's weight is worked as BP4, not here
    graded: bool = False  # some exercises have answers derive check grades (the answers file)
    net_argument: str = ""  # what --net needs to find this network
    notation: tuple[str, str] = ("", "")  # a path and a whole derivative, in its own names


@dataclass
class Intro:
    """The introduction: once per course (in its index), or in a note written alone."""

    update: str
    old: str
    new: str
    slope: str
    notation_local: str
    notation_whole: str
    circle: str
    circle_rate: str
    multivar: str
    average: str
    gradient: str
    exercises: list[Exercise] = field(default_factory=list)  # a course's general ones


def intro(net) -> Intro:
    """Return the introduction, in this network's letters for the loss (``net`` needs only
    ``loss`` and ``latex_names``: a graph passes its output)."""
    L = net.latex_names[net.loss]
    return Intro(
        update=rf"w^{{\text{{new}}}} = w^{{\text{{old}}}} - \eta \, \frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}w}}",
        old=r"w^{\text{old}}",
        new=r"w^{\text{new}}",
        slope=rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}w}}",
        notation_local=r"\frac{\partial A}{\partial B}",
        notation_whole=r"\frac{\mathrm{d}A}{\mathrm{d}B}",
        circle=r"A = \pi r^{2}",
        circle_rate=r"\frac{\mathrm{d}A}{\mathrm{d}t} = \frac{\mathrm{d}A}{\mathrm{d}r} \cdot \frac{\mathrm{d}r}{\mathrm{d}t} = 2 \pi r \, \frac{\mathrm{d}r}{\mathrm{d}t}",
        multivar=r"\frac{\mathrm{d}f}{\mathrm{d}t} = \frac{\partial f}{\partial u} \frac{\mathrm{d}u}{\mathrm{d}t} + \frac{\partial f}{\partial v} \frac{\mathrm{d}v}{\mathrm{d}t}",
        average=r"\frac{\mathrm{d}C}{\mathrm{d}w} = \frac{1}{n} \sum_{i=1}^{n} \frac{\mathrm{d}C_{i}}{\mathrm{d}w}",
        gradient=r"\nabla C = \left( \frac{\mathrm{d}C}{\mathrm{d}w_1}, \frac{\mathrm{d}C}{\mathrm{d}w_2}, \dots \right)",
    )
