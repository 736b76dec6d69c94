"""Hostile input (issue 21): each case an attacker tried is replayed here.

Every command refuses bad input in one line, ``derive: FILE:LINE:COL: what; what to
change``, with exit status 2; nothing a file says can make TeX read, write or run
anything, or put live HTML into a note.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clirun import run

from derive.errors import DeriveError
from derive.netfile import read_spec
from derive.notes.figures import note_figures

TINY = "layers:\n  - inputs: [x1]\n  - neurons: [O]\n"


def one_line_error(result, where: str = "") -> str:
    """Return the one error line of a run that must have failed cleanly (exit 2)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: " + where), result.stderr
    return lines[0]


# -- the loader: one for every command ------------------------------------------------

BROKEN = {
    "malformed": (b"layers: [\n", "net.yaml:2:1: malformed YAML"),
    "not UTF-8": (
        b"layers:\n  - inputs: [x\xff]\n",
        "net.yaml:2:15: the network file is not UTF-8",
    ),
    "NUL": (b"layers:\n  - inputs: [x\x00]\n", "net.yaml:2:15: the network file holds the control"),
    "nested": (b"layers: " + b"[" * 1000 + b"\n", "net.yaml: the YAML is nested too deeply"),
}


# `notes` read a file with its own loader, and ended in a traceback where `show` did not.
@pytest.mark.parametrize(
    ("case", "command"), [("malformed", "show")] + [(case, "notes") for case in sorted(BROKEN)]
)
def test_a_broken_network_file_is_one_line_in_every_command(tmp_path: Path, case, command):
    data, message = BROKEN[case]
    (tmp_path / "net.yaml").write_bytes(data)
    extra = ["--out", "notes"] if command == "notes" else []
    one_line_error(run(tmp_path, command, "--net", "net.yaml", *extra), f"{message}")
    assert not (tmp_path / "notes").exists()


def test_a_malformed_course_file_is_one_line(tmp_path: Path):
    (tmp_path / "course.yaml").write_text("networks: [simple\n")
    result = run(tmp_path, "notes", "--net", "course.yaml", "--out", "notes")
    one_line_error(result, "course.yaml:2:1: malformed YAML")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A double-quoted escape makes a character no file can hold: a lone surrogate.
        ('title: "a\\ud800"\n' + TINY, "1:8: title holds the character '\\ud800'"),
        ("layers:\n  - inputs: " + "9" * 5000 + "\n  - neurons: [O]\n", "2:13: the number of"),
    ],
)
def test_a_character_or_a_number_that_cannot_be_used_is_refused_where_it_is(text, message):
    with pytest.raises(DeriveError) as caught:
        read_spec("net.yaml", text)
    assert f"net.yaml:{message}" in str(caught.value)


@pytest.mark.parametrize(
    "layers",
    [
        "  - inputs: 100000000000\n  - neurons: [O]\nedges:\n  x1 -> O: W\n",
        "  - inputs: [x1]\n  - neurons: 10000000\nedges:\n  x1 -> a1_1: W\n",
    ],
)
def test_size_is_refused_by_the_declared_counts_even_with_edges(layers):
    # Before: 20-30 s naming 10^11 inputs, then a MemoryError at 3.8 GB; or a hang.
    with pytest.raises(DeriveError, match=r"inputs and neurons, over the limit of 100,000"):
        read_spec("net.yaml", "layers:\n" + layers)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_check_reads_a_bounded_amount_of_an_endless_file(tmp_path: Path, device):
    result = run(tmp_path, "check", "--file", device, "--net", "simple")
    assert "larger than the limit of 1,000,000 bytes" in one_line_error(result, device)


@pytest.mark.parametrize(
    ("file", "size", "message"),
    [
        # Before: a 50 MB network file or a 100 MB point file took over 20 s to read.
        ("net.yaml", 1_000_001, "the network file is larger than the limit of 1,000,000 bytes"),
        ("point.txt", 20_000_001, "the point file is larger than the limit of 20,000,000 bytes"),
        ("point.yaml", 1_000_001, "the point file is over 1,000,000 bytes and not plain"),
    ],
)
def test_a_file_past_a_size_no_course_reaches_is_refused_at_once(
    tmp_path: Path, file, size, message
):
    with open(tmp_path / file, "w") as handle:  # YAML flow style, then a sparse tail: no course
        handle.write("{x1: 0.5}\n" + "# " + "x" * 97 + "\n" if file == "point.yaml" else TINY)
        if file != "point.yaml":
            handle.truncate(size)  # the size is refused before a byte is decoded
        else:
            handle.write(("# " + "x" * 97 + "\n") * (size // 100))
    net = file if file == "net.yaml" else "simple"
    args = ["show", "--net", net] if file == "net.yaml" else ["dL/dW1", "--net", net, "--at", file]
    assert message in one_line_error(run(tmp_path, *args), "")


def test_a_point_file_value_past_float_names_it(tmp_path: Path):
    # Before: dL/dW1 = nan, exit 0.
    (tmp_path / "point.yaml").write_text("x1: 1e999\n")
    result = run(tmp_path, "dL/dW1", "--net", "simple", "--at", "point.yaml")
    assert "x1 is too large" in one_line_error(result, "point.yaml:1:5: --at: ")


# -- TeX: checked as TeX reads it --------------------------------------------------------


@pytest.mark.parametrize(
    "tex",
    [
        "^^5cinput{/etc/passwd}",  # reads a file into the PDF
        "^^5cimmediate^^5copenout9=victim.md",  # writes a file beside the .tex
        "^^5cwrite18{touch pwned}",  # runs a command under -shell-escape
        "a^^7d",
        "x^",  # a dangling ^ that the formula's next ^ would make ^^
        "a`<img src=x onerror=alert(1)>`",  # ends GitHub's $`...`$
        '\\text{a");n0==>n5;n9("INJECTED}',  # ends a Mermaid label
    ],
)
def test_an_unsafe_latex_value_is_refused_at_its_line(tex):
    text = TINY + "latex:\n  O: '" + tex.replace("'", "''") + "'\n"
    with pytest.raises(DeriveError, match=r"latex: O ") as caught:
        read_spec("net.yaml", text)
    assert (caught.value.line, caught.value.col) == (5, 6)


# -- TeX: nothing read, written or run when the notes are compiled ---------------------

# What passes the loader and reaches the .tex: a title, a description, the file's path.
TEX_ATTACKS = [
    r"\input{canary.txt}",
    r"^^5cinput{canary.txt}",
    r"^^5cimmediate^^5cwrite18{touch ran}",
    r"\immediate\write18{touch ran}",
    r"\immediate\openout9=victim.md \write9{x}\closeout9",
    r"\catcode`\^=7 ^^5cinput{canary.txt} 50% & #1 $a$ ~ _ {",
]
NOTE = """\
title: {title}
description: {description}
layers:
  - inputs: [x1]
  - neurons: [O1]
loss: {{kind: squared_error}}
"""


def _yaml_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def hostile_tex(tmp_path_factory) -> str:
    """The LaTeX notes of a network whose title, description and folder attack TeX."""
    from derive.notes import write_course

    # Issue 21: ^^5cinput{/etc/passwd} put the file into the PDF; \openout overwrote a file
    # beside the .tex; \write18 ran a command under -shell-escape.
    folder = tmp_path_factory.mktemp("tex") / "^^5cinput{canary.txt}"
    folder.mkdir()
    source = folder / "net.yaml"
    text = " ".join(TEX_ATTACKS)
    source.write_text(NOTE.format(title=_yaml_string(text), description=_yaml_string(text)))
    [tex] = [
        p
        for p in write_course([str(source)], str(folder / "out"), fmt="latex")
        if p.suffix == ".tex"
    ]
    return tex.read_text(encoding="utf-8")


@pytest.mark.parametrize("shell_escape", [False, True], ids=["no-shell-escape", "shell-escape"])
def test_compiling_a_hostile_note_reads_writes_and_runs_nothing(
    pdflatex, hostile_tex, tmp_path, shell_escape
):
    import subprocess

    build = tmp_path / "build"
    build.mkdir()
    tex = build / "net.tex"
    tex.write_text(hostile_tex, encoding="utf-8")
    (build / "canary.txt").write_text("CANARYWORD\n")
    before = {p.name: p.read_bytes() for p in build.iterdir()}
    flag = "-shell-escape" if shell_escape else "-no-shell-escape"
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", flag, "-recorder", tex.name],
        cwd=build, capture_output=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout.decode("latin-1")[-2000:]
    stem = tex.stem
    own = {f"{stem}.{ext}" for ext in ("tex", "aux", "log", "out", "pdf", "fls")}
    recorded = (build / f"{stem}.fls").read_text(encoding="latin-1").splitlines()
    inputs = {line.split(" ", 1)[1] for line in recorded if line.startswith("INPUT ")}
    outputs = {line.split(" ", 1)[1] for line in recorded if line.startswith("OUTPUT ")}
    local = {Path(p).name for p in inputs if not p.startswith(("/usr/", "/etc/", "/var/"))}
    assert local <= own, f"read {local - own}"
    assert {Path(p).name for p in outputs} <= own
    after = {p.name: p.read_bytes() for p in build.iterdir()}
    assert set(after) - set(before) <= own and not set(before) - set(after)
    assert all(after[name] == data for name, data in before.items() if name not in own)
    assert not (tmp_path / "ran").exists() and not (build / "ran").exists()


# -- Markdown: no text from a file reaches it as HTML ----------------------------------

HTML_ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "`<img src=x onerror=alert(3)>`",
    "$`x`<img src=x onerror=alert(4)>$",
    "&lt;script&gt;alert(5)&lt;/script&gt;",
    "line one\n<script>alert(6)</script>\n# heading",
]


class _Tags(__import__("html.parser").parser.HTMLParser):
    """The elements and attributes of an HTML document, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def test_no_text_from_a_file_reaches_markdown_as_html(tmp_path: Path):
    from renderers import render_markdown

    from derive.graph import load_network
    from derive.notes import build_note, render_note

    folder = tmp_path / "a`<img src=x onerror=alert(7)>`b"  # the path shows in the notes
    folder.mkdir()
    attack = " ".join(HTML_ATTACKS)
    (folder / "net.yaml").write_text(
        NOTE.format(title=_yaml_string(attack), description=_yaml_string(attack))
    )
    net = str(folder / "net.yaml")
    note = build_note(load_network(net))  # once: each flavor is a rendering of it
    documents = []
    for flavor in ("github", "portable"):
        documents.append(render_note(note, "markdown", flavor))
        for command in (["dL/dW1"], ["backprop"]):
            result = run(tmp_path, *command, "--net", net, "--format", "markdown",
                         "--md-flavor", flavor)  # fmt: skip
            assert result.returncode == 0, result.stderr
            documents.append(result.stdout)
    for md, html in zip(documents, render_markdown(documents), strict=True):
        page = _Tags(html)
        # The images a note links are its own figures and training plot, named after the note.
        plots = {f"{note.name}.training.svg", *(f.file for f in note_figures(note))}
        live = [
            (tag, attrs)
            for tag, attrs in page.tags
            if tag in ("script", "img", "iframe")
            and not (tag == "img" and dict(attrs).get("src") in plots)
        ]
        handlers = [a for _, attrs in page.tags for a, _ in attrs if a.startswith("on")]
        assert live == [] and handlers == [], md[:300]
        assert "<script>alert(1)</script>" in "".join(page.text)  # shown, as written
    # Its figures are SVG files: each parses as XML and runs nothing.
    for figure in note_figures(note):
        root = ET.fromstring(figure.svg)
        assert not [e.tag for e in root.iter() if e.tag.endswith(("script", "foreignObject"))]


# -- Mermaid: a label is one label, whatever it says ------------------------------------


def mermaid_statements(block: str) -> list[str]:
    """Return a Mermaid flowchart's statements as Mermaid splits them: at a line break or a
    ``;``, except inside a quoted label."""
    statements, current, quoted = [], "", False
    for ch in block:
        if ch == '"':
            quoted = not quoted
        if ch in "\n;" and not quoted:
            statements.append(current.strip())
            current = ""
        else:
            current += ch
    return [s for s in [*statements, current.strip()] if s]


def test_a_label_cannot_add_nodes_or_edges_to_the_diagram():
    import html

    from renderers import mermaid_blocks

    from derive.graph import load_network
    from derive.notes.diagram import diagram
    from derive.printing.document import environment

    macro = environment().get_template("notes_mermaid.md.j2").module.mermaid
    pic = diagram(load_network("simple"))
    clean = mermaid_statements(mermaid_blocks(macro(pic))[0])
    breakout = '\\text{a");n0==>n5;n9("INJECTED}'  # issue 21: a node and two edges more
    pic.nodes[0]["label"] = breakout
    pic.edges[0]["label"] = 'W"1'  # a bare quote broke the diagram
    hostile = mermaid_statements(mermaid_blocks(macro(pic))[0])
    assert len(hostile) == len(clean)
    labels = [html.unescape(s.split('"')[1].replace("#", "&")) for s in hostile if '"' in s]
    assert breakout in labels and 'W"1' in labels


# -- --templates: sandboxed and bounded ----------------------------------------------------

TEMPLATE_ATTACKS = {
    "popen.j2": (
        "{{ cycler.__init__.__globals__.os.popen('touch pwned').read() }}",
        "popen.j2:1: template error: access to attribute '__init__'",
    ),
    "self.j2": ("{% include 'self.j2' %}", "self.j2:1: template error: a template includes"),
    "macro.j2": (
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "macro.j2:1: template error: a template includes, extends or calls itself",
    ),
    "raise.j2": ("a\n{{ 1 / 0 }}", "raise.j2:2: template error: division by zero"),
    "loop.j2": (
        "{% for i in range(10**8) %}x{% endfor %}",  # reached 3.2 GB
        "loop.j2:1: template error: a loop over range() would take over 100,000 steps",
    ),
    "big.j2": ("{{ 'x' * 10**9 }}", "big.j2:1: template error: a repeated string would be over"),
    "power.j2": ("{{ 9 ** 999999 }}", "power.j2:1: template error: a power in the template"),
    "lipsum.j2": ("{{ lipsum(n=100000) }}", "lipsum.j2:1: template error: 'lipsum' is undefined"),
}


@pytest.fixture(scope="module")
def hostile_templates(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    for name, (text, _) in TEMPLATE_ATTACKS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", sorted(TEMPLATE_ATTACKS))
def test_a_hostile_template_is_one_line_and_runs_nothing(hostile_templates, name, monkeypatch):
    from derive.printing.document import environment, render_template

    monkeypatch.chdir(hostile_templates)
    with pytest.raises(DeriveError) as caught:
        render_template(environment(hostile_templates), name)
    assert str(caught.value).startswith(str(hostile_templates / TEMPLATE_ATTACKS[name][1]))
    assert not (hostile_templates / "pwned").exists()


def test_a_template_that_loops_without_writing_is_stopped_in_time(hostile_templates, monkeypatch):
    from derive.printing import sandbox
    from derive.printing.document import environment, render_template

    (hostile_templates / "slow.j2").write_text(
        "{% for a in range(300) %}{% for b in range(300) %}{% endfor %}{% endfor %}"
    )
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.001)
    with pytest.raises(DeriveError, match=r"slow.j2:1: template error: the template takes over"):
        render_template(environment(hostile_templates), "slow.j2")


def test_notes_templates_run_in_the_sandbox(hostile_templates, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "notes.j2").write_text(TEMPLATE_ATTACKS["popen.j2"][0])
    result = run(tmp_path, "notes", "--net", "simple", "--out", "out", "--templates", "templates")
    assert "notes.j2:1: template error: access to attribute '__init__'" in one_line_error(result)
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "out").exists()


def test_a_template_that_is_a_symbolic_link_is_refused_and_publishes_nothing(tmp_path):
    # An instructor's shared template pack: evil.j2 -> a local file, included by notes.j2.
    (tmp_path / "secret.txt").write_text("the exam's answers\n")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "evil.j2").symlink_to(tmp_path / "secret.txt")
    (folder / "notes_answers.j2").write_text('{% include "evil.j2" %}\n')
    result = run(tmp_path, "notes", "--net", "simple", "--out", "out", "--templates", "templates")
    assert one_line_error(result) == (
        "derive: templates/evil.j2: the template 'evil.j2' is a symbolic link;"
        " put the file itself in the templates folder"
    )
    assert not (tmp_path / "out").exists()


def test_a_template_file_that_replaces_nothing_is_said_with_the_name_it_is_close_to(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "note.j2").write_text("{{ 1 }}")  # meant for notes.j2
    result = run(tmp_path, "notes", "--net", "simple", "--out", "out", "--templates", "templates")
    assert result.returncode == 0 and result.stderr == (
        "derive: warning: templates/note.j2 replaces no shipped template (it is used only where"
        " another includes it); did you mean notes.j2?\n"
    )


# -- nothing lost ----------------------------------------------------------------------------


def test_a_network_named_index_in_a_course_is_refused(tmp_path: Path):
    # Before: its note and the course's index both wrote index.md; the note was lost.
    (tmp_path / "index.yaml").write_text(TINY)
    result = run(tmp_path, "notes", "--net", "index.yaml", "simple", "--out", "out")
    assert "is named 'index'" in one_line_error(result, "index.yaml: ")
    assert not (tmp_path / "out").exists()


def test_a_folder_in_the_way_is_named_and_nothing_is_written(tmp_path: Path):
    (tmp_path / "out" / "net.tex").mkdir(parents=True)  # before: .net.tex.v7jlz5t4.tmp
    (tmp_path / "net.yaml").write_text(TINY + "values: {x1: 0.5, W1: 0.1, y: 1}\n")
    result = run(tmp_path, "notes", "--net", "net.yaml", "--out", "out", "--format", "both")
    assert "is a folder" in one_line_error(result, "out/net.tex: ")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["net.tex"]


def test_a_run_that_cannot_write_one_file_writes_none(tmp_path: Path, monkeypatch):
    import errno

    from derive.notes import files

    (tmp_path / "a.md").write_text("old a")
    real = files._stage

    def full_disk(path, data):
        if path.name == "b.tex":
            raise OSError(errno.ENOSPC, "No space left on device", f"{path.parent}/.b.tex.x.tmp")
        return real(path, data)

    monkeypatch.setattr(files, "_stage", full_disk)
    with pytest.raises(DeriveError) as caught:
        files.write_all([(tmp_path / "a.md", "new a"), (tmp_path / "b.tex", "b")])
    assert str(caught.value).startswith(f"{tmp_path / 'b.tex'}: cannot write it: No space left")
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]  # no temporary file left
    assert (tmp_path / "a.md").read_text() == "old a"


@pytest.mark.parametrize("where", ["", "loop"])
def test_an_out_folder_that_cannot_be_one_is_one_line(tmp_path: Path, where):
    if where:  # before: a RuntimeError traceback from Path.resolve
        (tmp_path / "loop").symlink_to(tmp_path / "loop")
    result = run(tmp_path, "notes", "--net", "simple", "--out", where)
    assert one_line_error(result)
    assert [p.name for p in tmp_path.iterdir()] == (["loop"] if where else [])


@pytest.mark.parametrize("signals", ["SIGTERM", "SIGINT twice"])
def test_a_signal_during_pdf_leaves_no_temporary_folder(tmp_path: Path, monkeypatch, signals):
    import os
    import signal
    import subprocess
    import tempfile

    from derive.notes import files, write

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    sent = signal.SIGTERM if signals == "SIGTERM" else signal.SIGINT

    def pdflatex(*args, **kwargs):  # stopped while pdflatex runs
        os.kill(os.getpid(), sent)
        return subprocess.CompletedProcess(args, 0, b"", b"")

    rmtree = files.shutil.rmtree

    def second_signal(path, **kwargs):  # and, for SIGINT, again while cleaning up
        if "derive-pdf-" in str(path):  # not another folder's cleanup (a finalizer's)
            os.kill(os.getpid(), sent)
        rmtree(path, **kwargs)

    monkeypatch.setattr(write.shutil, "which", lambda name: "/usr/bin/pdflatex")
    monkeypatch.setattr(write.subprocess, "run", pdflatex)
    if sent == signal.SIGINT:
        monkeypatch.setattr(files.shutil, "rmtree", second_signal)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = run(tmp_path, "notes", "--net", "simple", "--out", "out", "--pdf")
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    assert (result.returncode, result.stderr.strip()) == (1, "derive: aborted")  # no traceback
    assert list((tmp_path / "tmp").iterdir()) == [] and not (tmp_path / "out").exists()


# -- tracebacks and silent wrong answers: one line, exit 2 --------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "y=1e308"], "the loss L overflows"),  # before: ValueError in fsum
        (["--at", "x1=1e308,W1=1e308"], "z1 overflows"),  # before: dL/dW1 = 0, exit 0
        (["--at", "x1=1e308,W1=1e308", "--format", "json"], "z1 overflows"),  # was Infinity
        (["--at", "random:²"], "cannot read the seed"),  # before: int() of a superscript
        (["--at", "random:" + "7" * 5000], "cannot read the seed"),  # Python's int limit
        (["--max-paths", "²"], "--max-paths takes a whole number"),
        (["--at", "x1=1\nx2=2"], "the value of x1 must be a number, not '1\\nx2=2'"),
        (["--at", "random", "--lr", "-1"], "the learning rate must be a positive number"),
        (["--at", "random", "--lr", "nan"], "the learning rate must be a positive number"),
    ],
)
def test_a_value_derive_cannot_compute_with_is_one_line(tmp_path: Path, args, message):
    assert message in one_line_error(run(tmp_path, "dL/dW1", "--net", "simple", *args))


def test_an_overflowing_sweep_is_one_line(tmp_path: Path):
    result = run(tmp_path, "backprop", "--net", "simple", "--at", "x2=1e200,W2=1e200", "--matrix")
    assert "overflows at this point" in one_line_error(result)


def test_a_neuron_that_feeds_nothing_still_gets_its_notes():
    from derive.evaluate import random_point
    from derive.graph import Network
    from derive.notes.sweep import graph_view
    from derive.sweep import backward, values

    # Before: KeyError 'z_A' in notes: their computational-graph view took the first
    # neuron, A, which the sweep never reaches.
    dead = TINY.replace("[O]", "[A, B]") + "  - neurons: [O]\nedges:\n"
    dead += "  x1 -> A: W1\n  x1 -> B: W2\n  B -> O: W3\n"
    net = Network(read_spec("net.yaml", dead))
    sweep = backward(net, detail=True)
    view = graph_view(net, sweep, values(net, random_point(net), True, sweep))
    assert view.neuron == "B"


def test_a_tiny_answer_is_not_called_zero(tmp_path: Path):
    # Before: "the answer is 0 ... the answer is 2.359e-195", contradicting itself.
    concrete = "2*O1*O2*W4*x1*(1 - O1)*(1 - O2)*(O2 - y)"
    result = run(tmp_path, "check", f"dL/dW1 = ({concrete})^64", "--net", "simple")
    assert result.returncode == 1
    assert "the answer is 0" not in result.stdout and "the answer is 5.4" in result.stdout


# -- fuzz: mutated files, points, answers and templates keep the contract -----------------

# Cases per family: a second or so in all (python tests/hostile_fuzz.py runs more).
FUZZ_CASES = {"netfile": 10, "point": 15, "answer": 15, "template": 5}


@pytest.mark.parametrize("family", sorted(FUZZ_CASES))
def test_fuzzed_input_ends_in_an_answer_or_one_line(tmp_path: Path, monkeypatch, family):
    from hostile_fuzz import fuzz

    monkeypatch.chdir(tmp_path)
    runs, problems = fuzz(family, FUZZ_CASES[family], seed=21, tmp=tmp_path)
    assert runs == FUZZ_CASES[family] and not problems, dict(problems)
