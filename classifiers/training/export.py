"""Export the fine-tuned student (encoder + heads) as one ONNX graph and quantize it to int8."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

INPUT_NAMES = ["input_ids", "attention_mask"]
HEAD_OUTPUTS = ["condition_logits", "relevance_logit", "severity_logits", "risk_logits"]
#: The four heads, then the mean-pooled sentence embedding the stacked ensemble member reads.
OUTPUT_NAMES = [*HEAD_OUTPUTS, "pooled"]
#: Added after quantization (:func:`add_token_risk_output`): the risk head applied per token.
TOKEN_RISK_OUTPUT = "token_risk_logits"


def export_onnx(model: torch.nn.Module, path: Path, opset: int = 17) -> Path:
    """Write ``model`` as a single fp32 ONNX graph with dynamic batch and sequence axes.

    Uses the TorchScript exporter (``dynamo=False``): the dynamo exporter of torch 2.13 needs
    onnxscript and produces graphs that ``quantize_dynamic`` handles less well.
    """
    import torch

    model.eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    dynamic.update({name: {0: "batch"} for name in OUTPUT_NAMES})
    with torch.inference_mode():
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=INPUT_NAMES,
            output_names=OUTPUT_NAMES,
            dynamic_axes=dynamic,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    logger.info("exported fp32 ONNX (%d bytes)", path.stat().st_size)
    return path


def quantize_int8(src: Path, dst: Path, calibration: Sequence[Sequence[int]] | None = None) -> Path:
    """Int8 quantization (QInt8 weights, per-channel scales) of an fp32 ONNX model.

    With ``calibration`` (token id sequences, e.g. a sample of the training split) the
    activation scales are then fixed (:func:`freeze_activation_scales`), so a text's scores do
    not depend on the other texts in its batch; without it they stay dynamic.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst.parent.mkdir(parents=True, exist_ok=True)
    # The heads are tiny and decide the thresholds: keep them fp32. (Quantizing the severity head
    # also breaks ORT's MatMulIntegerToFloat fusion, whose bias must match the 1-wide projection.)
    graph = onnx.load(str(src), load_external_data=False).graph
    heads = tuple(f"/{name}/" for name in ("conditions", "relevance", "severity", "risk"))
    exclude = [node.name for node in graph.node if node.name.startswith(heads)]
    # Per-channel scales halve the accuracy cost of int8 here (validation macro-F1 0.706 fp32 ->
    # 0.670 per-tensor, 0.689 per-channel on the 2026-11-25 student) for +0.1 MB.
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        nodes_to_exclude=exclude,
        per_channel=True,
    )
    if calibration:
        freeze_activation_scales(dst, activation_ranges(dst, calibration))
    add_token_risk_output(dst)
    logger.info("quantized int8 ONNX (%d bytes)", dst.stat().st_size)
    return dst


def add_token_risk_output(path: Path) -> bool:
    """Add ``TOKEN_RISK_OUTPUT``: the risk head applied to each token state, in place.

    The student mean-pools its last layer (``pooled = ReduceSum(states * mask) / count``) and
    the risk head is affine, so the risk logits are the mean of the head applied to each token.
    With this output the evidence of a crisis call reads each sentence's tokens in context with
    no extra model pass (``classifiers.transformer.TokenRisk``). The other outputs are unchanged.
    Returns False (and changes nothing) where the graph is not of that form.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    if any(o.name == TOKEN_RISK_OUTPUT for o in graph.output):
        return True
    producer = {out: node for node in graph.node for out in node.output}
    init = {t.name: t for t in graph.initializer}
    try:
        summed = producer[producer["pooled"].input[0]]
        masked = producer[summed.input[0]]
        if (producer["pooled"].op_type, summed.op_type, masked.op_type) != (
            "Div",
            "ReduceSum",
            "Mul",
        ):
            return False
        states = masked.input[0]
        if "risk.weight_Transposed_quantized" in init:  # int8 head, per-channel scales
            q = numpy_helper.to_array(init["risk.weight_Transposed_quantized"]).astype(np.float32)
            zero = numpy_helper.to_array(init["risk.weight_Transposed_zero_point"])
            scale = numpy_helper.to_array(init["risk.weight_Transposed_scale"])
            weights = (q - zero.astype(np.float32)) * scale.astype(np.float32)
        elif "risk.weight" in init:  # fp32 Gemm, weight (5, hidden)
            weights = numpy_helper.to_array(init["risk.weight"]).astype(np.float32).T
        else:
            return False
        bias = numpy_helper.to_array(init["risk.bias"]).astype(np.float32)
    except KeyError:
        return False
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.ascontiguousarray(weights), "token_risk.weight"),
            numpy_helper.from_array(bias, "token_risk.bias"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("MatMul", [states, "token_risk.weight"], ["token_risk_matmul"]),
            helper.make_node("Add", ["token_risk_matmul", "token_risk.bias"], [TOKEN_RISK_OUTPUT]),
        ]
    )
    graph.output.append(
        helper.make_tensor_value_info(
            TOKEN_RISK_OUTPUT, TensorProto.FLOAT, ["batch", "tokens", int(bias.shape[0])]
        )
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    logger.info("added the per-token risk output %s", TOKEN_RISK_OUTPUT)
    return True


def activation_ranges(
    path: Path, calibration: Sequence[Sequence[int]], batch_size: int = 32
) -> list[tuple[float, float]]:
    """The (min, max) each ``DynamicQuantizeLinear`` of a dynamically quantized graph sees,
    as the median over length-sorted batches of ``calibration`` (the batches the student is
    served in), in graph order."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    from classifiers.transformer import pad_batch

    model = onnx.load(str(path))
    quantizers = [n for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
    names = [name for n in quantizers for name in n.output[1:]]  # scale, zero point
    for name in names:
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    order = np.argsort([len(s) for s in calibration], kind="stable")
    seen: list[list[tuple[float, float]]] = []
    for start in range(0, len(order), batch_size):
        ids, mask = pad_batch([calibration[i] for i in order[start : start + batch_size]])
        out = session.run(names, {"input_ids": ids, "attention_mask": mask})
        scales, zero_points = out[0::2], out[1::2]
        seen.append(
            [
                (-float(z) * float(sc), (255.0 - float(z)) * float(sc))
                for sc, z in zip(scales, zero_points, strict=True)
            ]
        )
    ranges = np.median(np.asarray(seen), axis=0)
    return [(float(lo), float(hi)) for lo, hi in ranges]


def freeze_activation_scales(path: Path, ranges: Sequence[tuple[float, float]]) -> Path:
    """Replace each ``DynamicQuantizeLinear`` by a ``QuantizeLinear`` with a fixed scale.

    ``quantize_dynamic`` takes each activation's scale from the whole batch tensor, padding
    included, so a text's scores depended on what else was in its batch: on the test split,
    1.3% of posts got another label set and 0.7% another crisis call alone than among the
    others. A fixed scale per activation (``ranges`` from :func:`activation_ranges`, the same
    arithmetic as ``DynamicQuantizeLinear`` on them) gives every text the same scores in any
    batch. Values beyond a range saturate, as static quantization does.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    nodes: list[onnx.NodeProto] = []
    k = 0
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        lo, hi = min(0.0, ranges[k][0]), max(0.0, ranges[k][1])
        k += 1
        scale = max(hi - lo, 1e-8) / 255.0
        zero_point = int(np.clip(round(-lo / scale), 0, 255))
        quantized, scale_out, zero_point_out = node.output
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{scale_out}_fixed"),
                numpy_helper.from_array(
                    np.array(zero_point, dtype=np.uint8), f"{zero_point_out}_fixed"
                ),
            ]
        )
        nodes += [
            helper.make_node(
                "QuantizeLinear",
                [node.input[0], f"{scale_out}_fixed", f"{zero_point_out}_fixed"],
                [quantized],
            ),
            helper.make_node("Identity", [f"{scale_out}_fixed"], [scale_out]),
            helper.make_node("Identity", [f"{zero_point_out}_fixed"], [zero_point_out]),
        ]
    if k != len(ranges):
        raise ValueError(f"{k} dynamic quantizers in {path}, but {len(ranges)} ranges")
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    logger.info("fixed the activation scales of %d quantizers", k)
    return path
