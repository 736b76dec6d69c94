"""Stage 9: study notes on backpropagation, one per network, and a course.

The notes in ``output/`` are regenerated, in the course's reading order, with::

    derive notes --net output/course.yaml --out output/ --format all

The package, one job per module:

- ``content``: what a note says, as typed dataclasses (and the number format);
- ``chain``: one path, several paths, the weights worked in full, the table of the rest;
- ``sweep``: the backward sweep as the worked example, the computational-graph view;
- ``layerform``: the layer (matrix) form where the network allows it;
- ``nielsen``: BP1-BP4 derived from the sweep's lines, delta's meaning, Nielsen's readings;
- ``counts``: what the sweep, path-by-path sums and finite differences cost;
- ``code``: the note's dependency-free Python program;
- ``exercises``: exercises whose answers are not in the text;
- ``build``: one note's content from the network, every number from one sweep;
- ``diagram``: the network drawn for TikZ (nodes in columns, labels placed, paths highlighted);
- ``svg``: the network as SVG (columns by topological generation), for the page, Jupyter and
  the Markdown notes' figure files;
- ``figures``: the Markdown notes' figures, SVG files beside the note (the page's drawing);
- ``page``: the interactive HTML page (``--format html``) and its index;
- ``files``: a run's files written whole or none; temporary folders gone even on a signal;
- ``write``: rendering with the templates, the course, PDFs;
- ``gates``: a computational graph's note (formula nodes): the gate view, then the
  commands' own reports (``templates/graph.md.j2``, ``graph.tex.j2``).

The templates ``templates/notes.j2`` (wording), ``notes_intro.j2``, ``notes_index.j2``
and ``notes_layout_md.j2`` / ``notes_layout_tex.j2`` (layout per language) turn a
:class:`~derive.notes.content.Note` into Markdown or LaTeX; ``notes_page.html.j2`` (with its
``.css.j2`` and ``.js.j2``) a :class:`~derive.notes.page.Page` into HTML.

Examples
--------
>>> from derive.graph import load_network
>>> note = build_note(load_network("two_hidden"))
>>> [w.wrt for w in note.worked]
['W1', 'W7']
"""

from __future__ import annotations

from derive.notes.build import build_note
from derive.notes.write import compile_pdf, render_index, render_note, write_atomic, write_course

__all__ = [
    "build_note",
    "compile_pdf",
    "render_index",
    "render_note",
    "write_atomic",
    "write_course",
]
