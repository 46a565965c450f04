"""Ways to run the document encoder faster, measured against the build's own export.

Makes, from the model, (1) the export a build makes (`qa.index.onnx_export.export_encoder`),
(2) the same model exported with eager attention and rewritten by onnxruntime's transformer
optimiser (fused Attention, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization), and
(3) the export quantised to int8 per channel; embeds the chunks of a corpus with each, with
and without spinning threads, interleaved round by round, and prints chunks a second (wall)
and chunks per CPU-second (the work, which other jobs on a shared machine change less), and
each variant's largest difference and smallest cosine against the build's export. Asserts nothing.

    python benchmarks/encoder_variants.py --corpus /tmp/bench/corpus-1000 --texts 300 --rounds 4
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.corpus import load_corpus
from qa.index.encoder import ONNX_MODEL_FILE, OnnxEncoder
from qa.index.embedding import load_embedder
from qa.index.onnx_export import export_encoder


def make_variants(work: Path) -> dict[str, Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    embedder = load_embedder(Settings().model)
    plain, fused, int8 = work / "export", work / "fused", work / "int8"
    export_encoder(embedder, plain)
    transformer = embedder._model[0].auto_model
    before = transformer.config._attn_implementation
    transformer.set_attn_implementation("eager")  # the attention pattern the optimiser fuses
    export_encoder(embedder, fused)
    transformer.set_attn_implementation(before)
    config = transformer.config
    optimized = optimize_model(str(fused / ONNX_MODEL_FILE), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=1)
    print("fused:", {k: v for k, v in optimized.get_fused_operator_statistics().items() if v})
    optimized.save_model_to_file(str(fused / ONNX_MODEL_FILE))
    shutil.copytree(plain, int8)
    quantize_dynamic(str(plain / ONNX_MODEL_FILE), str(int8 / ONNX_MODEL_FILE), weight_type=QuantType.QInt8,
                     per_channel=True, reduce_range=True)
    return {"export": plain, "fused": fused, "int8 per channel": int8}


def encoder(directory: Path, spin: bool, threads: int) -> OnnxEncoder:
    import onnxruntime

    found = OnnxEncoder(directory, threads=threads).load()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    options.log_severity_level = 3
    found._session = onnxruntime.InferenceSession(str(directory / ONNX_MODEL_FILE), options,
                                                  providers=["CPUExecutionProvider"])
    return found


def main(argv: list[str] | None = None) -> int:
    from build import texts_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of documents (e.g. synthetic.py's 1k corpus)")
    parser.add_argument("--texts", type=int, default=300, help="chunks embedded per round (default 300)")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    texts = texts_of(load_corpus(args.corpus), Settings())["chunks"][: args.texts]
    threads = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as work:
        encoders = {}
        for name, directory in make_variants(Path(work)).items():
            encoders[name] = encoder(directory, False, threads)
            if name != "int8 per channel":
                encoders[f"{name} + spinning"] = encoder(directory, True, threads)
        reference = encoders["export"].embed_many(texts)
        for name, found in encoders.items():
            vectors = found.embed_many(texts)
            print(f"{name}: max difference {float(np.abs(vectors - reference).max()):.2g}, "
                  f"min cosine {float((vectors * reference).sum(axis=1).min()):.7f}")
        rates = {name: [] for name in encoders}
        for round_ in range(args.rounds):
            for name, found in encoders.items():
                cpu, wall = time.process_time(), time.perf_counter()
                found.embed_many(texts)
                rates[name].append((len(texts) / (time.perf_counter() - wall), len(texts) / (time.process_time() - cpu)))
            print(round_, {n: f"{r[-1][0]:.1f}/s, {r[-1][1]:.1f}/CPU-s" for n, r in rates.items()},
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{len(texts)} chunks, {threads} threads; best of {args.rounds}:")
    for name, found in rates.items():
        print(f"  {name}: {max(r[0] for r in found):.1f} chunks/s, {max(r[1] for r in found):.1f} per CPU-second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
