"""The notes as an interactive HTML page (SPEC section 7), in a real browser.

Chromium (Debian's, never a downloaded one) is driven by Playwright for Python: one
browser for the whole session, one page per network, every request that is not a
``file:`` one refused. What each page shows is checked against what the test computes
itself: paths with networkx from the network's graph, the loss with the independent
forward pass of ``tests/reference.py``, gradients by central differences.
"""

from __future__ import annotations

import math
import os
import random
from functools import cache
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
import reference as ref
import sympy as sp
import yaml
from conftest import graph_networks, small_networks
from randomnets import seeded_files

from derive.graph import load_network
from derive.notes import write_course

pytestmark = pytest.mark.browser

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM = Path("/usr/bin/chromium")

HOSTILE = """\
name: hostile
title: "<script>alert('title')</script> & <b>bold</b>"
description: "</script><img src=http://example.com/x.png onerror=alert(1)> <!-- a"
layers:
  - inputs: [x1]
  - neurons: [O1]
loss: {kind: squared_error}
latex:
  O1: "\\\\hat{y}_{\\\\mathrm{out}}"
values: {x1: 0.5, W1: -0.3, y: 1}
"""


# A random formula graph: each node one of these over two earlier names (seeded: the same
# graph on every run). Every function and operator of a formula is among them.
OPS = ["{a} + {b}", "{a} * {b}", "{a} - {b}", "{a} / (1 + {b}**2)", "tanh({a})", "sigmoid({a}) * {b}",
       "exp(-{a}**2)", "softplus({a})", "sqrt(1 + {a}**2)", "relu({a}) + abs({b})", "log(1 + {a}**2)"]  # fmt: skip


def random_graph(seed: int = 3, size: int = 11) -> str:
    rng = random.Random(seed)
    names, lines = ["x", "y", "w", "v"], []
    for k in range(size):
        op = OPS[k % len(OPS)] if k < len(OPS) else rng.choice(OPS)
        a, b = (["x", "w"], ["y", "v"])[k] if k < 2 else rng.sample(names[-4:], 2)
        lines.append(f"  n{k}: {op.format(a=a, b=b)}")
        names.append(f"n{k}")
    values = ", ".join(f"{n}: {rng.uniform(-1, 1):.3f}" for n in ("x", "y", "w", "v"))
    return (
        "name: randomgraph\ntitle: \"<b>graph</b> & </script><script>alert(1)</script>\"\n"
        "latex: {n0: \"\\\\hat{n}_{\\\\mathrm{0}}\"}\n"
        "inputs: [x, y]\nparams: [w, v]\nnodes:\n" + "\n".join(lines)
        + f"\noutput: {names[-1]}\nvalues: {{{values}}}\n"
    )  # fmt: skip


# -- the test's own forward pass: the file's formulas read by SymPy, not by derive -------------

FUNCS = {
    "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "relu": lambda z: sp.Max(z, 0),
    "softplus": lambda z: sp.log(1 + sp.exp(z)),
    "tanh": sp.tanh,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
}


@cache
def model(file: str):
    """Return a graph file's formulas as (output, graph, [(node, function, its arguments)])."""
    spec = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    names = [*spec.get("inputs", []), *spec.get("params", []), *spec["nodes"]]
    local = {**{n: sp.Symbol(n) for n in names}, **FUNCS}
    g = nx.DiGraph()
    exprs = {}
    for node, text in spec["nodes"].items():
        exprs[node] = sp.sympify(str(text), locals=local)
        g.add_node(node)
        g.add_edges_from((s.name, node) for s in exprs[node].free_symbols)
    steps = []
    for node in nx.topological_sort(g):
        if node in exprs:
            args = sorted(s.name for s in exprs[node].free_symbols)
            fn = sp.lambdify(
                [sp.Symbol(a) for a in args], exprs[node], modules=[{"Max": max}, "math"]
            )
            steps.append((node, fn, args))
    return spec["output"], g, steps


def forward(net, point: dict, fixed: dict | None = None) -> dict:
    """Return every value at a point (a node in ``fixed`` takes that value instead)."""
    if not net.formulas:
        return ref.forward(net, point, fixed)
    fixed = fixed or {}
    _, _, steps = model(net.file)
    env = dict(point)
    for node, fn, args in steps:
        env[node] = fixed.get(node, float(fn(*(env[a] for a in args))))
    return env


def output_of(net) -> str:
    return model(net.file)[0] if net.formulas else net.loss


def cost(net, point: dict) -> float:
    """Return the page's headline number: the output, or a batch's mean over its examples."""
    of = output_of(net)
    if not net.examples:
        return forward(net, point)[of]
    return sum(forward(net, {**point, **e})[of] for e in net.examples) / len(net.examples)


def central(f, point: dict, name: str, h: float = 1e-6) -> float:
    up, down = {**point, name: point[name] + h}, {**point, name: point[name] - h}
    return (f(up) - f(down)) / (2 * h)


def node_gradient(net, point: dict, node: str, h: float = 1e-6) -> float:
    """Return d(output)/d(node) at a point by central differences of the test's forward pass."""
    of = output_of(net)
    if node in point:
        return central(lambda p: forward(net, p)[of], point, node, h)
    base = forward(net, point)[node]
    hi = forward(net, point, {node: base + h})[of]
    lo = forward(net, point, {node: base - h})[of]
    return (hi - lo) / (2 * h)


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the browser: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (skips locally without it, fails in CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        _skip_or_fail(f"{CHROMIUM} is not there: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(chromium, tmp_path_factory):
    """Every small bundled network's page, a random network's and a hostile one's, opened."""
    out = tmp_path_factory.mktemp("pages")
    hostile = out / "hostile.yaml"
    hostile.write_text(HOSTILE, encoding="utf-8")
    graph = out / "randomgraph.yaml"
    graph.write_text(random_graph(), encoding="utf-8")
    layered = [*small_networks(), *seeded_files((5,)), str(hostile)]
    write_course(layered, str(out), fmt="html")
    graphs = [*graph_networks(), str(graph)]
    for source in graphs:  # a graph's note is written alone
        write_course([source], str(out), fmt="html")
    sources = [*layered, *graphs]
    context = chromium.new_context()
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    opened = {}
    for source in sources:
        net = load_network(source)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err, e=errors: e.append(str(err)))
        page.on("dialog", lambda d, e=errors: (e.append(f"dialog {d.message}"), d.dismiss()))
        page.goto((out / f"{net.name}.html").as_uri())
        opened[net.name] = (net, page, errors)
    yield opened, refused, out
    context.close()


def lit(page) -> set[str]:
    return set(page.eval_on_selector_all(".on[data-edge]", "es => es.map(e => e.dataset.edge)"))


def test_every_page_loads_from_disk_alone_without_a_console_error(pages):
    opened, refused, out = pages
    assert (out / "index.html").is_file()
    for name, (_, page, errors) in opened.items():
        assert errors == [], name
        # The script ran: the loss was written by the page's own forward pass.
        assert page.text_content("[data-loss]") and page.eval_on_selector("body", "b => !!b")
    assert refused == []


def test_the_math_is_mathml_that_the_browser_lays_out(pages):
    for name, (_, page, _) in pages[0].items():
        found = page.evaluate(
            """() => Array.from(document.querySelectorAll('math')).map(m =>
                [m.namespaceURI, m instanceof MathMLElement])"""
        )
        assert found and all(
            ns == "http://www.w3.org/1998/Math/MathML" and ok for ns, ok in found
        ), name
        # A fraction is drawn with its numerator above its denominator.
        above = page.evaluate(
            """() => { const f = document.querySelector('.sweep mfrac');
                const [a, b] = f.children; return a.getBoundingClientRect().bottom
                <= b.getBoundingClientRect().top + 1; }"""
        )
        assert above, name


# Chooses each parameter and focuses each of its terms, in the page: what was lit each time.
EXPLORE = """() => {
  const lit = () => Array.from(document.querySelectorAll('.on[data-edge]'), e => e.dataset.edge);
  return Array.from(document.querySelectorAll('button[data-param]'), b => {
    b.click();
    const terms = Array.from(document.querySelectorAll(
      `[data-paths-of="${b.dataset.param}"] [data-path]`), t => { t.focus(); return [t.dataset.path, lit()]; });
    b.click();
    return [b.dataset.param, document.body.dataset.selected, lit(), terms];
  });
}"""


def choosable(net) -> list[str]:
    """Return what the page lets a student choose, from the file: its parameters, or a
    graph's inputs where it has none."""
    if not net.formulas:
        return net.parameters
    spec = yaml.safe_load(Path(net.file).read_text(encoding="utf-8"))
    return spec.get("params") or spec["inputs"]


def test_choosing_each_parameter_lights_exactly_its_paths_and_each_term_its_own(pages):
    for name, (net, page, _) in pages[0].items():
        g = model(net.file)[1] if net.formulas else net.graph()
        of = output_of(net)
        drawn = set(page.eval_on_selector_all("[data-edge]", "es => es.map(e => e.dataset.edge)"))
        seen = page.evaluate(EXPLORE)
        assert [p for p, *_ in seen] == choosable(net), name
        for p, selected, on, terms in seen:
            paths = [tuple(reversed(path)) for path in nx.all_simple_paths(g, p, of)]
            expected = {f"{b}->{a}" for path in paths for a, b in pairwise(path)}
            assert expected <= drawn, (name, p, expected - drawn)
            assert selected == p and set(on) == expected, (name, p)
            assert len(terms) == min(len(paths), 12), (name, p)
            for path, own in terms:
                names = tuple(path.split())
                assert names in paths, (name, path)
                assert set(own) == {f"{b}->{a}" for a, b in pairwise(names)}, (name, path)


def test_hovering_a_term_with_the_mouse_lights_its_path(pages):
    _, page, _ = pages[0]["two_hidden"]
    page.bring_to_front()  # a page in the background gets no animation frames: clicks wait
    page.click('button[data-param="W1"]')
    page.hover('[data-path="L O31 O22 O11 W1"]')
    assert lit(page) == {"W1->O11", "O11->O22", "O22->O31", "O31->L"}
    page.mouse.move(0, 0)
    assert "O11->O22" in lit(page) and "O11->O21" in lit(page)  # back to W1's paths


# Steps the sweep (next, next, next, back, next) in the page: after each step, every node
# marked swept with each of its dL/dv texts and whether it shows.
STEPS = """() => ["next", "next", "next", "prev", "next"].map(button => {
  document.querySelector(`button[data-step="${button}"]`).click();
  return Array.from(document.querySelectorAll(".swept[data-node]"), n => [n.dataset.node,
    Array.from(document.querySelectorAll(`[data-grad="${n.dataset.node}"]`),
      g => [g.textContent, getComputedStyle(g).visibility])]);
})"""


def test_k_sweep_steps_mark_k_nodes_each_showing_its_gradient(pages):
    for name, (net, page, _) in pages[0].items():
        point = page.evaluate("DATA.point")
        steps, k = page.evaluate("DATA.steps.length"), 0
        moves = ("next", "next", "next", "prev", "next")
        for button, swept in zip(moves, page.evaluate(STEPS), strict=True):
            k = min(k + 1, steps) if button == "next" else max(k - 1, 0)
            assert len({node for node, _ in swept}) == k, name
            for node, shown in swept:
                expected = node_gradient(net, point, node)
                assert shown, (name, node)  # on the node, or under each line leaving it
                for text, visible in shown:
                    assert visible == "visible", (name, node)
                    assert same_4_figures(float(text), expected), (name, node, text, expected)


def same_4_figures(shown: float, expected: float) -> bool:
    """Whether ``shown`` is ``expected`` to 4 significant figures (half a unit of the 4th)."""
    if expected == 0 or abs(expected) < 1e-9:
        return abs(shown) < 1e-9
    unit = 10 ** (math.floor(math.log10(abs(expected))) - 3)
    return abs(shown - expected) <= 0.5 * unit * 1.0001 + 1e-12


# Moves the given sliders, reads every readout, resets, and reads them again.
NUDGE = """deltas => {
  const read = () => Object.fromEntries(Array.from(
    document.querySelectorAll("[data-loss], [data-predicted]"),
    o => ["lossAll" in o.dataset ? "all" : "predictedAll" in o.dataset ? "all predicted" :
      o.dataset.loss ? `loss ${o.dataset.loss}` : `predicted ${o.dataset.predicted}`,
      Number(o.textContent)]));
  // SPEC section 7 names the readouts [data-loss] and [data-predicted]: the first of each.
  const spec = () => ["loss", "predicted"].map(
    k => Number(document.querySelector(`[data-${k}]`).textContent));
  for (const [name, delta] of Object.entries(deltas)) {
    const s = document.querySelector(`input[data-nudge="${name}"]`);
    s.value = String(delta);
    s.dispatchEvent(new Event("input"));
  }
  const moved = read(), first = spec();
  document.querySelector("[data-reset]").click();
  return [moved, read(), first];
}"""


def test_each_nudge_shows_its_forward_pass_beside_its_linear_prediction(pages):
    for name, (net, page, _) in pages[0].items():
        point = {**page.evaluate("DATA.point"), **(net.examples[0] if net.examples else {})}
        first, last = choosable(net)[0], choosable(net)[-1]
        deltas = {last: 0.37, first: -0.2} if first != last else {last: 0.37}
        moved, reset, spec = page.evaluate(NUDGE, deltas)
        base = cost(net, point)
        for p, delta in deltas.items():
            slope = central(lambda q, n=net: cost(n, q), point, p)
            loss = cost(net, {**point, p: point[p] + delta})
            assert same_4_figures(moved[f"loss {p}"], loss), (name, p)
            assert same_4_figures(moved[f"predicted {p}"], base + slope * delta), (name, p)
        both = {**point, **{p: point[p] + delta for p, delta in deltas.items()}}
        assert same_4_figures(moved["all"], cost(net, both)), name
        assert spec == [moved["all"], moved["all predicted"]], name
        # one nudge alone: SPEC's [data-loss] and [data-predicted] are that nudge's
        moved, _, spec = page.evaluate(NUDGE, {last: 0.37})
        assert spec == [moved[f"loss {last}"], moved[f"predicted {last}"]], name
        assert all(same_4_figures(v, base) for v in reset.values()), name


GREYED = """name => {
  const greyed = () => [document.querySelector("svg.net").classList.contains("nudged"),
    document.getElementById("nudge-status").textContent];
  const s = document.querySelector(`input[data-nudge="${name}"]`);
  s.value = "0.5";
  s.dispatchEvent(new Event("input"));
  const nudged = greyed();
  document.querySelector("[data-reset]").click();
  return [nudged, greyed()];
}"""


def test_a_nudge_greys_the_gradients_it_does_not_recompute(pages):
    """The page recomputes only the forward pass: the dL/dv under the lines stay the example
    point's, and say so while a slider is off 0."""
    net, page, _ = pages[0]["two_hidden"]
    (on, said), (off, unsaid) = page.evaluate(GREYED, choosable(net)[0])
    assert on and "gradients (grey) are those at the example point" in said
    assert (off, unsaid) == (False, "")


def test_a_narrow_window_does_not_scroll_sideways(pages):
    _, page, _ = pages[0]["two_hidden"]
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_every_control_takes_keyboard_focus_and_a_key_chooses(pages):
    _, page, _ = pages[0]["two_hidden"]
    page.bring_to_front()
    controls = page.eval_on_selector_all(
        "button, input",
        "cs => cs.map(c => { c.focus(); return document.activeElement === c; })",
    )
    assert controls and all(controls)
    page.focus('button[data-param="W7"]')
    page.keyboard.press("Enter")
    assert page.evaluate("document.body.dataset.selected") == "W7"


def test_hostile_text_stays_text(pages):
    net, page, errors = pages[0]["randomgraph"]  # a graph's title and latex: in HTML, SVG, MathML
    assert errors == [] and page.text_content("h1") == net.title
    assert page.eval_on_selector_all("script", "s => s.length") == 2
    assert page.eval_on_selector_all("b, img", "s => s.length") == 0
    assert page.text_content('[data-node="n0"] > text') == "n̂₀"
    assert page.eval_on_selector_all(
        "button[data-param] math *, math mover", "es => es.every(e => e instanceof MathMLElement)"
    )
    net, page, errors = pages[0]["hostile"]
    assert errors == []
    assert page.eval_on_selector_all("script", "s => s.length") == 2  # the data and the script
    assert page.eval_on_selector_all("img", "s => s.length") == 0
    assert page.text_content("h1") == net.title
    assert net.description.strip() in page.text_content(".description")
    assert page.text_content('[data-node="O1"] text') == "ŷₒᵤₜ"  # its latex: in the SVG
    assert page.text_content('button[data-param="W1"]') == "W1"  # MathML: W with subscript 1


def test_the_page_has_every_section_of_the_markdown_notes_and_reads_all_their_math(pages):
    for name in ("two_hidden", "softmax"):
        net, page, _ = pages[0][name]
        # The course's notes in output/ (a test keeps them fresh), written like these pages
        # in a course: the introduction is in the index.
        markdown = (Path(__file__).parent.parent / "output" / f"{name}.md").read_text("utf-8")
        sections = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
        shown = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        assert sections and all(s in shown for s in sections), (name, set(sections) - set(shown))
        # Solutions are folded; every formula of the notes was read into MathML.
        assert page.locator("details summary").count() >= 3, name
        assert page.locator("math .unread").count() == 0, name


def test_jupyter_shows_the_same_diagram_with_a_derivative_lit(chromium):
    import derive

    net = derive.load("two_hidden")
    r = derive.differentiate(net, "dL/dO11")
    b = derive.backprop(net, at={})
    page = chromium.new_page()
    try:
        page.set_content(net._repr_html_() + r._repr_html_() + b._repr_html_())
        nets = page.locator("svg.net")
        assert nets.count() == 3
        g = net.graph()
        expected = {
            f"{u}->{v}" for path in nx.all_simple_paths(g, "O11", "L") for u, v in pairwise(path)
        }
        on = nets.nth(1).evaluate("s => Array.from(s.querySelectorAll('.on'), e => e.dataset.edge)")
        assert set(on) == expected and nets.nth(0).locator(".on").count() == 0
        assert page.locator("math mfrac").count() > 0
        swept = nets.nth(2).locator(".swept[data-node]")
        assert swept.count() == len(b.sweep.lines) + len(net.parameters)
    finally:
        page.close()


def test_a_computational_graph_gets_its_page_beside_its_notes(tmp_path):
    written = write_course(["circuit"], str(tmp_path), fmt="all")
    assert sorted(p.suffix for p in written) == [".html", ".md", ".svg", ".tex"]
