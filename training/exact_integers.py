"""Reader weights requantised to 7 bits, so onnxruntime's fast integer kernels are exact everywhere.

    python -m training.exact_integers --reader models/reader

onnxruntime's dynamic quantisation multiplies uint8 activations by int8 weights (U8S8). On x86
processors with AVX2 but no AVX-512 VNNI, its U8S8 kernels add pairs of products in 16 bits
(``vpmaddubsw``), which saturates once ``2 * 255 * |w|`` passes 32767: the shipped 8-bit reader's
logits there differed by up to 2.1 from the exact ones, and three tests flipped (issue 19).

Weights within +-63 cannot saturate it (``2 * 255 * 63 = 32130``), so the same fast kernel is
exact on AVX2, on AVX-512 and with VNNI (which accumulates in 32 bits anyway). `requantize` maps
each output channel's int8 weights onto +-63 and multiplies that channel's scale by the same
factor, with zero point 0: onnxruntime's ``reduce_range`` for a model already quantised.

Storing the 8-bit weights as uint8 (+128, the same integers) makes onnxruntime use its U8U8
kernels, exact too and without the loss of a bit, but they were 35 % slower per product here
(1.59 against 1.18 ms for a 192 x 384 x 1536 product, 2 cores) and warm ``ask()`` 20-25 % slower;
`requantize` reads both layouts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qa.answering.reader import CONFIG_FILE, MODEL_FILE, sha256_of

#: How `reader.json` names the integer layout `requantize` writes.
INTEGER_KERNELS = "u8s8_7bit"
#: The largest weight whose pair of products with uint8 activations fits 16 bits:
#: ``2 * 255 * 63 = 32130 <= 32767``; symmetric, so the zero point stays 0.
WEIGHT_LIMIT = 63


def _weight_names(model, node) -> tuple[str, str, str]:
    """A ``MatMulInteger`` node's weight, weight zero point and weight scale initializers.

    onnxruntime's dynamic quantisation names them ``<w>_quantized``, ``<w>_zero_point`` and
    ``<w>_scale``; the scale is multiplied into the product's float output after the node."""
    weight = node.input[1]
    zero = node.input[3] if len(node.input) > 3 else ""
    if not weight.endswith("_quantized") or not zero:
        raise ValueError(f"{node.name}: not a weight quantised by onnxruntime's quantize_dynamic")
    return weight, zero, weight[: -len("_quantized")] + "_scale"


def requantize(model) -> int:
    """Every ``MatMulInteger`` weight of ``model`` (an ``onnx.ModelProto``) rewritten as int8
    within +-`WEIGHT_LIMIT` with zero point 0, its scale adjusted, in place. Returns how many.

    Each output channel keeps its own scale (the reader is quantised per channel), stretched by
    ``max|w| / WEIGHT_LIMIT``; rounding to the nearest (ties to even) is the only change."""
    from onnx import numpy_helper

    initializers = {i.name: i for i in model.graph.initializer}
    changed = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        names = _weight_names(model, node)
        if any(name not in initializers for name in names):
            raise ValueError(f"{node.name}: weights are not initializers; not a dynamically quantised model")
        weights, zero, scale = (numpy_helper.to_array(initializers[n]) for n in names)
        if weights.ndim != 2:
            raise ValueError(f"{node.name}: weights of shape {weights.shape}, expected a matrix")
        centred = weights.astype(np.int32) - zero.astype(np.int32)  # zero: scalar or per column
        largest = np.abs(centred).max(axis=0)
        if zero.dtype == np.int8 and not zero.any() and (largest <= WEIGHT_LIMIT).all():
            continue
        if scale.ndim == 0:  # one scale for the whole matrix: one stretch
            largest = np.full_like(largest, largest.max())
        # Columns already within the limit keep their weights; the others shrink onto it.
        stretch = np.where(largest > WEIGHT_LIMIT, largest / WEIGHT_LIMIT, 1.0)
        seven = np.clip(np.rint(centred / stretch), -WEIGHT_LIMIT, WEIGHT_LIMIT).astype(np.int8)
        new_scale = (scale.astype(np.float64) * (stretch if scale.ndim else stretch[0])).astype(np.float32)
        zeros = np.zeros(zero.shape, dtype=np.int8)
        for name, array in zip(names, (seven, zeros, new_scale)):
            initializers[name].CopyFrom(numpy_helper.from_array(array, name))
        changed += 1
    return changed


def saturating_weights(model) -> list[str]:
    """Names of ``MatMulInteger`` nodes whose weights U8S8 kernels may not multiply exactly on
    AVX2: anything but int8 within +-`WEIGHT_LIMIT` with zero point 0."""
    from onnx import numpy_helper

    initializers = {i.name: i for i in model.graph.initializer}
    found = []
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        weights, zero, _ = (numpy_helper.to_array(initializers[n]) for n in _weight_names(model, node))
        if weights.dtype != np.int8 or zero.any() or np.abs(weights.astype(np.int32)).max() > WEIGHT_LIMIT:
            found.append(node.name)
    return found


def requantize_file(src: Path, dst: Path) -> int:
    import onnx

    model = onnx.load(str(src))
    changed = requantize(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return changed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=Path("models/reader"))
    args = parser.parse_args(argv)
    path = args.reader / MODEL_FILE
    changed = requantize_file(path, path)
    config_path = args.reader / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["sha256"][MODEL_FILE] = sha256_of(path)
    config["integer_kernels"] = INTEGER_KERNELS
    config_path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    print(f"{path}: {changed} weight matrices requantised to +-{WEIGHT_LIMIT}; reader.json updated")


if __name__ == "__main__":
    main()
