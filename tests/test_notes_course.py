"""Issue 19's defects in the notes, one test each: what an instructor found wrong, now right.

Numbers are checked against central differences of the forward pass or SymPy, never
against the notes' own machinery. The notes are built once per module (test_notes' caches).
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import pytest
import sympy as sp
from clirun import run
from test_notes import central, latex, markdown, note

from derive import notes
from derive.evaluate import forward
from derive.expand import derive, symbol
from derive.graph import load_network
from derive.notes.build import example_point
from derive.notes.chain import grouped
from derive.sweep import values

# --- the output's error and the familiar O - y ----------------------------------------------


@pytest.mark.parametrize("source", ["two_hidden", "softmax", "chain_3b1b"])
def test_the_output_error_is_read_from_a_split_factor_not_from_two_factors(source):
    """∂O/∂z is no factor of a path over neurons: the note splits the factor that holds it."""
    assert "first two factors" not in markdown(source)
    net = load_network(source)
    w = note(source).worked[0]
    path = derive(net, net.loss, w.wrt).paths[0]
    o, v = path[1], path[2]
    point = example_point(net)[0]
    compact = values(net, point).local[(o, v)]
    detail = values(net, point, detail=True).local
    zs = [net.neurons[k].preact for k in net.group(o)]
    assert w.split.count(r"\cdot") == sum(1 for z in zs if (z, v) in detail)
    assert compact == pytest.approx(sum(detail[(o, z)] * detail.get((z, v), 0) for z in zs))


def test_softmax_formulas_use_that_the_targets_add_up_to_one_and_say_so():
    net = load_network("softmax")
    ys = [symbol(y) for y in net.targets]
    for wrt in ("W5", "W1", "b1"):
        d = derive(net, net.loss, wrt)
        short = grouped(net, d.concrete)
        assert sp.expand((short - d.concrete).subs(ys[-1], 1 - sum(ys[:-1]))) == 0
    assert grouped(net, derive(net, net.loss, "W5").concrete) == symbol("h1") * (
        symbol("O1") - symbol("y1")
    )
    md = markdown("softmax")
    assert r"x_{1} \left(W_{5} \left(O_{1} - y_{1}\right) + W_{7} \left(O_{2} - y_{2}\right)" in md
    assert "with $`y_{1} + y_{2} + y_{3} = 1`$" in md


def test_softmax_is_written_without_a_kronecker_delta_or_a_softmax_of_one_number():
    md = markdown("softmax")
    assert r"\delta_{jk}" not in md and r"\operatorname{softmax}(z" not in md
    assert r"O_{1} = \frac{e^{z_{1}}}{e^{z_{1}} + e^{z_{2}} + e^{z_{3}}} = 0.4765" in md


def test_softmax_layer_form_defines_J_and_heads_its_shapes_table_truly():
    md = markdown("softmax")
    assert r"J_{jk} = \partial a^{(2)}_j / \partial z^{(2)}_k" in md
    header = next(x for x in md.splitlines() if x.startswith("| Layer $`l`$"))
    assert r"\odot" not in header  # the output row's delta is a - y, not W^T delta ⊙ f'


def test_softmax_zero_paths_and_the_fanned_picture_are_explained():
    net = load_network("softmax")
    s = note("softmax").several
    point = example_point(net)[0]
    v = values(net, point)
    d = derive(net, net.loss, s.wrt_tex.replace("_{", "").rstrip("}"))
    zero = [p for p in d.paths if any(v.local[e] == 0 for e in zip(p, p[1:], strict=False))]
    assert s.zero_paths == len(zero) == 2
    md = markdown("softmax")
    assert "2 paths are 0 at this point" in md
    assert md.count("The picture lights more edges than there are paths") == 1  # W1's, not W5's


def test_the_fraction_picture_is_introduced_before_it_is_named():
    for source in ("softmax", "two_hidden"):
        md = markdown(source)
        named = md.find("the fraction picture")
        assert named == -1 or md.find("Read as fractions") < named


# --- numbers: the update step, the growth table ---------------------------------------------


def test_the_update_column_is_the_exact_step_with_the_step_visible():
    net = load_network("softmax")
    point = example_point(net)[0]
    for p, c in zip(net.parameters, note("softmax").sweep.gradients, strict=True):
        decimals = len(c.formula.split(".")[1])
        exact = point[p] - 0.1 * central(net, point, p)
        assert float(c.formula) == pytest.approx(exact, abs=0.6 * 10**-decimals)
        if abs(exact - point[p]) > 1e-9:
            assert float(c.formula) != pytest.approx(point[p], abs=0.4 * 10**-decimals)
    b1 = note("softmax").sweep.gradients[net.parameters.index("b1")]
    assert b1.formula == "-0.001552"


def test_lr_sets_the_learning_rate_of_the_notes(tmp_path):
    result = run(tmp_path, "notes", "--net", "simple", "--out", "o", "--lr", "0.5")
    assert result.returncode == 0, result.stderr
    md = (tmp_path / "o" / "simple.md").read_text()
    assert r"\eta = 0.5" in md
    net = load_network("simple")
    point = example_point(net)[0]
    row = next(
        x for x in md.splitlines() if x.startswith(r"| $`\frac{\mathrm{d}L}{\mathrm{d}W_{1}}")
    )
    after = float(row.rsplit("$`", 1)[1].split("`$")[0])
    assert after == pytest.approx(point["W1"] - 0.5 * central(net, point, "W1"), abs=1e-4)
    bad = run(tmp_path, "notes", "--net", "simple", "--out", "o", "--lr", "-1")
    assert bad.returncode == 2 and "positive" in bad.stderr


def test_the_growth_table_typesets_thousands_and_says_its_inputs():
    index = notes.render_index([note("simple"), note("two_hidden")], "latex")
    maths = re.findall(r"\$([^$]*)\$", index)
    assert not [m for m in maths if re.search(r"\d,\d", m)], "a comma in math mode spaces out"
    assert "6{,}372" in index and "as many inputs as neurons per layer" in index


# --- names: the network's own, everywhere ------------------------------------------------------


def test_3b1b_notes_write_the_loss_and_the_layer_form_in_their_own_letters():
    chain, multi = markdown("chain_3b1b"), markdown("multi_3b1b")
    assert "O_j" not in chain and "O_j" not in multi
    assert r"\sum_j (a_{j}^{(L)} - y_{j})^2" in multi
    assert r"W^{(L)} = \begin{pmatrix} w^{(L)} \end{pmatrix}" in chain
    assert "W^{(2)}" not in chain and "a^{(1)}" not in chain
    check = [x for x in note("chain_3b1b").exercises if x.command][0]
    asked = "".join(piece for _, piece in check.question)
    for name in re.findall(r"d(\w+)/d", check.command):
        assert name in asked  # the file's names that derive check takes are shown


def test_show_and_backprop_use_the_networks_loss_name(tmp_path):
    shown = run(tmp_path, "show", "--net", "chain_3b1b").stdout
    assert "C0 = (a2 - y)**2" in shown and "O_j" not in shown
    swept = run(tmp_path, "backprop", "--net", "chain_3b1b").stdout
    assert "dC0/dv" in swept and "dL/" not in swept


def test_a_long_check_command_breaks_between_terms_and_still_matches(tmp_path):
    # A PDF broke mnist's one-line sweep-line answer mid-token (issue 19): each exercise's
    # command, a path sum and a line of the sweep, breaks between whole terms.
    wide = tmp_path / "wide.yaml"  # a hidden neuron that feeds 8, a weight with 64 paths
    wide.write_text(
        "layers:\n  - inputs: [x1, x2]\n"
        + "".join(f"  - neurons: [{', '.join(f'{c}{i}' for i in range(1, 9))}]\n" for c in "AB")
        + "  - neurons: [O]\nloss:\n  kind: mse\n  target: y\n",
        encoding="utf-8",
    )
    net = load_network(str(wide))
    commands = [x.command for x in notes.build_note(net, ["W1"]).exercises if x.command]
    assert len(commands) == 2
    for command in commands:
        lines = command.splitlines()  # the last one ends with --net and the file's path
        assert len(lines) > 1 and max(len(x) for x in lines[:-1]) <= 72
        assert all(re.fullmatch(r"\s*(\+ )?[\w/*]+( \+ [\w/*]+)*", x) for x in lines[1:-1])
        result = run(Path.cwd(), *shlex.split(command)[1:])
        assert result.returncode == 0 and "matches" in result.stdout, result.stdout


def test_dead_relu_solution_names_the_weights_out_of_it_too():
    net = load_network("softmax")
    point = example_point(net)[0]
    fwd = values(net, point).forward
    dead = next(n for n in net.neurons.values() if n.activation == "relu" and fwd[n.preact] <= 0)
    out = [w for w, pairs in net.weight_edges.items() if any(a == dead.name for a, _ in pairs)]
    assert out and all(central(net, point, w) == 0 for w in out)
    [x] = [x for x in note("softmax").exercises if "exactly" in "".join(p for _, p in x.question)]
    answer = "".join(p for _, p in x.answer)
    assert all(net.latex_names[w] in answer for w in out)


def test_a_skip_network_points_at_its_own_expansion_and_names_the_skip(tmp_path):
    from conftest import SKIP

    source = tmp_path / "skip.yaml"
    source.write_text(SKIP + "values: {h: 0.5, W1: 0.4, W2: -0.7, W3: 0.9, y: 1}\n")
    n = notes.build_note(load_network(str(source)))
    assert not n.several.parameter
    assert all(w.expansion_shown != "Several paths add" for w in n.worked)
    assert n.skips and "road for the gradient" in notes.render_note(n, "markdown")


def test_latex_of_the_changed_notes_has_the_new_sentences():
    assert "is no factor of a path written over neurons" in latex("two_hidden")


# --- Nielsen's equations, derived from the sweep -------------------------------------------


def _last(tex: str) -> float:
    return float(tex.rsplit("=", 1)[1].strip().replace(r" \times 10^{", "e").rstrip("}"))


def _delta(net, point, neuron: str) -> float:
    """dL/dz of a neuron by central differences: z is linear in a weight w, dz/dw = its input."""
    fwd = forward(net, point)
    src, w = max(net.neurons[neuron].inputs, key=lambda sw: abs(fwd[sw[0]]))
    return central(net, point, w) / fwd[src]


def test_bp1_to_bp4_are_derived_from_the_sweep_with_right_numbers():
    net = load_network("two_hidden")
    point = example_point(net)[0]
    q = note("two_hidden").equations_derived
    fwd = forward(net, point)
    # What delta means: the loss moves by delta * eps when z31 moves by eps.
    d31 = _delta(net, point, "O31")
    nudged = 1 / (1 + math.exp(-(fwd["z31"] + 0.01)))
    moved = -math.log(nudged)  # bce with y = 1
    assert _last(q.loss_after) == pytest.approx(moved, abs=1e-6)
    assert _last(q.delta) == pytest.approx(d31, rel=1e-3)
    assert _last(q.bp1) == pytest.approx(d31, rel=1e-3)
    # BP2 on O11: (W7 delta21 + W9 delta22) sigma'(z11), each delta by central differences.
    d21, d22 = _delta(net, point, "O21"), _delta(net, point, "O22")
    slope = fwd["O11"] * (1 - fwd["O11"])
    bp2 = (point["W7"] * d21 + point["W9"] * d22) * slope
    assert "O_{11}" in q.bp2[0] and _last(q.bp2[1]) == pytest.approx(bp2, rel=1e-3)
    assert _last(q.bp4) == pytest.approx(central(net, point, "W1"), rel=1e-3)
    assert _last(q.low_grad) == pytest.approx(central(net, point, "W2"), rel=1e-3)
    # The path at z level has a slope and a weight (or input) factor per layer.
    assert q.z_path.count(r"}{\partial z_") == 3 and q.cancels  # three slopes ∂O/∂z


def test_the_bias_line_of_bp3_is_shown_where_there_are_biases():
    net = load_network("softmax")
    q = note("softmax").equations_derived
    point = example_point(net)[0]
    assert q.bp3 and _last(q.bp3) == pytest.approx(central(net, point, "b1"), rel=1e-3)
    assert q.z_path == ""  # a softmax step sums over the layer's z: no single z-level path


def test_the_introduction_names_the_total_derivative():
    index = notes.render_index([note("simple"), note("two_hidden")], "markdown")
    assert "*total derivative*" in index and r"\partial C/\partial w" in index


# --- exercises a teacher can grade ------------------------------------------------------------


@pytest.mark.parametrize("source", ["two_hidden", "softmax"])
def test_the_solutions_file_is_graded_all_correct_and_the_answers_file_is_its_blanks(
    source, tmp_path
):
    n = note(source)
    solutions = tmp_path / f"{source}.solutions.md"
    solutions.write_text(notes.write.render_answers(n, True), encoding="utf-8")
    result = run(tmp_path, "check", "--file", solutions.name, "--net", source)
    graded = [x for x in n.exercises if x.check]
    assert result.returncode == 0, result.stdout
    assert f"{len(graded)} answers: {len(graded)} match" in result.stdout and len(graded) >= 2
    blanks = notes.write.render_answers(n, False)
    assert all(x.check.split(" = ")[0] + " = \n" in blanks for x in graded)
    # Graded as it comes, the answers file is every answer still to write, and nothing else.
    (tmp_path / "answers.md").write_text(blanks, encoding="utf-8")
    result = run(tmp_path, "check", "--file", "answers.md", "--net", source)
    assert result.returncode == 1, result.stdout
    assert result.stdout.count("no answer yet") == len(graded) == result.stdout.count("\n") - 2


def test_solutions_come_after_every_question_in_both_languages():
    md, tex = markdown("two_hidden"), latex("two_hidden")
    exercises, solutions = md.split("## Exercises")[1].split("## Solutions")
    assert "<details>" not in exercises and solutions.count("<details>") == len(
        note("two_hidden").exercises
    )
    assert tex.index(r"\section{Exercises}") < tex.index(r"\section{Solutions}")
    assert r"\begin{solution}" not in tex.split(r"\section{Solutions}")[0]


def test_the_new_point_exercise_is_solved_with_right_numbers():
    net = load_network("two_hidden")
    point = example_point(net)[0]
    new = {**point, "x1": point["x1"] + 0.5}
    [x] = [x for x in note("two_hidden").exercises if "At a new point" in x.question[0][1]]
    answer = [piece for kind, piece in x.answer if kind == "math"]
    assert _last(answer[-1]) == pytest.approx(central(net, new, "W11"), rel=1e-3)
    assert f"x1={new['x1']:g}" in "".join(piece for _, piece in x.question)


# --- a course is one document set ---------------------------------------------------------


def test_pdf_builds_the_index_too_and_pdfs_link_to_pdfs(tmp_path, monkeypatch):
    asked: dict[str, str] = {}

    def fake_pdf(tex: str, name: str, warn=None) -> bytes:
        asked[name] = tex
        return b"%PDF-1.5\n"

    monkeypatch.setattr(notes.write, "compile_pdf", fake_pdf)
    notes.write_course(["simple", "chain_3b1b"], str(tmp_path), fmt="latex", pdf=True)
    assert set(asked) == {"simple.pdf", "chain_3b1b.pdf", "index.pdf"}
    assert (tmp_path / "index.pdf").is_file()
    assert (
        r"\href{index.pdf}" in asked["simple.pdf"]
        and r"\href{chain_3b1b.pdf}" in asked["simple.pdf"]
    )
    assert r"\href{simple.pdf}" in asked["index.pdf"]
    assert not re.search(r"\\texttt\{\w+\.tex\}", "".join(asked.values()))
