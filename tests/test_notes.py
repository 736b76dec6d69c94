"""`derive notes`: what the study notes say, and that they render as written.

Markdown is rendered with KaTeX and LaTeX compiled with pdflatex (tests/renderers.py);
numbers are checked against finite differences of the forward pass, never against the
chain-rule machinery that produced them.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from renderers import extract_markdown_math, markdown_escapes, markdown_math_errors

from derive import notes
from derive.cli import main
from derive.errors import DeriveError
from derive.evaluate import forward
from derive.graph import bundled_networks, load_network
from derive.notes import diagram as diagram_mod

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = [p.stem for p in bundled_networks()]
FLAVORS = ["github", "portable"]


@cache
def note(name: str) -> dict:
    return notes.build_note(load_network(name))


@cache
def markdown(name: str, flavor: str = "github") -> str:
    return notes.render_note(note(name), "markdown", flavor)


@cache
def latex(name: str) -> str:
    return notes.render_note(note(name), "latex")


def finite_difference(net, point: dict, name: str, h: float = 1e-6) -> float:
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    return (forward(net, up)[net.loss] - forward(net, down)[net.loss]) / (2 * h)


def write_network(folder: Path, text: str, name: str = "net") -> str:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


SMALL = """\
name: small
title: {title}
description: {description}
layers:
  - inputs: [x1]
  - neurons: [O1]
  - neurons: [O2]
loss:
  kind: squared_error
  target: y
"""

# --- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("name", NETWORKS)
def test_every_markdown_formula_renders_with_katex(katex, name, flavor):
    assert markdown_math_errors(markdown(name, flavor), flavor) == []


@pytest.mark.parametrize("name", NETWORKS)
def test_portable_markdown_has_no_escapes_a_markdown_pass_would_eat(name):
    formulas = extract_markdown_math(markdown(name, "portable"), "portable")
    assert formulas
    assert [f for f, _, _ in formulas if markdown_escapes(f)] == []


@pytest.mark.parametrize("name", NETWORKS)
def test_github_markdown_writes_display_math_in_math_fences(name):
    md = markdown(name, "github")
    assert "$$" not in md
    assert "```math" in md and "$`" in md


@pytest.mark.parametrize("name", NETWORKS)
def test_latex_notes_compile_with_pdflatex(pdflatex, tmp_path, name):
    tex = tmp_path / f"{name}.tex"
    tex.write_text(latex(name), encoding="utf-8")
    assert pdflatex(tex, tmp_path / "build").stat().st_size > 0


def test_hostile_description_and_title_cannot_break_or_hijack_latex(pdflatex, tmp_path):
    hostile = r'"50% & #1 of x_1 \\input{/etc/passwd} \\def\\x{} $a$ ~ ^ { }"'
    source = write_network(tmp_path, SMALL.format(title=hostile, description=hostile))
    [tex] = notes.write_course([source], str(tmp_path / "out"), fmt="latex")
    text = tex.read_text(encoding="utf-8")
    assert r"\input{/etc" not in text and r"\def\x" not in text
    pdf = pdflatex(tex, tmp_path / "build")
    assert pdf.stat().st_size > 0


def test_hostile_description_renders_as_plain_text_in_markdown(katex, tmp_path):
    hostile = r'"$x$ *bold* <script> [link](y) \\frac"'
    source = write_network(tmp_path, SMALL.format(title="t", description=hostile))
    [md] = notes.write_course([source], str(tmp_path / "out"))
    text = md.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert markdown_math_errors(text, "github") == []


@pytest.mark.parametrize("override", [r"\\input{secret}", r"x_{1", r"a % b", r"\\write18{ls}"])
def test_unsafe_latex_override_is_refused(tmp_path, override):
    source = write_network(
        tmp_path, SMALL.format(title="t", description="d") + f'latex:\n  x1: "{override}"\n'
    )
    with pytest.raises(DeriveError, match="latex: x1"):
        notes.write_course([source], str(tmp_path / "out"), fmt="latex")
    assert not (tmp_path / "out").exists()


# --- what the notes say ------------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_every_slope_in_the_notes_matches_finite_differences(name):
    net = load_network(name)
    n = note(name)
    point, _ = notes.example_point(net)
    for section in n["weights"]:
        assert section["value"] == pytest.approx(
            finite_difference(net, point, section["wrt"]), rel=1e-5, abs=1e-8
        ), section["wrt"]


@pytest.mark.parametrize("name", NETWORKS)
def test_worked_example_sum_nudge_and_update_are_computed(name):
    net = load_network(name)
    example = note(name)["example"]
    wrt = example["weight"]["wrt"]
    point, _ = notes.example_point(net)
    true = finite_difference(net, point, wrt)
    assert example["values"]["value"] == pytest.approx(true, rel=1e-5, abs=1e-8)
    assert example["values"]["nudge"] == pytest.approx(true, rel=1e-4, abs=1e-7)
    assert example["values"]["new"] == pytest.approx(point[wrt] - notes.LR * true, rel=1e-6)
    assert sum(example["weight"]["numbers"].path_products) == pytest.approx(
        true, rel=1e-5, abs=1e-8
    )


@pytest.mark.parametrize("name", NETWORKS)
def test_worked_example_forward_pass_shows_the_forward_values(name):
    net = load_network(name)
    point, _ = notes.example_point(net)
    env = forward(net, point)
    md = markdown(name)
    for neuron in net.neurons:
        assert notes.num(env[neuron]) in md


def mermaid_blocks(md: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", md, re.S)


def expected_edges(net, paths) -> set[tuple[str, str, str]]:
    """The drawn edges (from, to, weight) a path runs along, worked out from the network alone."""
    edges = set()
    for path in paths:
        for top, bottom in zip(path, path[1:], strict=False):
            if top == net.loss:
                edges.add((bottom, top, ""))
                continue
            for k in net.group(top):
                neuron = net.neurons[k]
                edges |= {(s, k, w) for s, w in neuron.inputs if bottom in (s, w)}
                if bottom == neuron.bias:
                    edges.add((bottom, k, ""))
    return edges


def highlighted_edges(block: str) -> set[tuple[str, str, str]]:
    """The edges a Mermaid flowchart styles with linkStyle, read back from its text."""
    labels = dict(re.findall(r"^\s+(n\d+)[(\[]+/?\"(\w+)\"", block, re.M))
    drawn = re.findall(r"^\s+(n\d+) (?:-- \"(\w+)\" -->|-\.->|-->) (n\d+)$", block, re.M)
    styled = re.search(r"linkStyle ([\d,]+) ", block)
    indices = [int(i) for i in styled.group(1).split(",")] if styled else []
    return {(labels[drawn[i][0]], labels[drawn[i][2]], drawn[i][1]) for i in indices}


@pytest.mark.parametrize("name", NETWORKS)
def test_each_weights_diagram_highlights_exactly_the_edges_of_its_paths(name):
    net = load_network(name)
    blocks = mermaid_blocks(markdown(name))
    sections = note(name)["weights"]
    assert len(blocks) == len(sections) + 1  # the network, then one per weight
    assert highlighted_edges(blocks[0]) == set()
    for section, block in zip(sections, blocks[1:], strict=True):
        d = section["derivative"]
        assert not d.truncated
        assert highlighted_edges(block) == expected_edges(net, d.paths), section["wrt"]


def test_two_hidden_shows_seed_000s_two_lane_mistake_and_why():
    mistake = note("two_hidden")["mistake"]
    assert mistake["wrt"] == "W1"
    fake = [t for t in mistake["terms"] if not t["real"]]
    assert len(fake) == 1 and "O_{12}" in fake[0]["path"]
    assert fake[0]["broken"] == r"\frac{\partial O_{12}}{\partial W_{1}}"
    assert mistake["missing"] == [
        r"L \leftarrow O_{31} \leftarrow O_{22} \leftarrow O_{11} \leftarrow W_{1}"
    ]
    assert mistake["wrong_value"] != mistake["true_value"]
    assert "does not exist" in markdown("two_hidden") and "is missing" in markdown("two_hidden")


def test_two_hidden_tied_says_the_two_lane_formula_is_right_there():
    mistake = note("two_hidden_tied")["mistake"]
    assert mistake["right"] and not mistake["missing"]
    assert "exactly right" in markdown("two_hidden_tied")


@pytest.mark.parametrize("name", NETWORKS)
def test_notes_explain_that_paths_add(name):
    md = markdown(name)
    assert "multivariable chain rule" in md
    several = any(s["path_count"] > 1 for s in note(name)["weights"])
    assert ("Each path carries only its share" in md) == several


@pytest.mark.parametrize("name", NETWORKS)
def test_detailed_3blue1brown_view_appears_where_the_file_typesets_z(name):
    detail = note(name)["detail"]
    assert (detail is not None) == (name in ("chain_3b1b", "multi_3b1b"))
    if detail:
        md = markdown(name)
        assert "The detailed view" in md
        assert r"\frac{1}{n} \sum_{k=0}^{n-1}" in detail["average"]
        assert detail["bias"] is not None


def test_multi_3b1b_sums_dC0_da_over_the_neurons_of_layer_L():
    assert note("multi_3b1b")["detail"]["previous"]["paths"] == 2
    assert note("chain_3b1b")["detail"]["previous"]["paths"] == 1


@pytest.mark.parametrize("name", NETWORKS)
def test_backprop_table_counts_multiplications_of_each_form(name):
    rows = note(name)["backprop"]["rows"]
    assert [r["wrt"] for r in rows] == [s["wrt_tex"] for s in note(name)["weights"]]
    for r in rows:
        assert r["fmul"] <= r["mul"]
    total = note(name)["backprop"]["total"]
    assert total["sweep"] <= total["mul"]


def test_path_by_path_cost_of_two_hidden_W1_is_two_paths_of_three_multiplications():
    row = note("two_hidden")["backprop"]["rows"][0]
    assert (row["paths"], row["mul"], row["fmul"]) == (2, 6, 4)


@pytest.mark.parametrize("name", NETWORKS)
def test_exercise_solutions_are_folded_away(name):
    count = len(note(name)["exercises"])
    assert count >= 2
    assert markdown(name).count("<details><summary>Solution</summary>") == count
    tex = latex(name)
    assert tex.index(r"\appendix") < tex.index("Solutions to the exercises")


def test_two_hidden_exercises_ask_for_dL_dW2_and_dL_dW3_like_seed_001():
    asked = [x["wrt"] for x in note("two_hidden")["exercises"] if x["kind"] == "expand"]
    assert asked == ["W2", "W3"]


@pytest.mark.parametrize("name", NETWORKS)
def test_every_parameter_is_covered_by_default(name):
    net = load_network(name)
    assert [s["wrt"] for s in note(name)["weights"]] == net.parameters


def test_wrt_limits_the_weights_covered(tmp_path):
    [md] = notes.write_course(["two_hidden"], str(tmp_path), wrt=["W4", "W1"])
    text = md.read_text(encoding="utf-8")
    assert "### 4.1 The weight W1" in text and "### 4.2 The weight W4" in text
    assert "### 4.3" not in text


@pytest.mark.parametrize("wrt", ["W99", "O11", "x1"])
def test_wrt_that_is_no_parameter_is_a_user_error(tmp_path, wrt):
    result = CliRunner().invoke(
        main, ["notes", "--net", "two_hidden", "--out", str(tmp_path), "--wrt", wrt]
    )
    assert result.exit_code == 2
    assert f"--wrt {wrt}" in result.output
    assert not list(tmp_path.iterdir())


def test_big_network_notes_list_a_few_paths_and_use_the_factored_form(katex, tmp_path):
    layers = "\n".join(
        f"  - neurons: [{', '.join(f'h{i}_{j}' for j in range(5))}]" for i in range(5)
    )
    source = write_network(
        tmp_path,
        f"layers:\n  - inputs: [x1, x2]\n{layers}\n  - neurons: [out]\n"
        "loss:\n  kind: bce\n  target: y\n",
        "deep",
    )
    [md] = notes.write_course([source], str(tmp_path / "out"), wrt=["W1"])
    text = md.read_text(encoding="utf-8")
    section = note_for(source, "W1")
    assert section["path_count"] == 5**4 and section["listed"] == notes.NOTE_PATHS
    assert "625 paths" in text and "the first 12 are" in text
    assert len(text) < 200_000
    assert markdown_math_errors(text, "github") == []


def note_for(source: str, wrt: str) -> dict:
    net = load_network(source)
    point, _ = notes.example_point(net)
    return notes.weight_section(net, wrt, point)


# --- writing -----------------------------------------------------------------------------


def documented_command() -> list[str]:
    """The regeneration command in derive/notes.py's docstring, as arguments."""
    line = next(x for x in notes.__doc__.splitlines() if x.strip().startswith("derive notes"))
    return shlex.split(line.strip())[1:]


def test_output_folder_holds_every_bundled_network_and_the_index():
    names = {p.name for p in (ROOT / "output").iterdir()}
    for net in NETWORKS:
        assert {f"{net}.md", f"{net}.tex"} <= names
    assert "index.md" in names


def test_output_folder_is_what_the_documented_command_writes(tmp_path):
    args = documented_command()
    args[args.index("--out") + 1] = str(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    shipped = {
        p.name: p.read_text(encoding="utf-8")
        for p in (ROOT / "output").iterdir()
        if p.suffix in (".md", ".tex")
    }
    assert sorted(fresh) == sorted(shipped), "output/ has other files than the command writes"
    stale = [name for name in fresh if fresh[name] != shipped[name]]
    assert stale == [], f"output/ is stale; run: derive {shlex.join(documented_command())}"


def test_documented_command_covers_every_bundled_network():
    args = documented_command()
    given = [args[i + 1] for i, a in enumerate(args) if a == "--net"]
    assert sorted(given) == sorted(NETWORKS)


def test_course_index_links_every_note_in_the_order_given(tmp_path):
    written = notes.write_course(["two_hidden", "simple"], str(tmp_path), fmt="both")
    assert [p.name for p in written] == [
        "two_hidden.md",
        "two_hidden.tex",
        "simple.md",
        "simple.tex",
        "index.md",
    ]
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert index.index("(two_hidden.md)") < index.index("(simple.md)")
    assert "(simple.tex)" in index


def test_one_network_writes_no_index(tmp_path):
    assert [p.name for p in notes.write_course(["simple"], str(tmp_path))] == ["simple.md"]


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    notes.write_course(["simple", "chain_3b1b"], str(tmp_path), progress=True)
    assert "Writing notes" in capsys.readouterr().err


def test_a_bad_network_in_a_course_leaves_the_previous_notes_whole(tmp_path):
    out = tmp_path / "out"
    notes.write_course(["simple", "two_hidden"], str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write_network(tmp_path, "layers: [", "broken")
    with pytest.raises(DeriveError):
        notes.write_course(["simple", bad], str(out))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "simple.md"
    target.write_text("old notes", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        notes.write_course(["simple"], str(tmp_path))
    assert target.read_text(encoding="utf-8") == "old notes"
    assert [p.name for p in tmp_path.iterdir()] == ["simple.md"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".hidden"])
def test_names_cannot_escape_the_out_folder(tmp_path, name):
    with pytest.raises(DeriveError):
        notes.target(tmp_path, name)


def test_two_networks_with_one_name_are_refused(tmp_path):
    with pytest.raises(DeriveError, match="two networks are named"):
        notes.write_course(["simple", "simple"], str(tmp_path))


def test_course_templates_override_and_fall_back_to_the_shipped_ones(tmp_path):
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "notes_index.md.j2").write_text(
        "My course:{% for n in notes %} {{ n.name }}{% endfor %}\n"
    )
    notes.write_course(["simple", "two_hidden"], str(tmp_path / "out"), templates=str(mine))
    assert (tmp_path / "out" / "index.md").read_text().strip() == "My course: simple two_hidden"
    assert "## 1. The update rule" in (tmp_path / "out" / "simple.md").read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="pdflatex run")
def test_pdf_option_builds_the_pdf(pdflatex, tmp_path):
    written = notes.write_course(["simple"], str(tmp_path), fmt="latex", pdf=True)
    assert [p.name for p in written] == ["simple.tex", "simple.pdf"]
    assert (tmp_path / "simple.pdf").read_bytes().startswith(b"%PDF")


# --- file modes, broken templates --------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_notes_files_get_the_mode_of_an_ordinary_new_file(pdflatex, tmp_path, umask):
    old = os.umask(umask)
    try:
        written = notes.write_course(["simple", "chain_3b1b"], str(tmp_path), fmt="both", pdf=True)
    finally:
        os.umask(old)
    names = sorted(p.name for p in written)
    assert {"simple.md", "simple.tex", "simple.pdf", "index.md"} <= set(names)
    modes = {p.name: p.stat().st_mode & 0o777 for p in written}
    assert modes == dict.fromkeys(names, 0o666 & ~umask)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


BROKEN_TEMPLATES = [
    ("notes.md.j2", "# {{ title }}\n\n{% if description %}\nno end\n", 4, "endif"),
    (
        "notes_parts.md.j2",
        "{% macro derivative(s, i) %}\n{{ s.wrt }} {{ s.nope }}\n{% endmacro %}\n",
        2,
        "no attribute 'nope'",
    ),
    (
        "notes_index.md.j2",
        "# Course\n\n{{ undefined_thing }}\n",
        3,
        "'undefined_thing' is undefined",
    ),
]


@pytest.mark.parametrize(("file", "text", "line", "what"), BROKEN_TEMPLATES)
def test_a_broken_course_template_is_one_line_and_writes_nothing(tmp_path, file, text, line, what):
    out = tmp_path / "out"
    notes.write_course(["simple", "two_hidden"], str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / file).write_text(text, encoding="utf-8")
    with pytest.raises(DeriveError) as err:
        notes.write_course(["simple", "two_hidden"], str(out), templates=str(mine))
    assert str(err.value).startswith(f"{mine / file}:{line}: template error: ")
    assert what in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    result = CliRunner().invoke(
        main,
        [
            "notes",
            "--net",
            "simple",
            "--net",
            "two_hidden",
            "--out",
            str(out),
            "--templates",
            str(mine),
        ],
    )
    assert result.exit_code == 2
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and f"{file}:{line}:" in lines[0] and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --- where (O - y) comes from ------------------------------------------------------------


def test_bce_and_sigmoid_slopes_cancel_to_O_minus_y_in_every_section():
    md = markdown("two_hidden")
    for section in note("two_hidden")["weights"]:
        [step] = section["cancel"]
        assert step["cancels"] and step["result"] == "O_{31} - y"
        assert step["product"] == (
            r"\left(\frac{1 - y}{1 - O_{31}} - \frac{y}{O_{31}}\right) \cdot O_{31} \left(1 - O_{31}\right)"
        )
    equation = (
        r"\frac{\partial L}{\partial z_{31}} = \frac{\partial L}{\partial O_{31}} \cdot "
        r"\frac{\partial O_{31}}{\partial z_{31}} = "
    )
    assert md.count(equation) == len(note("two_hidden")["weights"])
    assert "the fractions cancel" in md


def test_softmax_and_cross_entropy_cancel_to_O_minus_y_with_one_hot_targets():
    [step] = note("softmax")["weights"][0]["cancel"]
    assert step["onehot"] == "O_{1} - y_{1}"
    assert step["others"] == [
        r"\frac{\partial L}{\partial z_{2}} = O_{2} - y_{2}",
        r"\frac{\partial L}{\partial z_{3}} = O_{3} - y_{3}",
    ]
    assert "one-hot" in markdown("softmax")


@pytest.mark.parametrize("name", ["simple", "chain_3b1b", "multi_3b1b"])
def test_squared_error_keeps_its_factor_2_O_minus_y(name):
    net = load_network(name)
    for section in note(name)["weights"]:
        steps = section["cancel"]
        assert steps and not any(s["cancels"] for s in steps)
        for s in steps:
            assert s["product"].startswith(r"2 \left(") and r"- y" in s["result"]
    assert "nothing cancels" in markdown(name)
    assert len(note(name)["weights"][0]["cancel"]) == len(net.outputs)


# --- counting multiplications ------------------------------------------------------------


def sweep_by_counting_arrows(net) -> int:
    """One sweep, counted on the drawn network: each weight or bias arrow (once per output of
    a softmax layer it feeds), plus each arrow that starts at a neuron."""
    count = 0
    for pairs in net.weight_edges.values():
        for src, dst in pairs:
            count += len(net.group(dst))
            count += net.kind(src) == "neuron"
    return count + sum(len(net.group(n)) for n in net.biases.values())


@pytest.mark.parametrize("name", NETWORKS)
def test_sweep_count_is_what_the_student_counts_on_the_diagram(name):
    net = load_network(name)
    total = note(name)["backprop"]["total"]
    assert total["sweep"] == sweep_by_counting_arrows(net)
    drawn = sum(len(p) for p in net.weight_edges.values()) + len(net.biases)
    assert total["arrows"] == drawn
    assert total["inner"] == sum(
        net.kind(s) == "neuron" for pairs in net.weight_edges.values() for s, _ in pairs
    )
    md = markdown(name)
    assert f"with {total['sweep']} multiplications" in md and f"({total['arrows']}" in md


def test_two_hidden_sweep_is_twelve_weight_arrows_plus_six_from_neurons():
    total = note("two_hidden")["backprop"]["total"]
    assert (total["sweep"], total["arrows"], total["inner"], total["spread"]) == (18, 12, 6, 0)


@pytest.mark.parametrize("name", NETWORKS)
def test_factored_count_is_highlighted_arrows_not_entering_an_output_plus_outputs(name):
    net = load_network(name)
    for section in note(name)["weights"]:
        edges = expected_edges(net, section["derivative"].paths)
        arrows = sum(1 for _, b, _ in edges if b != net.loss and b not in net.outputs)
        outputs = len({a for a, b, _ in edges if b == net.loss and a in net.outputs})
        assert section["ops"]["fmul"] == arrows + outputs, section["wrt"]
        paths = section["derivative"].paths
        assert section["ops"]["mul"] == sum(len(p) - 2 for p in paths), section["wrt"]


def test_bigger_networks_are_counted_like_this_one():
    bigger = note("two_hidden")["backprop"]["bigger"]
    w1 = note("two_hidden")["backprop"]["rows"][0]
    first = bigger[0]
    assert (first["width"], first["hidden"]) == (2, 2)
    assert (first["paths"], first["mul"], first["fmul"]) == (
        str(w1["paths"]),
        str(w1["mul"]),
        str(w1["fmul"]),
    )
    for row in bigger:
        n, h = row["width"], row["hidden"]
        paths = n ** (h - 1)
        assert row["paths"] == f"{paths:,}"
        assert row["mul"] == f"{paths * (h + 1):,}"  # h + 2 local slopes a path
        assert row["fmul"] == f"{n + n * n * (h - 2) + 2:,}"  # arrows below the output, + 1


# --- links between notes, the diagram's labels ---------------------------------------------


def test_tied_note_links_the_fully_connected_note_of_the_same_course(tmp_path):
    notes.write_course(["two_hidden_tied", "two_hidden"], str(tmp_path), fmt="both")
    md = (tmp_path / "two_hidden_tied.md").read_text(encoding="utf-8")
    assert "see [Two hidden layers](two_hidden.md) in this course" in md
    tex = (tmp_path / "two_hidden_tied.tex").read_text(encoding="utf-8")
    assert r"\emph{Two hidden layers} in this course (\texttt{two\_hidden.tex})" in tex


def test_tied_note_alone_names_the_bundled_fully_connected_network(tmp_path):
    [md] = notes.write_course(["two_hidden_tied"], str(tmp_path))
    text = md.read_text(encoding="utf-8")
    assert (
        f"bundled network `{notes.LANES_WRONG}` (`derive notes --net {notes.LANES_WRONG}`)" in text
    )
    assert not note(notes.LANES_WRONG)["mistake"]["right"]
    assert "see the notes on\na network" not in text


@pytest.mark.parametrize("name", NETWORKS)
def test_weight_labels_are_drawn_after_every_line_on_a_white_patch(name):
    tex = latex(name)
    assert re.search(r"wlabel/\.style=\{[^}]*fill=white", tex)
    for picture in re.findall(r"\\begin\{tikzpicture\}(.*?)\\end\{tikzpicture\}", tex, re.S):
        lines = picture.splitlines()
        draws = [i for i, x in enumerate(lines) if x.strip().startswith(r"\draw")]
        labels = [i for i, x in enumerate(lines) if "node[wlabel" in x]
        assert labels and min(labels) > max(draws)
        assert not any("node[wlabel" in lines[i] for i in draws)


def _distance_to_segment(p, a, b) -> float:
    ab = (b[0] - a[0], b[1] - a[1])
    ap = (p[0] - a[0], p[1] - a[1])
    t = max(0.0, min(1.0, (ap[0] * ab[0] + ap[1] * ab[1]) / (ab[0] ** 2 + ab[1] ** 2)))
    return ((ap[0] - t * ab[0]) ** 2 + (ap[1] - t * ab[1]) ** 2) ** 0.5


@pytest.mark.parametrize("name", NETWORKS)
def test_no_line_and_no_other_label_touches_a_weight_label(name):
    pic = diagram_mod.diagram(load_network(name))
    at = {n["id"]: n for n in pic.nodes}

    def arrow(e):  # TikZ draws (a) -- (b) from border to border
        a, b = at[e["a"]], at[e["b"]]
        length = ((b["x"] - a["x"]) ** 2 + (b["y"] - a["y"]) ** 2) ** 0.5
        u = ((b["x"] - a["x"]) / length, (b["y"] - a["y"]) / length)
        ra, rb = diagram_mod._reach(a), diagram_mod._reach(b)
        return (a["x"] + ra * u[0], a["y"] + ra * u[1]), (b["x"] - rb * u[0], b["y"] - rb * u[1])

    centres = []
    for e in pic.edges:
        if not e["tex"]:
            continue
        (ax, ay), (bx, by) = arrow(e)
        centre = (ax + e["pos"] * (bx - ax), ay + e["pos"] * (by - ay))
        for f in pic.edges:
            if f is not e:
                assert _distance_to_segment(centre, *arrow(f)) > 0.2, (e["weight"], f["src"])
        assert all(
            ((centre[0] - c[0]) ** 2 + (centre[1] - c[1]) ** 2) ** 0.5 > 0.35 for c in centres
        )
        centres.append(centre)
