"""The bundled MNIST-sized network (784-100-10, 79,510 parameters), at a random point.

Every gradient of the scalar sweep and of the layer form equals plain matrix
backpropagation written in tests/reference.py, to 1e-9 relative.
"""

from __future__ import annotations

import math

import reference as ref
from conftest import matrix_entries

from derive.evaluate import read_at
from derive.graph import load_network
from derive.layers import layer_form, layer_values
from derive.sweep import backward, values


def test_every_mnist_gradient_equals_plain_matrix_backprop():
    net = load_network("mnist")
    assert len(net.parameters) == 79_510
    point, origin = read_at("random:7", net)
    assert origin.startswith("random, seed 7 (")
    # The reference uses mnist's own layer-indexed names: x_k, w<l>_<j>_<k>, b<l>_<j>.
    want = ref.matrix_gradients(
        [784, 100, 10], ["relu", "softmax"], point, [point[t] for t in net.targets]
    )
    sweep = backward(net)
    scalar = values(net, point, sweep=sweep).gradients
    form = layer_form(net)
    matrix = dict(matrix_entries(form, layer_values(form, point)))
    assert set(want) == set(scalar) == set(matrix)
    for name, w in want.items():
        assert math.isclose(scalar[name], w, rel_tol=1e-9, abs_tol=1e-13), name
        assert math.isclose(matrix[name], w, rel_tol=1e-9, abs_tol=1e-13), name
    # By hand. Sweep: the 10 output lines come from L (no multiplication), each of the 100
    # hidden lines has 10 terms (every output depends on every hidden neuron through the
    # softmax); w1 and b1 feed one neuron (78,400 + 100), w2 and b2 all 10 outputs through
    # softmax (10,000 + 100). Paths: a first-layer parameter has 10 paths of 3 edges (2
    # multiplications each), a second-layer one 10 paths of 2 edges (1 each).
    assert sweep.multiplications == {
        "sweep": 1_000 + 78_400 + 100 + 10_000 + 100,
        "paths": (78_400 + 100) * 20 + (1_000 + 10) * 10,
    }
