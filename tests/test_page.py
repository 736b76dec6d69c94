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
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
import reference as ref
from conftest import small_networks
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
    sources = [*small_networks(), *seeded_files((5,)), str(hostile)]
    write_course(sources, str(out), fmt="html")
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


def test_choosing_each_parameter_lights_exactly_its_paths_and_each_term_its_own(pages):
    for name, (net, page, _) in pages[0].items():
        g = net.graph()
        drawn = set(page.eval_on_selector_all("[data-edge]", "es => es.map(e => e.dataset.edge)"))
        seen = page.evaluate(EXPLORE)
        assert [p for p, *_ in seen] == net.parameters, name
        for p, selected, on, terms in seen:
            paths = [tuple(reversed(path)) for path in nx.all_simple_paths(g, p, net.loss)]
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


def test_k_sweep_steps_mark_k_nodes_each_showing_its_gradient(pages):
    for name, (net, page, _) in pages[0].items():
        point = page.evaluate("DATA.point")
        steps, k = page.evaluate("DATA.steps.length"), 0
        for button in ("next", "next", "next", "prev", "next"):
            page.dispatch_event(f'button[data-step="{button}"]', "click")
            k = min(k + 1, steps) if button == "next" else max(k - 1, 0)
            swept = page.eval_on_selector_all(
                ".swept[data-node]",
                """ns => ns.map(n => [n.dataset.node, n.querySelector('.grad').textContent,
                    getComputedStyle(n.querySelector('.grad')).visibility])""",
            )
            assert len({node for node, _, _ in swept}) == k, name
            for node, shown, visible in swept:
                assert visible == "visible"
                expected = ref.central_difference(net, net.loss, node, point)
                assert same_4_figures(float(shown), expected), (name, node, shown, expected)


def same_4_figures(shown: float, expected: float) -> bool:
    """Whether ``shown`` is ``expected`` to 4 significant figures (half a unit of the 4th)."""
    if expected == 0 or abs(expected) < 1e-9:
        return abs(shown) < 1e-9
    unit = 10 ** (math.floor(math.log10(abs(expected))) - 3)
    return abs(shown - expected) <= 0.5 * unit * 1.0001 + 1e-12


def test_a_nudge_shows_the_forward_pass_and_the_linear_prediction(pages):
    for name, (net, page, _) in pages[0].items():
        point = page.evaluate("DATA.point")
        p = net.parameters[-1]
        delta = 0.37
        page.eval_on_selector(
            f'input[data-nudge="{p}"]',
            f"s => {{ s.value = '{delta}'; s.dispatchEvent(new Event('input')); }}",
        )
        moved = {**point, p: point[p] + delta}
        loss = ref.forward(net, moved)[net.loss]
        base = ref.forward(net, point)[net.loss]
        predicted = base + ref.central_difference(net, net.loss, p, point) * delta
        assert same_4_figures(float(page.text_content("[data-loss]")), loss), name
        assert same_4_figures(float(page.text_content("[data-predicted]")), predicted), name
        page.dispatch_event("[data-reset]", "click")
        assert same_4_figures(float(page.text_content("[data-loss]")), base), name


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
    net, page, errors = pages[0]["hostile"]
    assert errors == []
    assert page.eval_on_selector_all("script", "s => s.length") == 2  # the data and the script
    assert page.eval_on_selector_all("img", "s => s.length") == 0
    assert page.text_content("h1") == net.title
    assert net.description.strip() in page.text_content(".description")
    assert page.text_content('[data-node="O1"] text') == "ŷₒᵤₜ"  # its latex: in the SVG
    assert page.text_content('button[data-param="W1"]') == "W1"  # MathML: W with subscript 1


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


def test_a_computational_graph_gets_no_page_and_says_so(tmp_path):
    from clirun import run

    r = run(tmp_path, "notes", "--net", "circuit", "--out", "out", "--format", "html")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "layered networks" in r.stderr
    assert not (tmp_path / "out").exists()
    r = run(tmp_path, "notes", "--net", "circuit", "--out", "out", "--format", "all")
    assert r.returncode == 0 and sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [
        ".md",
        ".tex",
    ]
