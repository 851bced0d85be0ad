"""Would grouping spiral members by their widths too pay? Measured here, and it does not.

replab's forward (nn.playground) groups a population's members by activation and depth and computes every layer
8 units wide (narrower members are masked). This alternative groups by activation and exact hidden widths and
slices every layer to its own units, so a 4-3-2 network computes 4×3 and 3×2 products instead of 8×8. Both train the
same members side by side (best of interleaved bursts) on: the bench_spiral mix, [8, 8] tanh networks, and two
waves of the paper profile (one architecture, four activations). Three runs on 2026-12-01: 0.12–0.17× on the
mix, 1.02–1.07× on [8, 8], 0.64–0.83× on the paper waves — a row of 8 float32 units is one AVX vector, so slicing
saves no arithmetic and adds work, and the mix's 24 groups cost more than its 6. Prints only.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_table as bt  # noqa: E402
import tensorflow as tf  # noqa: E402

import replab.nn.playground as pg  # noqa: E402
from replab.nn.layers import ACTIVATIONS


def width_group_forward(params, h, start, stop, activation, widths):
    """Members start…stop−1, which share an activation and hidden widths, each layer sliced to its own units."""
    h = h[start:stop]
    fan_in = h.shape[-1]
    for layer, units in enumerate(widths):
        w, b = params[layer]
        h = ACTIVATIONS[activation](pg.small_dense(h, w[start:stop, :fan_in, :units], b[start:stop, :, :units]))
        fan_in = units
    w, b = params[-1]
    return tf.tanh(pg.small_dense(h, w[start:stop, :fan_in], b[start:stop]))[..., 0]


def width_groups_forward(params, x, masks):
    h = x * masks.input_mask[:, None, :]
    return tf.concat([width_group_forward(params, h, *group) for group in masks.groups], axis=0)


def width_groups(members):
    """Runs (start, stop, activation, widths) of neighbours with the same activation and hidden widths."""
    groups = []
    for k, (hidden, activation) in enumerate(members):
        key = (activation, tuple(hidden))
        if groups and groups[-1][2:] == key:
            groups[-1] = (groups[-1][0], k + 1, *key)
        else:
            groups.append((k, k + 1, *key))
    return tuple(groups)


def width_order(member):
    hidden, activation = member
    return pg.PLAYGROUND_ACTIVATIONS.index(activation), -len(hidden), tuple(-w for w in hidden)


def main():
    activations = ("tanh", "relu", "sigmoid", "linear")
    cases = {
        "bench_spiral mix, K=1,600": bt.spiral_members(True, 1600),
        "[8, 8] tanh, K=1,600": bt.spiral_members(False, 1600),
        "paper wave 4-3-2-2-1-1, 4 activations, K=1,260": [((4, 3, 2, 2, 1, 1), activations[i % 4])
                                                           for i in range(1260)],
        "paper wave 8-8-6-4-2-1, 4 activations, K=1,260": [((8, 8, 6, 4, 2, 1), activations[i % 4])
                                                           for i in range(1260)],
    }
    for name, members in cases.items():
        rates = bt.best_rate({"replab": bt.spiral_loop(members, pg.masked_forward, 8),
                              "by width": bt.spiral_loop(members, width_groups_forward, 8, sort_key=width_order,
                                                         groups=width_groups)})
        print(f"{name}: replab {rates['replab']:,.0f}, by width {rates['by width']:,.0f} network-epochs/s "
              f"({rates['by width'] / rates['replab']:.2f}x)", flush=True)


if __name__ == "__main__":
    main()
