"""Rendering and writing: a note in Markdown or LaTeX, a course, PDFs (files: derive.notes.files).

One template, ``notes.j2``, holds the wording of a note; ``notes_layout_md.j2`` and
``notes_layout_tex.j2`` hold how each language lays out a heading, a table, a
folded solution. The filters ``m`` (inline math), ``block``, ``lines``, ``t`` (text),
``prose`` (text with math in it) and ``code`` write finished values in each language.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from derive.data import data_dir
from derive.errors import DeriveError
from derive.graph import Network, load_network
from derive.netfile import course_networks
from derive.notes.build import build_note
from derive.notes.code import INLINE_VALUES, point_json
from derive.notes.content import Intro, Link, Note
from derive.notes.counts import scaling
from derive.notes.figures import linked, note_figures
from derive.notes.files import (  # noqa: F401 (target, write_atomic: for this module's users)
    SAFE_NAME,
    notes_folder,
    target,
    temporary_folder,
    write_all,
    write_atomic,
)
from derive.notes.gates import GraphNote, gates_figure, graph_documents, graph_intro, graph_note
from derive.notes.sweep import LR
from derive.printing.document import (
    environment,
    render_template,
)
from derive.printing.languages import MARKDOWN, Language, language
from derive.words import did_you_mean

# What each --format writes: its document languages, and whether it writes the HTML page.
WRITES = {
    "markdown": (("markdown",), False),
    "latex": (("latex",), False),
    "both": (("markdown", "latex"), False),
    "html": ((), True),
    "all": (("markdown", "latex"), True),
}
FORMATS = tuple(WRITES)
FLAVORS = ("github", "portable")
# Each written language's file extension.
EXTENSIONS = {"markdown": "md", "latex": "tex"}


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _filters(lang: Language) -> dict[str, Callable]:
    """Return the notes templates' filters, each one of the language object's methods."""

    def pieces(items: Iterable[tuple[str, str]]) -> str:
        write = {"math": lang.note_math, "code": lang.code}
        return "".join(write.get(kind, lang.escape)(piece) for kind, piece in items)

    return {
        "m": lang.note_math,
        "t": lang.escape,
        "code": lang.code,
        "block": lang.display,
        "lines": lambda items, lhs: lang.stack(lhs, items),
        "prose": pieces,
        "names": lambda items: _and_list([lang.note_math(x) for x in items]),
    }


@functools.lru_cache(maxsize=16)
def _environment(templates: str | None, fmt: str, flavor: str):
    """Return the notes' Jinja environment for one language: made, and its templates
    compiled, once per process (a course renders every note twice with it)."""
    env = environment(templates)
    env.filters.update(_filters(language(fmt, flavor)))
    return env


def render_note(note: Note, fmt: str, flavor: str = "github", templates: str | None = None) -> str:
    """Return one note as Markdown (``flavor`` github or portable) or LaTeX."""
    env, lang = _environment(templates, fmt, flavor), language(fmt, flavor)
    ext = lang.extension
    text = render_template(
        env, "notes.j2", note=note, lang=ext, flavor=flavor, layout=f"notes_layout_{ext}.j2"
    )
    return MARKDOWN[flavor].finish(lang.finish(text))


def render_answers(note: Note, solutions: bool, templates: str | None = None) -> str:
    """Return the note's answers file for derive check --file: blanks, or the solutions."""
    env = _environment(templates, "markdown", "github")
    text = render_template(env, "notes_answers.j2", note=note, solutions=solutions)
    return re.sub(r"\n{3,}", "\n\n", text)


def render_index(
    notes: list[Note], fmt: str, templates: str | None = None, flavor: str = "github", intro=None
) -> str:
    """Return the course's introduction and reading order (``index.md`` or ``index.tex``)."""
    env, lang = _environment(templates, fmt, flavor), language(fmt, flavor)
    links = [Link(n.title_plain, f"{n.name}.md", f"{n.name}.pdf") for n in notes]
    text = render_template(
        env,
        "notes_index.j2",
        notes=notes,
        links=list(zip(notes, links, strict=True)),
        intro=intro or notes[0].intro,
        scaling=scaling(),
        lang=lang.extension,
        flavor=flavor,
        layout=f"notes_layout_{lang.extension}.j2",
    )
    return lang.finish(text)


def compile_pdf(tex: str, name: str, warn: Callable[[str], None] | None = None) -> bytes | None:
    """Return the PDF pdflatex makes of ``tex`` (run twice, for the references).

    Returns None, after ``warn`` is told why, when pdflatex is not installed.
    """
    if shutil.which("pdflatex") is None:
        if warn:
            warn("pdflatex is not installed, so no PDF was made")
        return None
    # Removed even when SIGTERM or Ctrl-C (twice) stops pdflatex.
    with temporary_folder("derive-pdf-") as tmp:
        source = Path(tmp) / "notes.tex"
        source.write_text(tex, encoding="utf-8")
        for _ in range(2):
            proc = subprocess.run(
                [
                    "pdflatex",
                    "-halt-on-error",
                    "-interaction=nonstopmode",
                    "-no-shell-escape",
                    source.name,
                ],
                cwd=tmp,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=300,
            )
            if proc.returncode != 0:
                lines = [x for x in proc.stdout.decode("latin-1").splitlines() if x.startswith("!")]
                raise DeriveError(f"pdflatex could not build {name}: " + "; ".join(lines[:3]))
        return (Path(tmp) / "notes.pdf").read_bytes()


def read_course(sources: list[str]) -> list[str]:
    """Return the networks of a course: ``course.yaml`` files expanded into the networks they list.

    A course file is YAML with a ``networks:`` list (names or paths, relative to the file).
    """
    out = []
    for s in sources:
        path = Path(s)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            # The one loader of every command: a malformed file is one line, as in `show`.
            items = course_networks(path)
            if items is not None:
                out += [str(path.parent / x) if (path.parent / x).is_file() else x for x in items]
                continue
        out.append(s)
    return out


def reading_order(nets: list[Network], listed: bool) -> list[Network]:
    """Return the course's reading order: as listed in a course file, else fewest parameters first."""
    return nets if listed else sorted(nets, key=lambda n: len(n.parameters))


def _check_options(fmt: str, flavor: str, sources: list[str], lr: float | None) -> None:
    if fmt not in FORMATS:
        raise DeriveError(
            f"unknown notes format '{fmt}'", hint="use markdown, latex, both, html or all"
        )
    if flavor not in FLAVORS:
        raise DeriveError(f"unknown Markdown flavor '{flavor}'", hint="use github or portable")
    if not sources:
        raise DeriveError("no network given")
    if lr is not None and not 0 < lr < float("inf"):
        raise DeriveError(
            f"--lr {lr:g} is no learning rate", hint="give a positive number such as 0.1"
        )


def _check_course(nets: list[Network], wrt: list[str]) -> None:
    """Raise DeriveError for a course whose notes would overwrite each other or miss --wrt."""
    names = [n.name for n in nets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DeriveError(
            f"two networks are named {twice[0]}: their notes would overwrite each other"
        )
    if len(nets) > 1 and "index" in names:
        raise DeriveError(
            "a network of a course is named 'index': its note would overwrite the course's index",
            file=nets[names.index("index")].file,
            hint="give it another name with 'name:' in its file",
        )
    if wrt and len(nets) > 1:
        unknown = [w for w in wrt if not any(w in n.parameters for n in nets if not is_graph(n))]
        if unknown:
            raise DeriveError(f"{unknown[0]} is a weight or bias of none of the networks")


def _build_notes(nets, wrt, at, lr, progress, warn) -> list[Note | GraphNote]:
    notes: list[Note | GraphNote] = []
    for net in nets:
        if progress:
            progress(net.name)
        if is_graph(net):  # a computational graph's note: the gate view first (notes.gates)
            notes.append(graph_note(net))
            continue
        mine = [w for w in wrt if w in net.parameters] if len(nets) > 1 else wrt
        if wrt and not mine:
            raise DeriveError(
                f"none of {', '.join(wrt)} is in the network '{net.name}'",
                hint="its weights and biases are " + ", ".join(net.parameters[:20]),
            )
        notes.append(build_note(net, mine, at) if lr is None else build_note(net, mine, at, lr=lr))
        if warn and at is None:
            _say_random_point(net, notes[-1].sweep.source, warn)
    return notes


def _note_files(note: Note, net: Network, langs, flavor, templates, pdf, at, warn) -> list:
    """Return one note's files: Markdown (and its plot), LaTeX, the PDF, answers, the point."""
    files: list[tuple[str, str | bytes]] = []
    if "markdown" in langs:
        md = render_note(note, "markdown", flavor, templates)
        files.append((f"{note.name}.md", md))
        files += linked(md, note_figures(note))  # its diagrams, SVG files it links
        if note.training is not None:
            files.append((note.training.svg_file, note.training.svg))
    tex = render_note(note, "latex", flavor, templates) if "latex" in langs or pdf else None
    if tex is not None and "latex" in langs:
        files.append((f"{note.name}.tex", tex))
    if pdf and tex is not None:
        data = compile_pdf(tex, f"{note.name}.pdf", warn)
        if data is not None:
            files.append((f"{note.name}.pdf", data))
    if note.graded:
        for solutions, kind in ((False, "answers"), (True, "solutions")):
            files.append((f"{note.name}.{kind}.md", render_answers(note, solutions, templates)))
    if len(net.parameters) > INLINE_VALUES:
        from derive.notes.build import example_point

        files.append((f"{note.name}.point.json", point_json(net, example_point(net, at)[0])))
    return files


def _index_files(notes, langs, templates, flavor, intro, pdf, warn) -> list:
    files: list[tuple[str, str | bytes]] = []
    for lang in langs:
        files.append(
            (f"index.{EXTENSIONS[lang]}", render_index(notes, lang, templates, flavor, intro))
        )
    if pdf:
        tex = render_index(notes, "latex", templates, flavor, intro)
        data = compile_pdf(tex, "index.pdf", warn)
        if data is not None:
            files.append(("index.pdf", data))
    return files


def write_course(
    sources: list[str],
    out_dir: str,
    fmt: str = "markdown",
    wrt: list[str] | None = None,
    templates: str | None = None,
    flavor: str = "github",
    pdf: bool = False,
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    at: str | None = None,
    lr: float | None = None,
) -> list[Path]:
    """Write one note per network into ``out_dir``, and the course's index for several.

    ``progress`` is called with each network's name as its note is built (the CLI
    passes a progress bar); ``warn`` gets warnings (no pdflatex, a random example
    point). ``at`` is every note's example point, as ``--at`` takes it (default: the
    file's ``values:``, random with seed 0 where they are missing). ``lr`` is the learning
    rate η of the worked steps (default 0.1). Every note, the
    index and every PDF are made before any file is written, so a mistake in one
    network or template leaves the folder as it was; each file is replaced
    atomically.

    Raises
    ------
    DeriveError
        For an unknown network, a ``--wrt`` name no network has, two networks with one
        name, a ``latex:`` override that is not safe to typeset, or a broken template.
    """
    _check_options(fmt, flavor, sources, lr)
    _say_unused_templates(templates, warn)
    expanded = read_course(sources)
    wrt = list(wrt or [])
    out = notes_folder(out_dir)
    # The commands in the notes run from the notes' folder, where the answers files are.
    nets = reading_order(
        [load_network(s, commands_from=out) for s in expanded],
        listed=expanded != list(sources) or len(sources) == 1,
    )
    if len(nets) == 1 and is_graph(nets[0]):
        return _write_graph(nets[0], out, fmt, flavor, at, pdf, warn, lr)
    _check_course(nets, wrt)
    langs, page = WRITES[fmt]
    notes = _build_notes(nets, wrt, at, lr, progress, warn) if langs or pdf else []
    intro = next((n.intro for n in notes if n.intro is not None), None)
    if intro is None and notes:  # a course of graphs only
        intro = graph_intro(notes[0].net)
    # A page keeps every general paragraph: the course's index.html has none of them.
    pages = [replace(n, intro=None) if isinstance(n, Note) else n for n in notes]
    if len(notes) > 1:
        if isinstance(intro, Intro):
            intro = replace(intro, exercises=general_exercises(notes))
        notes = link_course(notes, langs)
    files: list[tuple[str, str | bytes]] = []
    for note, net in zip(notes, nets if notes else [], strict=True):  # none for HTML alone
        if isinstance(note, GraphNote):
            files += _graph_files(note, graph_point(net, at), langs, flavor, pdf, warn, lr)
            continue
        files += _note_files(note, net, langs, flavor, templates, pdf, at, warn)
    if len(notes) > 1:
        files += _index_files(notes, langs, templates, flavor, intro, pdf, warn)
    if page:
        files += _page_files(nets, langs, templates, at, pages)
    files = _keep_answers(out, files, warn)
    out.mkdir(parents=True, exist_ok=True)
    write_all([(target(out, file), data) for file, data in files])
    return [out / file for file, _ in files]


def _say_unused_templates(templates: str | None, warn: Callable[[str], None] | None) -> None:
    """Tell ``warn`` of a file in --templates that replaces no shipped template (note.j2 for
    notes.j2 is used only if another template includes it)."""
    if not templates or not warn or not Path(templates).is_dir():
        return
    shipped = {p.name for p in data_dir("templates").glob("*.j2")}
    for path in sorted(Path(templates).glob("*.j2")):
        if path.name not in shipped and not path.is_symlink():  # (refused when read)
            close = did_you_mean(path.name, sorted(shipped), cutoff=0.7)
            warn(
                f"{path} replaces no shipped template (it is used only where another includes"
                f" it){'; ' + close if close else ''}"
            )


# A line of an answers file that has an answer after its =.
ANSWERED = re.compile(r"^- \*\*Exercise [^*]*\*\* [^=\n]*=[^\S\n]*\S", re.M)


def _keep_answers(out: Path, files: list, warn: Callable[[str], None] | None) -> list:
    """Return ``files`` without the answers files a student has begun to fill in (kept, said)."""
    kept = []
    for file, data in files:
        there = out / file
        if file.endswith(".answers.md") and there.is_file() and not there.is_symlink():
            try:
                with there.open("rb") as f:
                    begun = ANSWERED.search(f.read(1 << 20).decode("utf-8", "replace"))
            except OSError:
                begun = None
            if begun:
                if warn:
                    warn(f"kept {there}: it holds answers (delete it for a blank one)")
                continue
        kept.append((file, data))
    return kept


def _page_files(nets: list[Network], langs, templates, at, notes) -> list[tuple[str, str]]:
    """Return the HTML pages of a course's networks, layered ones and graphs alike; a layered
    network's page holds its note's sections (the note built for Markdown and LaTeX, if any)."""
    return html_files(nets, langs, templates, at, [n for n in notes if isinstance(n, Note)])


def _write_graph(
    net: Network,
    out: Path,
    fmt: str,
    flavor: str,
    at: str | None,
    pdf: bool,
    warn: Callable[[str], None] | None,
    lr: float | None = None,
) -> list[Path]:
    """Write a computational graph's note (the gate view first): Markdown, LaTeX, the PDF, the page."""
    langs, page = WRITES[fmt]
    files = _graph_files(graph_note(net), graph_point(net, at), langs, flavor, pdf, warn, lr)
    if page:
        files += html_files([net], langs, None, at)
    paths = [(target(out, file), data) for file, data in files]
    out.mkdir(parents=True, exist_ok=True)
    write_all(paths)
    return [out / file for file, _ in files]  # as --out names them, as a course's are


def is_graph(net: Network) -> bool:
    """Return whether a network's note is a graph's (formula nodes or examples: notes.gates)."""
    return bool(net.is_graph or net.examples)


def graph_point(net: Network, at: str | None) -> dict[str, float]:
    """Return a graph note's example point (``--at``, else the file's values)."""
    from derive.notes.build import example_point

    return example_point(net, at)[0]


def _graph_files(
    note: GraphNote,
    point: dict[str, float],
    langs: list[str],
    flavor: str,
    pdf: bool,
    warn,
    lr: float | None = None,
) -> list[tuple[str, str | bytes]]:
    """Return a graph's note files: one per language in ``langs`` (a batch's Markdown with its
    training plot), and with ``pdf`` its PDF."""
    eta = LR if lr is None else lr
    wanted = sorted({*langs, *(["latex"] if pdf else [])})
    figure = gates_figure(note.net, point)
    docs = graph_documents(note, point, wanted, flavor, eta, figure)
    files: list[tuple[str, str | bytes]] = [
        (f"{note.name}.{EXTENSIONS[lang]}", docs[lang]) for lang in langs
    ]
    if "markdown" in langs:
        files += linked(docs["markdown"], [figure])
    if note.net.examples and "markdown" in langs:
        from derive.notes.training import training

        plot = training(note.net, point, eta)
        files.append((plot.svg_file, plot.svg))
    data = compile_pdf(docs["latex"], f"{note.name}.pdf", warn) if pdf else None
    if data is not None:
        files.append((f"{note.name}.pdf", data))
    return files


def _say_random_point(net: Network, source: str, warn: Callable[[str], None]) -> None:
    """Tell ``warn`` when a note's example point is random though no ``--at`` asked for one."""
    file = Path(net.file).name
    if source == "random":
        what = f"{file} has no values:, so the notes use a random point (seed 0)"
    elif source == "mixed":
        what = f"{file}'s values: leave some out, so the notes draw those at random (seed 0)"
    else:
        return
    warn(f"{what}; choose the point with --at FILE or --at random:SEED")


def html_files(
    nets: list[Network],
    langs: list[str],
    templates: str | None,
    at: str | None = None,
    notes: list[Note] | None = None,
) -> list[tuple[str, str]]:
    """Return the HTML pages of the networks (and ``index.html`` for several), linked in order;
    each holds its note's sections (``notes``, the networks' own, built where not given)."""
    from derive.notes.page import build_page, render_page, render_page_index

    built = {n.name: n for n in notes or ()}
    pages = [build_page(net, at, built.get(net.name)) for net in nets]
    for i, page in enumerate(pages):
        page.siblings = [
            (label, f"{page.name}.{ext}")
            for lang, label, ext in (("markdown", "Markdown", "md"), ("latex", "LaTeX", "tex"))
            if lang in langs
        ]
        if len(pages) > 1:
            page.course = ("the course's introduction", "index.html")
            if i + 1 < len(pages):
                page.next = (pages[i + 1].title, f"{pages[i + 1].name}.html")
    files = [(f"{page.name}.html", render_page(page, templates)) for page in pages]
    if len(pages) > 1:
        files.append(("index.html", render_page_index(pages, templates)))
    return files


def link_course(notes: list[Note], langs: list[str]) -> list[Note]:
    """Return the notes of a course: none repeats the introduction, each links to the next."""
    md, tex = "markdown" in langs, "latex" in langs
    # A LaTeX note is read as the PDF it makes: it links to the other notes' PDFs.
    index = Link("the course's introduction", "index.md" if md else "", "index.pdf" if tex else "")
    out = []
    for i, note in enumerate(notes):
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        if isinstance(note, Note):  # a general exercise is asked once, in the introduction
            note = replace(note, exercises=[x for x in note.exercises if not x.general])
        out.append(
            replace(
                note,
                intro=None,
                course=index,
                next=Link(
                    nxt.title_plain,
                    f"{nxt.name}.md" if md else "",
                    f"{nxt.name}.pdf" if tex else "",
                )
                if nxt
                else None,
            )
        )
    return out


def general_exercises(notes: list) -> list:
    """Return the exercises several notes of a course ask alike, each once, in reading order."""
    seen: dict[str, object] = {}
    for note in notes:
        for x in getattr(note, "exercises", []):
            if x.general:
                seen.setdefault(repr(x.question), x)
    return list(seen.values())
