"""What a newcomer meets in the first ten minutes: misspelt commands, upside-down derivatives,
a file without values, the hints they are given, and the objects they see in a notebook."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import reference as ref
import sympy as sp
from clirun import run

import derive
from derive.evaluate import RANDOM_RULE
from derive.notes.build import example_point

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# One neuron and a loss, with no values: the cheapest network a newcomer would write.
NO_VALUES = "layers:\n  - inputs: [x]\n  - neurons: [h]\n  - neurons: [o]\nloss: {kind: mse}\n"
# Matt Mazur's "A Step by Step Backpropagation Example", which publishes w1+ = 0.149780716
# after one step with eta = 0.5 (and E_total = 0.298371109).
MAZUR = """\
layers:
  - inputs: [i1, i2]
  - neurons: [h1, h2]
    bias: [b1, b1]
  - neurons: [o1, o2]
    bias: [b2, b2]
edges:
  {i1 -> h1: w1, i2 -> h1: w2, i1 -> h2: w3, i2 -> h2: w4,
   h1 -> o1: w5, h2 -> o1: w6, h1 -> o2: w7, h2 -> o2: w8}
loss: {name: E, kind: half_squared_error, target: [t1, t2]}
values: {i1: 0.05, i2: 0.10, w1: 0.15, w2: 0.20, w3: 0.25, w4: 0.30, w5: 0.40, w6: 0.45,
         w7: 0.50, w8: 0.55, b1: 0.35, b2: 0.60, t1: 0.01, t2: 0.99}
"""


def test_a_misspelt_command_is_named_and_the_right_command_line_suggested(tmp_path: Path):
    r = run(tmp_path, "expnad", "dL/dW1", "--net", "two_hidden")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (
        "derive: 'expnad' is not a command; did you mean: derive expand dL/dW1 --net two_hidden\n"
    )


def test_a_word_that_is_neither_command_nor_derivative_lists_the_commands(tmp_path: Path):
    r = run(tmp_path, "frobnicate", "dL/dW1", "--net", "two_hidden")
    assert r.returncode == 2
    assert r.stderr.startswith("derive: 'frobnicate' is not a command; the commands: expand,")


def test_an_upside_down_derivative_stays_0_and_names_the_one_that_exists(tmp_path: Path):
    r = run(tmp_path, "dW1/dL", "--net", "two_hidden")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "dW1/dL = 0",
        "  W1 is a weight: it depends on nothing.",
        "  Did you mean dL/dW1? It is not 0.",
    ]
    out = json.loads(run(tmp_path, "dO11/dL", "--net", "two_hidden", "--format", "json").stdout)
    assert (out["value"] if "value" in out else 0, out["did_you_mean"]) == (0, "dL/dO11")
    # Neither way round depends on the other: nothing to suggest.
    assert "Did you mean" not in run(tmp_path, "dO11/dW5", "--net", "two_hidden").stdout


def test_backprop_on_a_file_without_values_says_how_to_choose_a_point(tmp_path: Path):
    (tmp_path / "mine.yaml").write_text(NO_VALUES)
    r = run(tmp_path, "backprop", "--net", "mine.yaml", "--lr", "0.1")
    assert r.returncode == 2
    assert "(mine.yaml has no values:)" in r.stderr
    assert "--at FILE or --at name=value,..., or draw a random point with --at random:0" in r.stderr
    shown = run(tmp_path, "show", "--net", "mine.yaml").stdout
    assert shown.endswith(
        "\nValues: none in the file; give a point with --at FILE or --at random:SEED\n"
    )


def test_notes_on_a_file_without_values_say_which_point_they_use(tmp_path: Path):
    (tmp_path / "mine.yaml").write_text(NO_VALUES)
    r = run(tmp_path, "notes", "--net", "mine.yaml", "--out", "n", "--digits", "6")
    assert r.returncode == 0
    assert r.stderr == (
        "derive: warning: mine.yaml has no values:, so the notes use a random point (seed 0);"
        " choose the point with --at FILE or --at random:SEED\n"
    )
    md = (tmp_path / "n" / "mine.md").read_text()
    assert "The network file gives no values, so they are random (seed 0):" in md
    net = derive.load(tmp_path / "mine.yaml")
    loss = ref.forward(net, derive.evaluate.random_point(net, 0))["L"]
    assert f"= {loss:#.6g}`$" in md  # --digits 6
    # --at chooses the point: random:SEED, or a file or pairs read like everywhere else.
    assert example_point(net, "random:5")[1:] == ("drawn", 5)
    r = run(tmp_path, "notes", "--net", "mine.yaml", "--out", "n", "--at", "Qqq=1")
    assert r.returncode == 2 and "'Qqq' is not a name in the network" in r.stderr


def test_a_hint_naming_a_command_runs_as_written(tmp_path: Path):
    (tmp_path / "mine.yaml").write_text(NO_VALUES)
    for net in ("two_hidden", "mine.yaml"):
        for args in (["dL/dW1", "--at", "Qqq=1"], ["dL/dQqq"]):
            r = run(tmp_path, *args, "--net", net)
            assert r.returncode == 2
            command = r.stderr.split("see the names with: ")[1].strip()
            shown = run(tmp_path, *shlex.split(command)[1:])
            assert (shown.returncode, shown.stderr) == (0, ""), command


def test_backprop_and_expand_list_the_values_in_the_networks_order(tmp_path: Path):
    # The point file lists the values backwards: both commands still use the network's order.
    net = derive.load("simple")
    (tmp_path / "p.yaml").write_text("".join(f"{k}: 0.5\n" for k in reversed(net.values)))

    def listed(*args: str) -> list[str]:
        out = run(tmp_path, *args, "--net", "simple", "--at", "p.yaml").stdout
        line = next(x for x in out.splitlines() if x.lstrip().startswith("values:"))
        return [part.split(" = ")[0] for part in line.split(":", 1)[1].strip().split(", ")]

    network_order = [n for n in net.names if n in net.values]
    assert listed("backprop") == network_order
    assert listed("dL/dW1") == network_order


def test_the_readme_stands_on_its_own():
    assert "SPEC" not in README
    for path in [*(ROOT / "derive").rglob("*.py"), *(ROOT / "templates").iterdir()]:
        assert "SPEC section" not in path.read_text(encoding="utf-8"), path
    # What --at random does, as the program itself prints it.
    assert RANDOM_RULE in " ".join(README.split())
    # One npm instruction: the README's is the skip reason of the KaTeX and Mermaid tests.
    from renderers import _INSTALL_HINTS

    for tool in ("katex", "mermaid"):
        assert "`PUPPETEER_SKIP_DOWNLOAD=1 npm ci`" in _INSTALL_HINTS[tool]
    assert "`PUPPETEER_SKIP_DOWNLOAD=1 npm ci`" in README


def test_the_readmes_backprop_snippet_is_the_real_output_cut_with_ellipses(tmp_path: Path):
    snippet = README.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    real = run(tmp_path, "backprop", "--net", "simple").stdout.splitlines()
    for line in snippet:
        if line.strip() == "...":
            continue
        if line.endswith(" ..."):  # a line cut short
            assert any(r.startswith(line.removesuffix(" ...")) and r != line for r in real), line
        else:
            assert line in real, line


def test_a_network_and_a_check_read_well_in_a_notebook():
    assert repr(derive.load("two_hidden")) == (
        "<Network two_hidden: 3 inputs, 5 neurons, 12 parameters>"
    )
    wrong = derive.check_answer(
        derive.load("two_hidden"), "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"
    )
    assert repr(wrong) == "<CheckResult dL/dW1 (two_hidden): does not match (1 reason)>"
    # The sweep as data prints in one line, not its every term (MNIST's has 89,600).
    simple = derive.load("simple")
    swept = derive.sweep.values(simple, simple.values)
    loss = ref.forward(simple, simple.values)["L"]
    assert repr(swept.sweep) == "<Sweep of simple: 2 lines, 4 gradients>"
    assert repr(swept) == f"<Values of simple at a point, L = {loss:.6g}: 4 gradients>"


def test_an_unknown_network_name_suggests_only_close_names():
    for name, hint in (
        ("nonexistent_net", "give a path"),
        ("two_hiden", "did you mean two_hidden"),
    ):
        try:
            derive.differentiate(name, "dL/dW1")
        except derive.errors.DeriveError as err:
            assert err.hint.startswith(hint), err.hint
        else:
            raise AssertionError(name)


def test_a_published_example_can_be_read_to_its_published_digits(tmp_path: Path):
    (tmp_path / "mazur.yaml").write_text(MAZUR)
    common = ["--net", "mazur.yaml", "--lr", "0.5", "--digits", "9"]
    text = run(tmp_path, "dE/dw1", *common).stdout
    assert text.splitlines()[-1].endswith("= 0.149780716")
    assert "E = 0.298371109" in text
    swept = run(tmp_path, "backprop", *common, "--at", "mazur.yaml").stdout
    assert "w1 ← w1 − η·dE/dw1 = 0.150000000 − 0.500000000·(0.000438567734) = 0.149780716" in swept
    latex = run(tmp_path, "dE/dw1", *common, "--format", "tex").stdout  # tex: latex's extension
    assert "= 0.149780716 \\]" in latex
    # JSON stays at full precision, --digits or not.
    out = json.loads(run(tmp_path, "dE/dw1", *common, "--format", "json").stdout)
    assert out["update"]["new"] == pytest.approx(0.149780716, abs=5e-10)
    assert len(repr(out["update"]["new"])) > 12


def test_check_prints_its_numbers_to_the_digits_asked(tmp_path: Path):
    net = derive.load("simple")
    truth = ref.sympy_value(sp.diff(ref.composed_loss(net), sp.Symbol("W4")), net.values)
    r = run(tmp_path, "check", "dL/dW4 = 0.5", "--net", "simple", "--digits", "9")
    assert f"is {truth:#.9g}\n" in r.stdout


@pytest.mark.parametrize("args", [["dL/dW1"], ["backprop"]], ids=["expand", "backprop"])
def test_the_json_gives_every_nodes_forward_value(tmp_path: Path, args: list[str]):
    net = derive.load("two_hidden")
    out = json.loads(
        run(tmp_path, *args, "--net", "two_hidden", "--at", "random:3", "--format", "json").stdout
    )
    truth = ref.forward(net, out["point"])
    computed = [n for n in net.names if n not in out["point"]]
    assert list(out["forward"]) == computed and "L" in computed
    assert out["forward"] == pytest.approx({n: truth[n] for n in computed}, rel=1e-12)


def test_derive_help_and_derive_help_command_show_the_help(tmp_path: Path):
    assert run(tmp_path, "help").stdout == run(tmp_path, "--help").stdout
    bare = run(tmp_path)
    assert (bare.returncode, bare.stdout, bare.stderr) == (0, run(tmp_path, "--help").stdout, "")
    assert run(tmp_path, "help", "notes").stdout == run(tmp_path, "notes", "--help").stdout


def test_a_network_given_without_net_gets_the_command_line_with_it(tmp_path: Path):
    for args, again in (
        (["backprop", "two_hidden"], "derive backprop --net two_hidden"),
        (
            ["dL/dW1", "two_hidden.yaml", "--lr", "0.1"],
            "derive dL/dW1 --net two_hidden.yaml --lr 0.1",
        ),
    ):
        r = run(tmp_path, *args)
        assert (r.returncode, r.stderr) == (
            2,
            f"derive: the network goes after --net; did you mean: {again}\n",
        )
        assert run(tmp_path, *shlex.split(again)[1:]).returncode == 0


def test_check_without_an_answer_shows_a_check_that_runs_as_written(tmp_path: Path):
    (tmp_path / "mazur.yaml").write_text(MAZUR)  # a shared bias: the example takes a weight
    # micrograd's every leaf feeds several nodes: the example is a line of the sweep.
    for net in ("two_hidden", "mazur.yaml", "micrograd"):
        r = run(tmp_path, "check", "--net", net)
        assert r.returncode == 2
        command = r.stderr.split("one answer such as: ")[1].strip()
        shown = run(tmp_path, *shlex.split(command)[1:])
        assert (shown.returncode, shown.stderr) == (0, ""), command


def test_a_point_file_that_is_not_there_is_named(tmp_path: Path):
    r = run(tmp_path, "dL/dW1", "--net", "two_hidden", "--at", "point.yaml")
    assert r.returncode == 2
    assert r.stderr.startswith(
        "derive: --at: there is no point file 'point.yaml'; give a YAML file"
    )


@pytest.mark.parametrize(
    "text, shown",
    [
        ("loss: bce\n", "5:7: loss must be a mapping (key: value lines); write loss: {kind: bce}"),
        (
            "loss: {kind: mse}\n",
            "2:13: 'x1, x2' is one string, not a list of names; write them in brackets: [x1, x2]",
        ),
    ],
    ids=["loss-as-a-word", "names-without-brackets"],
)
def test_a_newcomers_network_file_mistake_says_what_to_write(tmp_path: Path, text: str, shown: str):
    inputs = "[x1, x2]" if "bce" in text else "x1, x2"
    (tmp_path / "n.yaml").write_text(
        f"layers:\n  - inputs: {inputs}\n  - neurons: [h]\n  - neurons: [o]\n{text}"
    )
    r = run(tmp_path, "dL/dW1", "--net", "n.yaml")
    assert (r.returncode, r.stderr) == (2, f"derive: n.yaml:{shown}\n")


def test_a_misspelt_course_file_key_suggests_networks(tmp_path: Path):
    (tmp_path / "course.yaml").write_text("nets: [simple, two_hidden]\n")
    r = run(tmp_path, "notes", "--net", "course.yaml", "--out", "n")
    assert r.returncode == 2
    assert r.stderr.startswith("derive: course.yaml:1:1: unknown key 'nets'; did you mean ")
    assert "'networks'" in r.stderr


@pytest.mark.parametrize(
    "args, said",
    [
        (
            ["dL/dw1", "--net", "two_hidden"],
            "'w1' is not a name in the network 'two_hidden'; did you mean W1 or",
        ),
        (
            ["dL/dW1", "--net", "two_hidden", "--at", "W1=abc"],
            "--at, column 4: the value of W1 must be a number, not 'abc'",
        ),
        (
            ["dL/dW1", "--net", "two_hidden", "--digts", "3"],
            "No such option '--digts'. Did you mean '--digits'? See '",
        ),
        (
            ["check", "dL/dW1 = dL/dO31*dO31/dh3*dh3/dW1", "--net", "two_hidden"],
            "column 24: unknown name 'h3' in a derivative of the answer;",
        ),
    ],
    ids=["case-slip", "at-column", "option-typo", "answer-name"],
)
def test_a_newcomers_slip_is_said_in_their_terms(tmp_path: Path, args: list[str], said: str):
    r = run(tmp_path, *args)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("derive: " + said), r.stderr


def test_a_bias_that_is_no_flag_and_no_name_lists_what_bias_takes(tmp_path: Path):
    (tmp_path / "n.yaml").write_text(
        "layers:\n  - inputs: [x]\n  - neurons: [o]\n    bias: yes please\nloss: {kind: mse}\n"
    )
    r = run(tmp_path, "show", "--net", "n.yaml")
    assert r.returncode == 2
    assert r.stderr.startswith("derive: n.yaml:4:11: bias: 'yes please' is neither true, false")
    assert "bias: [b1, b2]" in r.stderr


def test_a_learning_rate_updates_parameters_not_inputs(tmp_path: Path):
    r = run(tmp_path, "dL/dx1", "--net", "two_hidden", "--lr", "0.1", "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout).get("update") is None
    text = run(tmp_path, "dL/dx1", "--net", "two_hidden", "--lr", "0.1").stdout
    assert "x1_new" not in text
    assert "update:   none: x1 is an input, data, not a learned parameter" in text


def test_a_graph_file_serves_as_its_own_point(tmp_path: Path):
    circuit = Path(derive.__file__).resolve().parent / "networks" / "circuit.yaml"
    if not circuit.exists():
        circuit = ROOT / "networks" / "circuit.yaml"
    r = run(tmp_path, "df/dx", "--net", "circuit", "--at", str(circuit))
    assert r.returncode == 0, r.stderr
    # CS231n's circuit f = (x + y) z at its values x = -2, y = 5, z = -4: df/dx = z = -4.
    assert "df/dx = -4.000" in r.stdout


@pytest.mark.parametrize(
    "name", ["two_hidden", "softmax", "chain_3b1b", str(ROOT / "tests" / "four_hidden.yaml")]
)
def test_the_answers_files_notation_examples_use_the_networks_own_names(name: str):
    """A new user's answers file explained the notation with two_hidden's dO31/dW12."""
    import re

    import networkx as nx

    from derive.graph import load_network
    from derive.notes.exercises import notation_examples

    net = load_network(name)
    path, whole = notation_examples(net)
    factors = [re.fullmatch(r"d(\w+)/d(\w+)", f).groups() for f in path.split("*")]
    g = net.graph()
    # one path of the loss: its factors chain, each an edge of the graph, down to a weight
    assert factors[0][0] == net.loss and factors[-1][1] in net.weights
    assert all(a[1] == b[0] for a, b in zip(factors, factors[1:], strict=False))
    assert all(g.has_edge(b, a) for a, b in factors)
    of, wrt = re.fullmatch(r"d(\w+)/d(\w+)", whole).groups()
    assert of == net.loss and net.kind(wrt) == "neuron" and nx.has_path(g, wrt, net.loss)


def test_check_takes_a_file_of_answers_without_file_and_names_one_that_is_missing(tmp_path):
    # derive check hw.md read 'hw' as an answer: "column 1: unknown name 'hw'".
    (tmp_path / "hw.md").write_text("dL/dW4 = dL/dO2*dO2/dW4\n", encoding="utf-8")
    graded = run(tmp_path, "check", "hw.md", "--net", "simple")
    assert graded.returncode == 0 and "1 answer: 1 matches" in graded.stdout
    missing = run(tmp_path, "check", "hw2.md", "--net", "simple")
    assert missing.returncode == 2
    assert missing.stderr == "derive: hw2.md: there is no such file of answers; check its path\n"
