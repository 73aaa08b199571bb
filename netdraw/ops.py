"""The op vocabulary: framework op names -> canonical kinds and attribute names, as data.

Each framework has one table. An entry is ``op_type: (kind, {framework_attr: ir_attr})``;
attributes not renamed keep their own name. Importers look ops up with :func:`lookup`;
anything missing from a table is drawn as kind ``other`` with its op type shown.
"""

from __future__ import annotations

from typing import Any

OpEntry = tuple[str, dict[str, str]]

_CONV_ATTRS = {"kernel_shape": "kernel_size", "strides": "stride", "pads": "padding",
               "dilations": "dilation", "group": "groups", "auto_pad": "auto_pad"}
_POOL_ATTRS = {"kernel_shape": "kernel_size", "strides": "stride", "pads": "padding",
               "dilations": "dilation", "ceil_mode": "ceil_mode"}


def _kinds(kind: str, names: str, attrs: dict[str, str] | None = None) -> dict[str, OpEntry]:
    return {name: (kind, attrs or {}) for name in names.split()}


#: ONNX standard (ai.onnx and ai.onnx.ml) operators.
ONNX: dict[str, OpEntry] = {
    **_kinds("conv", "Conv ConvInteger QLinearConv DeformConv", _CONV_ATTRS),
    **_kinds("conv_transpose", "ConvTranspose", _CONV_ATTRS),
    **_kinds("dense", "Gemm QGemm"),
    **_kinds("matmul", "MatMul MatMulInteger QLinearMatMul Einsum"),
    **_kinds("pool", "MaxPool AveragePool LpPool MaxRoiPool RoiAlign MaxUnpool", _POOL_ATTRS),
    **_kinds("global_pool", "GlobalAveragePool GlobalMaxPool GlobalLpPool"),
    **_kinds("norm", "BatchNormalization InstanceNormalization LayerNormalization "
                     "GroupNormalization LpNormalization MeanVarianceNormalization LRN "
                     "RMSNormalization SimplifiedLayerNormalization SkipLayerNormalization",
             {"epsilon": "eps"}),
    **_kinds("activation", "Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Elu Selu Celu "
                           "Gelu FastGelu BiasGelu Softplus Softsign HardSwish Mish "
                           "ThresholdedRelu Clip Swish QuickGelu Erf"),
    **_kinds("softmax", "Softmax LogSoftmax Hardmax"),
    **_kinds("dropout", "Dropout"),
    **_kinds("flatten", "Flatten"),
    **_kinds("reshape", "Reshape Squeeze Unsqueeze Expand Tile DepthToSpace SpaceToDepth"),
    **_kinds("transpose", "Transpose"),
    **_kinds("concat", "Concat ConcatFromSequence"),
    **_kinds("add", "Add Sum Sub"),
    **_kinds("multiply", "Mul Div Pow"),
    **_kinds("attention", "Attention MultiHeadAttention GroupQueryAttention"),
    **_kinds("embedding", "Gather GatherElements GatherND"),
    **_kinds("recurrent", "LSTM GRU RNN", {"hidden_size": "units", "direction": "direction"}),
    **_kinds("upsample", "Resize Upsample", {"mode": "mode", "scales": "scale"}),
    **_kinds("pad", "Pad"),
    **_kinds("slice", "Slice Split SplitToSequence"),
    **_kinds("constant", "Constant ConstantOfShape Range EyeLike RandomNormal RandomUniform"),
    **_kinds("subgraph", "If Loop Scan"),
    **_kinds("reduce", "ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 "
                       "ReduceLogSum ReduceLogSumExp ReduceSumSquare ArgMax ArgMin TopK"),
    **_kinds("cast", "Cast CastLike QuantizeLinear DequantizeLinear DynamicQuantizeLinear"),
    **_kinds("identity", "Identity"),
    **_kinds("elementwise", "Abs Neg Sqrt Exp Log Reciprocal Floor Ceil Round Sign Sin Cos "
                            "Max Min Mean Mod Greater GreaterOrEqual Less LessOrEqual Equal "
                            "Not And Or Xor Where IsNaN IsInf"),
}

TABLES: dict[str, dict[str, OpEntry]] = {"onnx": ONNX}


def lookup(framework: str, op_type: str) -> OpEntry:
    """Canonical (kind, attribute renames) for a framework op; ``("other", {})`` if unknown."""
    return TABLES.get(framework, {}).get(op_type, ("other", {}))


def normalise_attrs(renames: dict[str, str], attrs: dict[str, Any]) -> dict[str, Any]:
    """Rename framework attribute keys to the IR's keys (unknown keys are kept as they are)."""
    return {renames.get(key, key): value for key, value in attrs.items()}
