"""Random layered networks: derive agrees with finite differences, and counts its paths.

Each example is a network file written to disk and loaded like a user's: random
widths, depths, activations, losses, biases, dropped edges, skip edges and tied
weights, all given as explicit ``edges:``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import reference as ref
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st
from randomnets import SETTINGS, load, network_files, pick_point

from derive.evaluate import at
from derive.expand import Local, Sum, Whole, derive, multiply_out
from derive.printing import to_json, why_zero


def nodes_and_leaves(net) -> list[str]:
    return ref.leaves(net) + [n for layer in net.layers for n in layer]


@SETTINGS
@given(spec=network_files(), seed=st.integers(0, 10**6), pick=st.integers(0, 10**6))
def test_value_equals_central_differences_on_random_networks(tmp_path, spec, seed, pick):
    net = load(tmp_path, spec)
    point = pick_point(net, seed)
    leaves = ref.leaves(net)
    wrt = leaves[pick % len(leaves)]
    got = at(derive(net, "L", wrt), point).value
    want = ref.central_difference(net, "L", wrt, point)
    assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6), (spec, wrt, got, want)


@SETTINGS
@given(spec=network_files(), seed=st.integers(0, 10**6), pick=st.integers(0, 10**6))
def test_value_with_detail_equals_sympy_diff_on_random_networks(tmp_path, spec, seed, pick):
    net = load(tmp_path, spec)
    point = pick_point(net, seed)
    leaves = ref.leaves(net)
    wrt = leaves[pick % len(leaves)]
    got = at(derive(net, "L", wrt, detail=True), point).value
    want = ref.sympy_value(sp.diff(ref.composed_loss(net), sp.Symbol(wrt)), point)
    assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), (spec, wrt, got, want)


@SETTINGS
@given(spec=network_files(), pick=st.integers(0, 10**6), detail=st.booleans())
def test_path_count_equals_number_of_distinct_listed_paths(tmp_path, spec, pick, detail):
    net = load(tmp_path, spec)
    names = nodes_and_leaves(net)
    pairs = [("L", n) for n in names] + list(itertools.permutations(names, 2))
    of, wrt = pairs[pick % len(pairs)]
    d = derive(net, of, wrt, detail=detail, max_paths=None)
    listed = list(d.iter_paths())
    assert d.path_count == len(listed) == len(set(listed)), (spec, of, wrt)
    assert all(p[0] == of and p[-1] == wrt for p in listed)
    graph = net.graph(detail)
    assert all(graph.has_edge(b, a) for p in listed for a, b in zip(p, p[1:], strict=False))


@SETTINGS
@given(spec=network_files(), pick=st.integers(0, 10**6), detail=st.booleans())
def test_path_count_is_zero_exactly_when_nothing_connects_the_two(tmp_path, spec, pick, detail):
    net = load(tmp_path, spec)
    names = ref.leaves(net) + inner_nodes(net, detail) + ["L"]
    pairs = [("L", n) for n in names] + list(itertools.permutations(names, 2))
    of, wrt = pairs[pick % len(pairs)]
    d = derive(net, of, wrt, detail=detail)
    assert (d.path_count > 0) == ref.depends_on(net, of, wrt), (spec, of, wrt)
    assert bool(why_zero(d)) == (d.path_count == 0)


def _expand(term, where: dict) -> list[tuple[Local, ...]]:
    """Multiply a factored term out, replacing each named whole derivative by its definition."""
    if isinstance(term, Whole):
        return _expand(where[term], where)
    if isinstance(term, Local):
        return [(term,)]
    if isinstance(term, Sum):
        return [p for t in term.terms for p in _expand(t, where)]
    products: list[tuple[Local, ...]] = [()]
    for f in term.factors:
        products = [p + q for p in products for q in _expand(f, where)]
    return products


@SETTINGS
@given(spec=network_files(), pick=st.integers(0, 10**6), detail=st.booleans())
def test_factored_form_multiplied_out_equals_expansion(tmp_path, spec, pick, detail):
    net = load(tmp_path, spec)
    leaves = ref.leaves(net)
    wrt = leaves[pick % len(leaves)]
    d = derive(net, "L", wrt, detail=detail, max_paths=None)
    assume(not d.is_zero)
    where = dict(d.factored_where)
    if not where:
        assert Counter(multiply_out(d.factored)) == Counter(d.expansion)
    assert Counter(_expand(d.factored, where)) == Counter(d.expansion), (spec, wrt)


@SETTINGS
@given(spec=network_files(), seed=st.integers(0, 10**6), pick=st.integers(0, 10**6))
def test_concrete_text_evaluates_to_the_derivative_on_random_networks(tmp_path, spec, seed, pick):
    net = load(tmp_path, spec)
    point = pick_point(net, seed)
    leaves = ref.leaves(net)
    wrt = leaves[pick % len(leaves)]
    data = to_json(derive(net, "L", wrt))
    names = {n: sp.Symbol(n) for n in net.names}
    values = ref.forward(net, point)
    for defined, text in data["concrete"].get("where", []):
        names[defined] = sp.Symbol(defined)
        values[defined] = ref.sympy_value(sp.sympify(text, locals=names), values)
    got = ref.sympy_value(sp.sympify(data["concrete"]["text"], locals=names), values)
    want = ref.central_difference(net, "L", wrt, point)
    assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6), (spec, wrt, data["concrete"])
    if "one_hot" in data["concrete"]:  # random_point gives cross_entropy one-hot targets
        text = data["concrete"]["one_hot"]["text"]
        got = ref.sympy_value(sp.sympify(text, locals=names), values)
        assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6), (spec, wrt, text)


def inner_nodes(net, detail: bool) -> list[str]:
    neurons = [n for layer in net.layers for n in layer]
    return neurons + ([net.neurons[n].preact for n in neurons] if detail else [])


@SETTINGS
@given(
    spec=network_files(),
    seed=st.integers(0, 10**6),
    pick=st.integers(0, 10**6),
    detail=st.booleans(),
)
def test_inner_derivative_equals_central_differences_on_random_networks(
    tmp_path, spec, seed, pick, detail
):
    net = load(tmp_path, spec)
    point = pick_point(net, seed)
    inner = inner_nodes(net, detail)
    pairs = [(a, b) for a in [*inner, "L"] for b in inner if a != b]
    of, wrt = pairs[pick % len(pairs)]
    got = at(derive(net, of, wrt, detail=detail), point).value
    want = ref.central_difference(net, of, wrt, point)
    assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6), (spec, of, wrt, got, want)
