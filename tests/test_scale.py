"""Behaviour at scale (issue 6): a billion paths, streamed paths, a lean ``--help``.

How fast is measured by ``python bench/run.py``, not here: these tests say what
the answers are when the path count explodes, and run in a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import reference as ref
import sympy as sp
import yaml
from click.testing import CliRunner

from derive.cli import main
from derive.evaluate import at, random_point
from derive.expand import derive
from derive.graph import load_network


def fully_connected(inputs: int, hidden: list[int]) -> str:
    """Return the YAML of a fully connected sigmoid network with one output and a bce loss."""
    layers = [{"inputs": [f"x{i}" for i in range(1, inputs + 1)]}]
    for depth, width in enumerate([*hidden, 1], start=1):
        layers.append({"neurons": [f"O{depth}_{j}" for j in range(1, width + 1)]})
    return yaml.safe_dump({"layers": layers, "loss": {"kind": "bce"}}, sort_keys=False)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def is_path(net, path: tuple[str, ...], of: str, wrt: str) -> bool:
    graph = net.graph()
    steps = zip(path, path[1:], strict=False)
    return path[0] == of and path[-1] == wrt and all(graph.has_edge(b, a) for a, b in steps)


@pytest.fixture(scope="module")
def ten_by_ten(tmp_path_factory):
    """The 3-10x10-1 network, a point, and its ``dL/dW1 --at --format json --max-paths 10``."""
    folder = tmp_path_factory.mktemp("ten_by_ten")
    net_file = folder / "deep.yaml"
    net_file.write_text(fully_connected(3, [10] * 10))
    net = load_network(net_file)
    point = random_point(net, seed=1)
    point_file = folder / "point.yaml"
    point_file.write_text(yaml.safe_dump(point))
    out = run(
        "dL/dW1",
        "--net",
        str(net_file),
        "--at",
        str(point_file),
        "--format",
        "json",
        "--max-paths",
        "10",
    )
    return net, point, json.loads(out)


def test_ten_by_ten_dL_dW1_counts_exactly_a_billion_paths(ten_by_ten):
    _, _, answer = ten_by_ten
    assert answer["path_count"] == 10**9
    assert answer["paths_truncated"] is True


def test_ten_by_ten_lists_ten_distinct_real_paths(ten_by_ten):
    net, _, answer = ten_by_ten
    paths = [tuple(p) for p in answer["paths"]]
    assert len(paths) == len(set(paths)) == 10
    assert all(is_path(net, p, "L", "W1") for p in paths)


def test_ten_by_ten_value_equals_central_differences_of_the_forward_pass(ten_by_ten):
    net, point, answer = ten_by_ten
    want = ref.central_difference(net, "L", "W1", point, h=1e-5)
    # The value is about 1e-6; rounding in the difference quotient is about 1e-11.
    assert answer["value"] == pytest.approx(want, abs=1e-9)


def test_ten_by_ten_concrete_where_evaluated_in_order_gives_the_value(ten_by_ten):
    net, point, answer = ten_by_ten
    where = answer["concrete"]["where"]
    env = ref.forward(net, point)
    names = {n: sp.Symbol(n) for n in [*net.names, *(name for name, _ in where)]}
    for name, formula in where:
        env[name] = ref.sympy_value(sp.sympify(formula, locals=names), env)
    got = ref.sympy_value(sp.sympify(answer["concrete"]["text"], locals=names), env)
    assert got == pytest.approx(answer["value"], rel=1e-9)


def test_ten_by_ten_factored_and_concrete_stay_polynomial_in_size(ten_by_ten):
    net, _, answer = ten_by_ten
    assert answer["factored"]["where"] and answer["concrete"]["where"]
    # A billion paths written out would be gigabytes; a few hundred characters per edge is linear.
    size = len(json.dumps(answer["factored"])) + len(json.dumps(answer["concrete"]))
    assert size < 500 * net.graph().number_of_edges()


def test_help_does_not_import_sympy():
    code = (
        "import sys\n"
        "from derive.cli import main\n"
        "try:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "print('sympy modules:', sorted(m for m in sys.modules if m.split('.')[0] == 'sympy'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "Usage" in result.stdout
    assert result.stdout.splitlines()[-1] == "sympy modules: []"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_streaming_every_path_writes_each_path_exactly_once(tmp_path, fmt):
    net_file = tmp_path / "mid.yaml"
    net_file.write_text(fully_connected(2, [8] * 5))
    net = load_network(net_file)
    count = derive(net, "L", "W1").path_count
    assert count == 8**4
    out = run("dL/dW1", "--net", str(net_file), "--max-paths", "all", "--format", fmt)
    if fmt == "json":
        answer = json.loads(out)
        assert answer["path_count"] == count and not answer["paths_truncated"]
        paths = [tuple(p) for p in answer["paths"]]
    else:
        # The whole report, with the numbered list of every path under its "Paths:" line.
        lines = out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("Paths: ")) + 1
        assert lines[start - 1].startswith(f"Paths: {count:,},")
        listed = lines[start : start + count]
        paths = [tuple(line.split(". ", 1)[1].split(" ← ")) for line in listed]
    assert len(paths) == len(set(paths)) == count
    assert all(is_path(net, p, "L", "W1") for p in paths)


def test_a_deep_chain_into_softmax_answers_without_multiplying_out(tmp_path):
    # Its one-hot form would multiply sixteen two-term factors out: 65,536 terms.
    layers = [
        {"inputs": ["x1"]},
        *({"neurons": [f"A{i}"]} for i in range(1, 17)),
        {"neurons": ["C1", "C2"], "activation": "softmax"},
    ]
    net_file = tmp_path / "chain.yaml"
    net_file.write_text(yaml.safe_dump({"layers": layers, "loss": {"kind": "cross_entropy"}}))
    net = load_network(net_file)
    point = random_point(net, seed=4)
    at_ = ",".join(f"{k}={v}" for k, v in point.items())
    answer = json.loads(run("dL/dW1", "--net", str(net_file), "--at", at_, "--format", "json"))
    assert "one_hot" not in answer["concrete"]
    # The gradient vanishes down the chain (about 1e-17), below what differences resolve.
    want = ref.sympy_value(sp.diff(ref.composed_loss(net), sp.Symbol("W1")), point)
    assert answer["value"] == pytest.approx(want, rel=1e-9)


# -- an MNIST-sized network given by counts (SPEC section 1, issue 10) ----------------

MNIST = """\
layers:
  - inputs: 784
  - neurons: 100
    activation: relu
    bias: true
  - neurons: 10
    activation: softmax
    bias: true
loss: {kind: cross_entropy}
"""


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist")
    net_file = folder / "mnist.yaml"
    net_file.write_text(MNIST)
    net = load_network(net_file)
    point = random_point(net, seed=5)
    point_file = folder / "point.yaml"
    point_file.write_text("".join(f"{k}: {v!r}\n" for k, v in point.items()))
    return net, point, point_file


def test_mnist_has_79510_parameters_and_one_weight_has_ten_paths(mnist):
    net, _, _ = mnist
    assert len(net.parameters) == 79_510
    d = derive(net, "L", "w1_5_300")
    assert d.path_count == 10
    assert d.paths[0] == ("L", "a2_1", "a1_5", "w1_5_300")


def test_mnist_point_file_reads_every_value_and_the_derivative_matches_differences(mnist):
    from derive.evaluate import read_point

    net, point, point_file = mnist
    assert read_point(str(point_file), net) == point
    # The weight into a live relu neuron, so the derivative is not 0 by the relu.
    live = next(j for j in range(1, 101) if ref.forward(net, point)[f"z1_{j}"] > 0)
    wrt = f"w1_{live}_300"
    value = at(derive(net, "L", wrt, max_paths=0), point).value
    assert value == pytest.approx(ref.central_difference(net, "L", wrt, point), rel=1e-5)


def test_random_point_follows_its_rule(mnist):
    from derive.evaluate import RANDOM_RULE

    net, point, _ = mnist
    assert "1/sqrt(fan-in)" in RANDOM_RULE
    assert all(abs(point[w]) <= 1 / 784**0.5 for w in net.weights if w.startswith("w1_"))
    assert all(abs(point[w]) <= 1 / 100**0.5 for w in net.weights if w.startswith("w2_"))
    assert all(0 <= point[x] <= 1 for x in net.inputs)
    assert sorted(point[t] for t in net.targets) == [0.0] * 9 + [1.0]
    assert random_point(net, seed=5) == point


def test_mnist_show_summarises_layers_as_matrix_shapes(mnist):
    from derive.show import describe

    net, _, _ = mnist
    text = describe(net)
    assert "100 x 784" in text and "10 x 100" in text
    assert len(text.splitlines()) < 30
