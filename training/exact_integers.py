"""int8 weights stored as uint8 with zero point 128: the same integers, on exact kernels.

    python -m training.exact_integers --reader models/reader

onnxruntime's dynamic quantisation multiplies uint8 activations by int8 weights (U8S8). On x86
processors with AVX2 but no AVX-512 VNNI, its U8S8 kernels add pairs of products in 16 bits
(``vpmaddubsw``), which saturates: the shipped reader's logits there differed by up to 2.1 from
the exact ones, and three tests flipped (issue 19). Its U8U8 kernels widen to 16 bits first and
are exact on every x86 processor, VNNI or not.

``w + 128`` with zero point ``z + 128`` is the same integer matrix as ``w`` with ``z``, since
``(w + 128) - (z + 128) = w - z``: the converted model computes exactly what the original does on
a VNNI processor, everywhere. `convert` changes nothing else in the graph; `main` converts a
shipped reader in place and records it in ``reader.json`` (checksums, ``integer_kernels``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qa.answering.reader import CONFIG_FILE, MODEL_FILE, sha256_of

#: How `reader.json` names the integer layout `convert` writes.
INTEGER_KERNELS = "u8u8"
#: The shift from int8 to uint8 that keeps every product: ``(w + 128) - (z + 128) = w - z``.
SHIFT = 128


def convert(model):
    """Every ``MatMulInteger`` weight (an int8 initializer, with its int8 zero point) in ``model``
    (an ``onnx.ModelProto``) rewritten as uint8, in place. Returns how many were rewritten."""
    from onnx import numpy_helper

    initializers = {i.name: i for i in model.graph.initializer}
    converted = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        # MatMulInteger(A, B, a_zero_point, b_zero_point): B and its zero point are the weights.
        names = [node.input[1]] + ([node.input[3]] if len(node.input) > 3 and node.input[3] else [])
        tensors = [initializers.get(name) for name in names]
        if any(t is None for t in tensors):
            raise ValueError(f"{node.name}: weights are not initializers; not a dynamically quantised model")
        arrays = [numpy_helper.to_array(t) for t in tensors]
        if arrays[0].dtype == np.uint8:
            continue
        if any(a.dtype != np.int8 for a in arrays):
            raise ValueError(f"{node.name}: weights of type {arrays[0].dtype}, expected int8")
        if len(arrays) == 1:  # an absent zero point is 0: the shifted one must be given
            zero = np.zeros(arrays[0].shape[-1:] if arrays[0].ndim > 1 else (), dtype=np.int8)
            node.input.extend([""] * (4 - len(node.input)))
            node.input[3] = names[0] + "_zero_point_u8"
            model.graph.initializer.append(numpy_helper.from_array(zero, node.input[3]))
            names.append(node.input[3])
            arrays.append(zero)
            tensors.append(model.graph.initializer[-1])
        for tensor, array, name in zip(tensors, arrays, names):
            tensor.CopyFrom(numpy_helper.from_array((array.astype(np.int16) + SHIFT).astype(np.uint8), name))
        converted += 1
    return converted


def signed_weights(model) -> list[str]:
    """Names of ``MatMulInteger`` nodes whose weights are still int8 (U8S8: inexact on AVX2)."""
    from onnx import numpy_helper

    initializers = {i.name: i for i in model.graph.initializer}
    return [
        node.name for node in model.graph.node
        if node.op_type == "MatMulInteger" and node.input[1] in initializers
        and numpy_helper.to_array(initializers[node.input[1]]).dtype == np.int8
    ]


def convert_file(src: Path, dst: Path) -> int:
    import onnx

    model = onnx.load(str(src))
    converted = convert(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return converted


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=Path("models/reader"))
    args = parser.parse_args(argv)
    path = args.reader / MODEL_FILE
    converted = convert_file(path, path)
    config_path = args.reader / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["sha256"][MODEL_FILE] = sha256_of(path)
    config["integer_kernels"] = INTEGER_KERNELS
    config_path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    print(f"{path}: {converted} weight matrices now uint8 (zero point + {SHIFT}); reader.json updated")


if __name__ == "__main__":
    main()
