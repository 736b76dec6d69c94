"""Bad network files (SPEC section 1): one line naming file, line, column and the fix; exit 2."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import clirun
import pytest
from conftest import small_networks

from derive.errors import DeriveError
from derive.graph import Network, bundled_networks, load_network, parse_derivative
from derive.netfile import read_spec

GOOD = """\
layers:
  - inputs: [x1, x2]
  - neurons: [O1]
"""

# (name, file text, (line, col), words the message must contain)
BAD = [
    ("malformed_yaml", "layers:\n  - inputs: [x1\n  - neurons: [O1]\n", (3, 12), "malformed YAML"),
    ("unknown_top_key", GOOD + "los:\n  kind: bce\n", (4, 1), "did you mean 'loss'"),
    (
        "unknown_layer_key",
        "layers:\n  - inputs: [x1]\n  - neurons: [O1]\n    activaton: relu\n",
        (4, 5),
        "did you mean 'activation'",
    ),
    (
        "name_used_twice",
        "layers:\n  - inputs: [x1, O1]\n  - neurons: [O1]\n",
        (3, 15),
        "used twice",
    ),
    ("key_written_twice", "name: a\nname: b\n" + GOOD, (2, 1), "written twice"),
    ("edge_to_unknown_node", GOOD + "edges:\n  x9 -> O1: W1\n", (5, 3), "unknown node 'x9'"),
    (
        "edge_backwards",
        "layers:\n  - inputs: [x1]\n  - neurons: [O1]\n  - neurons: [O2]\n"
        "edges:\n  x1 -> O1: W1\n  O1 -> O2: W2\n  O2 -> O1: W3\n",
        (8, 3),
        "backwards",
    ),
    (
        "edge_within_layer_is_a_cycle",
        "layers:\n  - inputs: [x1]\n  - neurons: [O1, O2]\n"
        "edges:\n  x1 -> O1: W1\n  O1 -> O2: W2\n",
        (6, 3),
        "cycle",
    ),
    (
        "neuron_without_inputs",
        "layers:\n  - inputs: [x1]\n  - neurons: [O1, O2]\n"
        "  - neurons: [O3]\nedges:\n  x1 -> O1: W1\n  O1 -> O3: W2\n",
        (6, 3),
        "'O2' has no inputs",
    ),
    ("unknown_activation", GOOD + "    activation: sigmod\n", (4, 17), "did you mean 'sigmoid'"),
    (
        "activation_in_the_wrong_case",
        GOOD + "    activation: ReLU\n",
        (4, 17),
        "did you mean 'relu'",
    ),
    ("unknown_loss", GOOD + "loss:\n  kind: mae\n", (5, 9), "unknown loss kind 'mae'"),
    (
        "too_few_targets",
        "layers:\n  - inputs: [x1]\n  - neurons: [O1, O2]\nloss:\n  target: [y1]\n",
        (5, 11),
        "1 target(s) for 2 output(s)",
    ),
    ("invalid_name", "layers:\n  - inputs: [1x]\n  - neurons: [O1]\n", (2, 14), "not a valid name"),
    ("empty_file", "", (1, 1), "empty"),
    ("value_not_a_number", GOOD + "values:\n  x1: abc\n", (5, 7), "must be a number"),
    ("value_of_unknown_name", GOOD + "values:\n  x9: 1\n", (5, 3), "unknown name 'x9'"),
    (
        "auto_weight_name_clash",
        "layers:\n  - inputs: [W1]\n  - neurons: [O1]\n",
        (2, 14),
        "automatic name of the weight",
    ),
    ("bias_count", GOOD + "    bias: [b1, b2]\n", (4, 11), "1 neurons but 2 bias names"),
    ("count_zero", "layers:\n  - inputs: 0\n  - neurons: [O1]\n", (2, 13), "1 or more, not '0'"),
    ("count_negative", "layers:\n  - inputs: [x]\n  - neurons: -3\n", (3, 14), "not '-3'"),
    ("count_not_whole", "layers:\n  - inputs: [x]\n  - neurons: 2.5\n", (3, 14), "whole number"),
    (
        "latex_input_refused",
        GOOD + 'latex:\n  O1: "\\\\input{/etc/passwd}"\n',
        (5, 7),
        "uses \\input, which is not allowed",
    ),
    (
        "latex_write18_refused",
        GOOD + 'latex:\n  x1: "x\\\\write18{ls}"\n',
        (5, 7),
        "uses \\write, which",
    ),
    ("value_for_a_neuron", GOOD + "values:\n  O1: 0.5\n", (5, 3), "computed by the forward pass"),
    (
        "first_layer_not_inputs",
        "layers:\n  - neurons: [O1]\n  - neurons: [O2]\n",
        (2, 5),
        "only 'inputs'",
    ),
]


@pytest.mark.parametrize(("text", "where", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file_is_one_error_at_its_line_and_column(tmp_path: Path, text: str, where, words: str):
    path = tmp_path / "net.yaml"
    path.write_text(text)
    with pytest.raises(DeriveError) as caught:
        Network(read_spec(path))
    err = caught.value
    assert (err.line, err.col) == where
    assert words in str(err)
    assert str(err).startswith(f"{path}:{where[0]}:{where[1]}: ")
    assert "\n" not in str(err)


@pytest.mark.parametrize(
    ("text", "where", "words"), [b[1:] for b in BAD[:4]], ids=[b[0] for b in BAD[:4]]
)
def test_bad_file_on_the_command_line_exits_2_without_traceback(tmp_path: Path, text, where, words):
    path = tmp_path / "net.yaml"
    path.write_text(text)
    # The first case runs the real script (a traceback there is the user's); the rest in-process.
    runner = clirun.script if text == BAD[0][1] else clirun.run
    run = runner(tmp_path, "dL/dW1", "--net", str(path))
    assert run.returncode == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0
    assert f"net.yaml:{where[0]}:{where[1]}" in run.stderr


@pytest.mark.parametrize(
    ("written", "value"), [("1e-3", 0.001), (".5", 0.5), ("-2", -2.0), ("3", 3.0)]
)
def test_numbers_are_numbers_however_written(tmp_path: Path, written: str, value: float):
    path = tmp_path / "net.yaml"
    path.write_text(GOOD + f"values:\n  x1: {written}\n")
    assert read_spec(path).values["x1"] == value


def test_weights_are_numbered_by_destination_then_source():
    net = load_network("two_hidden")
    assert net.weight_edges["W1"] == [("x1", "O11")]
    assert net.weight_edges["W4"] == [("x1", "O12")]
    assert net.weight_edges["W7"] == [("O11", "O21")]
    assert net.weight_edges["W12"] == [("O22", "O31")]


def test_tied_weight_is_one_parameter_on_several_edges():
    net = load_network("two_hidden_tied")
    assert net.weight_edges["W1"] == [("x1", "O11"), ("x1", "O12")]
    assert net.parameters.count("W1") == 1


def test_auto_biases_are_numbered_in_neuron_order():
    net = load_network("softmax")
    assert net.biases == {"b1": "h1", "b2": "h2", "b3": "O1", "b4": "O2", "b5": "O3"}


@pytest.mark.parametrize(("neuron", "z"), [("O11", "z11"), ("aL", "zL"), ("a_L", "z_L")])
def test_preactivation_default_names(tmp_path: Path, neuron: str, z: str):
    path = tmp_path / "net.yaml"
    path.write_text(f"layers:\n  - inputs: [x]\n  - neurons: [{neuron}]\n")
    assert load_network(path).neurons[neuron].preact == z


def test_preactivation_name_that_collides_gets_z_underscore_neuron(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text("layers:\n  - inputs: [z1]\n  - neurons: [O1]\n")
    assert load_network(path).neurons["O1"].preact == "z_O1"


def test_default_typesetting_subscripts_digits_and_latex_overrides(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "layers:\n  - inputs: [x1]\n  - neurons: [O11]\n  - neurons: [a_L]\n"
        'latex:\n  x1: "\\\\xi"\n'
    )
    names = load_network(path).latex_names
    assert (names["O11"], names["a_L"], names["W1"], names["x1"]) == (
        "O_{11}",
        "a_{L}",
        "W_{1}",
        r"\xi",
    )


def test_bare_name_finds_a_bundled_network_from_any_folder(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_network("two_hidden.yaml").name == load_network("two_hidden").name == "two_hidden"


def test_unknown_network_name_suggests_bundled_ones_or_the_file_beside_it(tmp_path, monkeypatch):
    with pytest.raises(DeriveError, match="did you mean two_hidden"):
        load_network("two_hiden")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net221.yaml").write_text("layers:\n  - inputs: [x]\n  - neurons: [o]\n")
    with pytest.raises(DeriveError, match=r"did you mean net221\.yaml\?$"):
        load_network("net221")
    with pytest.raises(DeriveError, match="give a path to a .yaml file"):  # not 'mnist?'
        load_network("nonexist.yaml")


# -- layer sizes (SPEC section 1) -------------------------------------------------------

COUNTED = """\
layers:
  - inputs: 3
  - neurons: 2
    activation: relu
    bias: true
  - neurons: 2
    activation: softmax
loss: {kind: cross_entropy}
"""


def test_counted_layers_get_layer_indexed_names(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text(COUNTED)
    net = load_network(path)
    assert net.inputs == ["x1", "x2", "x3"]
    assert net.layers == [["a1_1", "a1_2"], ["a2_1", "a2_2"]]
    assert net.neurons["a1_2"].preact == "z1_2"
    assert net.neurons["a1_2"].bias == "b1_2"
    assert net.weight_edges["w1_2_3"] == [("x3", "a1_2")]
    assert net.weight_edges["w2_1_2"] == [("a1_2", "a2_1")]
    assert net.targets == ["y1", "y2"]


def test_layer_indexed_names_typeset_with_the_layer_as_a_superscript(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text(COUNTED)
    tex = load_network(path).latex_names
    assert (tex["a1_2"], tex["w2_1_2"], tex["b1_1"], tex["x3"]) == (
        "a^{(1)}_{2}",
        "w^{(2)}_{1,2}",
        "b^{(1)}_{1}",
        "x_{3}",
    )


def test_network_over_the_parameter_limit_is_refused_before_it_is_built(tmp_path: Path):
    path = tmp_path / "net.yaml"  # issue 21: show on 784-4000-10 took 20 s and 2 GB
    path.write_text("layers:\n  - inputs: 784\n  - neurons: 4000\n  - neurons: 10\n")
    with pytest.raises(
        DeriveError, match="3,180,010 parameters, over the limit of 300,000"
    ) as caught:
        read_spec(path)
    assert (caught.value.line, caught.value.col) == (2, 3)


def test_words_after_an_underscore_are_typeset_upright(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text("layers:\n  - inputs: [a_prev]\n  - neurons: [y_hat]\n")
    tex = load_network(path).latex_names
    assert (tex["y_hat"], tex["a_prev"]) == (r"y_{\mathrm{hat}}", r"a_{\mathrm{prev}}")


def test_shared_bias_is_one_parameter_of_several_neurons(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text("layers:\n  - inputs: [x1, x2]\n  - neurons: [h1, h2]\n    bias: [b1, b1]\n")
    net = load_network(path)
    assert net.bias_neurons == {"b1": ["h1", "h2"]}
    assert net.parameters.count("b1") == 1
    assert sorted(net.graph().successors("b1")) == ["h1", "h2"]


def test_preactivations_take_one_style_when_short_names_would_clash(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text("layers:\n  - inputs: [x]\n  - neurons: [h1]\n  - neurons: [o1]\n")
    net = load_network(path)
    assert (net.neurons["h1"].preact, net.neurons["o1"].preact) == ("z_h1", "z_o1")


def test_deeply_nested_file_is_one_clean_error(tmp_path: Path):
    path = tmp_path / "net.yaml"
    path.write_text("layers: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(DeriveError) as caught:
        read_spec(path)
    assert "\n" not in str(caught.value)


def test_graph_nodes_carry_kind_and_layer_and_a_weight_feeds_what_it_labels():
    net = load_network("two_hidden")
    g = net.graph()
    assert g.nodes["O21"] == {"kind": "neuron", "layer": 2}
    assert g.nodes["W7"]["kind"] == "weight"
    assert net.weight_edges["W7"] == [("O11", "O21")]
    assert g.has_edge("O11", "O21") and g.has_edge("W7", "O21")
    assert load_network("two_hidden").rank("x1") == 0


@pytest.mark.parametrize(
    ("text", "answer"),
    [("dL/dW1", ("L", "W1")), ("∂O31/∂O11", ("O31", "O11")), (" dC0 / db2", ("C0", "b2"))],
)
def test_parse_derivative_reads_d_and_partial(text: str, answer):
    assert parse_derivative(text) == answer


def test_parse_derivative_refuses_anything_else():
    with pytest.raises(DeriveError, match="cannot read the derivative"):
        parse_derivative("L/W1")


# -- fuzzing: a mutated network file is a DeriveError or a network, never a traceback ---


def _mutations(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(12):
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(chars))
            chars[i : i + rng.randint(0, 3)] = rng.choice(
                ["", ":", "-", "[", "]", "{", " ", "\n", "0", "x", "'", "&a", "*a", "!!int "]
            )
        out.append("".join(chars))
    return out


# Seeded by a CRC of the name, not hash(): str hashes are salted per process, so a
# failure could not be replayed.
# mnist's mutations build networks of up to 10 million parameters each: its file is
# tested at scale on its own (test_scale), the mutations on the small networks.
@pytest.mark.parametrize(
    "path", [p for p in bundled_networks() if p.stem in small_networks()], ids=lambda p: p.stem
)
def test_mutated_bundled_networks_never_raise_anything_but_derive_error(tmp_path: Path, path):
    for i, text in enumerate(
        _mutations(path.read_text(), seed=zlib.crc32(path.stem.encode()) % 1000)
    ):
        try:
            Network(read_spec(tmp_path / f"m{i}.yaml", text)).graph()
        except DeriveError:
            pass


# -- points (--at) ---------------------------------------------------------------------


def test_a_value_for_a_computed_node_is_refused_saying_the_forward_pass_computes_it(tmp_path):
    from derive.evaluate import read_point

    net = load_network("simple")
    with pytest.raises(DeriveError, match="the forward pass computes it"):
        read_point("O1=5", net)
    point = tmp_path / "p.yaml"
    point.write_text("x1: 0.5\nO1: 2\n")
    with pytest.raises(DeriveError, match="the forward pass computes it") as caught:
        read_point(str(point), net)
    assert (caught.value.line, caught.value.col) == (2, 1)


def test_pairs_longer_than_a_file_name_are_read_as_pairs():
    from derive.evaluate import read_point

    # Path.is_file raises "File name too long" on such a string: it is still pairs.
    pairs = "W4=0.5," + " " * 5000 + "y=0"
    point = read_point(pairs, load_network("simple"))
    assert (point["W4"], point["y"]) == (0.5, 0.0)


def test_a_point_file_key_given_twice_is_an_error_at_its_line(tmp_path):
    from derive.evaluate import read_point

    point = tmp_path / "p.yaml"
    point.write_text("x1: 0.5\nW1: 1e-3\nx1: 2\n")
    with pytest.raises(DeriveError, match="written twice") as caught:
        read_point(str(point), load_network("simple"))
    assert caught.value.line == 3


def test_a_network_file_serves_as_a_point_with_its_values():
    from derive.evaluate import read_point

    net = load_network("two_hidden")
    path = str(bundled_networks()[[p.stem for p in bundled_networks()].index("two_hidden")])
    assert read_point(path, net) == net.values
