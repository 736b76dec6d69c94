"""The ``latex:`` allow-list: which TeX a network file may use to typeset a name.

The file reader refuses anything else (:mod:`derive.netfile`); the printers rely on it
(:mod:`derive.printing.document`, :mod:`derive.printing.mathml`).
"""

from __future__ import annotations

import re

# The commands a name's ``latex:`` may use: letters, accents, fonts, spacing. An allow-list,
# so that \input, \write18, \catcode, \def, \csname and whatever TeX adds next stay out.
SAFE_TEX_COMMANDS = frozenset(
    """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta
    Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell partial nabla infty prime star ast
    circ bullet cdot dots ldots cdots hat bar tilde vec dot ddot check breve acute grave
    widehat widetilde overline underline mathit mathrm mathbf mathsf mathtt mathcal mathbb
    mathfrak boldsymbol text textit textrm textbf operatorname textunderscore quad qquad
    hbar imath jmath
""".split()
)


def latex_problem(tex: str) -> str | None:
    r"""Return why a ``latex:`` override is unsafe or would break a formula, or None.

    The value is checked as TeX reads it: ``^^`` (TeX's notation for any character,
    ``^^5c`` a backslash) is refused outright, so no command can be spelled past the list.
    Only the commands in :data:`SAFE_TEX_COMMANDS` and the spacing symbols are allowed,
    braces must balance, and only letters, digits, spaces and ``_ ^ { } ( ) [ ] + - = , . ; :
    ! / * '`` may appear: ``% # & $ ~`` end or break a formula, and `` ` " < > | @ ?`` would
    end Markdown's math, a Mermaid label or a table cell around it.

    >>> latex_problem(r"\hat{y}_{\mathrm{out}}") is None
    True
    >>> latex_problem(r"\input{secret}")
    'uses \\input, which is not allowed'
    >>> latex_problem(r"^^5cinput{/etc/passwd}")
    "uses TeX's ^^ notation, which could spell any command"
    """
    if "^^" in tex:
        return "uses TeX's ^^ notation, which could spell any command"
    if tex.startswith(("^", "_")) or tex.endswith(("^", "_")):
        return "starts or ends with '^' or '_', which would join the formula around it"
    depth = 0
    for match in re.finditer(r"\\(?:[A-Za-z]+|.?)|.", tex, re.S):
        token = match.group(0)
        if token.startswith("\\"):
            word = token[1:]
            if word.isalpha() and word not in SAFE_TEX_COMMANDS:
                return f"uses {token}, which is not allowed"
            if not word.isalpha() and word not in (",", ";", "!", " ", "_", "{", "}"):
                return f"uses the control symbol {token!r}, which is not allowed"
        elif token in "%#&$~":
            return f"uses the character {token!r}, which ends or breaks a formula"
        elif token in '`"<>|@?':
            return f"uses the character {token!r}, which would break the notes around it"
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return "has a '}' that closes nothing"
        elif not token.isprintable() or ord(token) > 126:
            return f"uses the character {token!r}, which is not plain ASCII"
    return "has a '{' that is never closed" if depth else None
