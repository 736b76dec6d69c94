"""Random network files for the tests: one generator, for Hypothesis and for seeded runs."""

from __future__ import annotations

import random

import reference as ref
import yaml
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from derive.graph import load_network

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softplus")
# The output activations that keep each loss finite (bce and cross_entropy take logs).
OUTPUT_ACTIVATIONS = {
    "squared_error": ref.ACTIVATIONS,
    "half_squared_error": ref.ACTIVATIONS,
    "mse": ref.ACTIVATIONS,
    "bce": ("sigmoid", "softmax"),
    "cross_entropy": ("sigmoid", "softmax", "softplus"),
}


def network_spec(integer, choice, boolean) -> dict:
    """Return a network file as a dict: layers, explicit edges (skips, ties), loss.

    ``integer(lo, hi)``, ``choice(options)`` and ``boolean()`` make every random
    choice: Hypothesis's draws in the property tests, a seeded ``random.Random`` in
    :func:`seeded`.
    """
    inputs = [f"x{i}" for i in range(1, integer(1, 3) + 1)]
    depth = integer(1, 3)
    loss_kind = choice(ref.LOSSES)
    out_act = choice(OUTPUT_ACTIVATIONS[loss_kind])
    widths = [integer(1, 3) for _ in range(depth)]
    out_width = integer(2 if (out_act, loss_kind) == ("softmax", "bce") else 1, 3)
    widths.append(out_width)
    layers: list[dict] = [{"inputs": inputs}]
    for index, width in enumerate(widths, 1):
        last = index == len(widths)
        layer = {
            "neurons": [f"N{index}{j}" for j in range(1, width + 1)],
            "activation": out_act if last else choice(HIDDEN_ACTIVATIONS),
        }
        if boolean():
            layer["bias"] = True
        layers.append(layer)

    sources = [inputs] + [layer["neurons"] for layer in layers[1:]]
    edges: dict[str, str] = {}
    weights: list[str] = []
    for index in range(1, len(sources)):
        for dst in sources[index]:
            previous = sources[index - 1]
            kept = [s for s in previous if integer(0, 4) > 0] or [previous[0]]
            skips = [s for layer in sources[: index - 1] for s in layer if integer(0, 5) == 0]
            for src in kept + skips:
                if weights and integer(0, 5) == 0:
                    weight = choice(weights)  # a tied (shared) weight
                else:
                    weight = f"W{len(weights) + 1}"
                    weights.append(weight)
                edges[f"{src} -> {dst}"] = weight
    return {
        "name": "random",
        "layers": layers,
        "edges": edges,
        "loss": {"name": "L", "kind": loss_kind},
    }


def seeded(seed: int) -> dict:
    """Return the random network file of one seed (the same on every run and worker)."""
    rng = random.Random(seed)
    return network_spec(
        rng.randint, lambda options: rng.choice(list(options)), lambda: rng.random() < 0.5
    )


# Seeds whose networks cover a tied weight, a skip edge, biases, softmax, mse and bce, and
# every elementwise activation but one between them (see the test modules that use them).
NOTE_SEEDS = (1, 5, 6)


_FOLDERS: list = []  # kept open while the process runs; each is removed when it ends


def seeded_files(seeds=NOTE_SEEDS) -> list[str]:
    """Write each seed's network file (named random<seed>) to a new folder; return the paths.

    (Test ids are made at collection, before any tmp_path: the folder is a
    TemporaryDirectory of the process, removed at its exit.)
    """
    import tempfile
    from pathlib import Path

    _FOLDERS.append(tempfile.TemporaryDirectory(prefix="derive-random-networks-"))
    folder = Path(_FOLDERS[-1].name)
    paths = []
    for seed in seeds:
        spec = {**seeded(seed), "name": f"random{seed}"}
        path = folder / f"random{seed}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        paths.append(str(path))
    return paths


# -- Hypothesis: random network files and points ------------------------------------

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def network_files(draw) -> dict:
    """Return a network file as a dict: layers, explicit edges (skips, ties), loss."""
    return network_spec(
        lambda lo, hi: draw(st.integers(lo, hi)),
        lambda options: draw(st.sampled_from(options)),
        lambda: draw(st.booleans()),
    )


def load(tmp_path, spec: dict):
    """Write a network file as a user would and load it."""
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return load_network(path)


def pick_point(net, seed: int) -> dict[str, float]:
    """Return the reference's random point of a seed, away from any relu kink (else rejected)."""
    point = ref.random_point(net, seed)
    assume(ref.relu_margin(net, point) > 1e-3)
    return point
