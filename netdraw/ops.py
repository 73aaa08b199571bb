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
    **_kinds("add", "Add Sum"),
    **_kinds("subtract", "Sub"),
    **_kinds("multiply", "Mul"),
    **_kinds("divide", "Div"),
    **_kinds("maximum", "Max"),
    **_kinds("minimum", "Min"),
    **_kinds("average", "Mean"),
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
                            "Pow Mod Greater GreaterOrEqual Less LessOrEqual Equal "
                            "Not And Or Xor Where IsNaN IsInf"),
}


# -- PyTorch -------------------------------------------------------------------------------
# One table for module classes (CamelCase), functions and tensor methods (lower case, with
# dunders and the in-place ``_`` stripped: ``__iadd__``/``add_`` -> ``add``) and the aten ops
# of torch.export programs (leading underscores stripped). Kind ``identity`` means
# "pass-through": the importer dissolves such calls into the edges.

_TORCH_LINEAR = {"out_features": "units"}
_TORCH_RNN = {"hidden_size": "units"}
_TORCH_NORM = {"num_channels": "num_features"}


def _dims_variants(stems: str) -> str:
    return " ".join(f"{s}{d}d" for s in stems.split() for d in (1, 2, 3))


TORCH: dict[str, OpEntry] = {
    # modules
    **_kinds("conv", _dims_variants("Conv LazyConv")),
    **_kinds("conv_transpose", _dims_variants("ConvTranspose LazyConvTranspose")),
    **_kinds("dense", "Linear LazyLinear Bilinear NonDynamicallyQuantizableLinear",
             _TORCH_LINEAR),
    **_kinds("pool", _dims_variants("MaxPool AvgPool AdaptiveAvgPool AdaptiveMaxPool LPPool "
                                    "FractionalMaxPool MaxUnpool")),
    **_kinds("norm", _dims_variants("BatchNorm LazyBatchNorm InstanceNorm LazyInstanceNorm")
             + " SyncBatchNorm LayerNorm GroupNorm LocalResponseNorm RMSNorm CrossMapLRN2d",
             _TORCH_NORM),
    **_kinds("activation", "ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish "
                           "Sigmoid Tanh Hardtanh Hardswish Hardsigmoid Softplus Softsign "
                           "Tanhshrink Threshold GLU LogSigmoid Hardshrink Softshrink"),
    **_kinds("softmax", "Softmax LogSoftmax Softmin Softmax2d AdaptiveLogSoftmaxWithLoss"),
    **_kinds("dropout", _dims_variants("Dropout") + " Dropout AlphaDropout "
                        "FeatureAlphaDropout"),
    **_kinds("flatten", "Flatten"),
    **_kinds("reshape", "Unflatten PixelShuffle PixelUnshuffle ChannelShuffle"),
    **_kinds("embedding", "Embedding EmbeddingBag"),
    **_kinds("recurrent", "LSTM GRU RNN LSTMCell GRUCell RNNCell", _TORCH_RNN),
    **_kinds("attention", "MultiheadAttention"),
    **_kinds("upsample", "Upsample UpsamplingNearest2d UpsamplingBilinear2d"),
    **_kinds("pad", _dims_variants("ZeroPad ConstantPad ReflectionPad ReplicationPad "
                                   "CircularPad")),
    **_kinds("identity", "Identity"),
    # functions, tensor methods and aten ops
    **_kinds("conv", "conv1d conv2d conv3d convolution"),
    **_kinds("conv_transpose", "conv_transpose1d conv_transpose2d conv_transpose3d"),
    **_kinds("dense", "linear bilinear addmm"),
    **_kinds("matmul", "matmul mm bmm baddbmm addbmm einsum grouped_mm"),
    **_kinds("pool", "max_pool1d max_pool2d max_pool3d avg_pool1d avg_pool2d avg_pool3d "
                     "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d "
                     "adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d "
                     "lp_pool1d lp_pool2d max_pool2d_with_indices max_pool3d_with_indices "
                     "adaptive_max_pool2d_with_indices"),
    **_kinds("norm", "batch_norm layer_norm group_norm instance_norm rms_norm normalize "
                     "local_response_norm native_batch_norm native_layer_norm "
                     "native_group_norm native_batch_norm_legit_no_training "
                     "native_batch_norm_legit"),
    **_kinds("activation", "relu relu6 leaky_relu prelu rrelu elu selu celu gelu silu mish "
                           "sigmoid tanh hardtanh hardswish hardsigmoid softplus softsign glu "
                           "logsigmoid threshold clamp clip"),
    **_kinds("softmax", "softmax log_softmax softmin safe_softmax"),
    **_kinds("dropout", "dropout dropout1d dropout2d dropout3d alpha_dropout "
                        "feature_alpha_dropout native_dropout"),
    **_kinds("flatten", "flatten ravel"),
    **_kinds("reshape", "view reshape unflatten squeeze unsqueeze expand expand_as repeat "
                        "tile view_as pixel_shuffle pixel_unshuffle broadcast_to unsafe_view"),
    **_kinds("transpose", "transpose permute t T mT movedim swapaxes swapdims"),
    **_kinds("concat", "cat concat concatenate stack hstack vstack dstack"),
    **_kinds("add", "add"),
    **_kinds("subtract", "sub"),
    **_kinds("multiply", "mul"),
    **_kinds("divide", "div floordiv"),
    **_kinds("maximum", "maximum fmax"),
    **_kinds("minimum", "minimum fmin"),
    **_kinds("attention", "scaled_dot_product_attention multi_head_attention_forward "
                          "native_multi_head_attention"),
    **_kinds("embedding", "embedding embedding_bag"),
    **_kinds("upsample", "interpolate upsample upsample_nearest upsample_bilinear "
                         "upsample_nearest2d upsample_bilinear2d"),
    **_kinds("pad", "pad constant_pad_nd"),
    **_kinds("slice", "getitem setitem chunk split split_with_sizes tensor_split unbind "
                      "narrow select index_select gather masked_select take_along_dim "
                      "slice index"),
    **_kinds("reduce", "sum mean max min amax amin prod std var argmax argmin topk "
                       "logsumexp"),
    **_kinds("cast", "type_as"),
    **_kinds("elementwise", "neg abs sqrt rsqrt exp log reciprocal floor ceil round sign sin "
                            "cos pow where masked_fill gt ge lt le eq ne "
                            "logical_not logical_and logical_or cumsum"),
    **_kinds("identity", "contiguous clone detach float half double bfloat16 to cpu cuda "
                         "data requires_grad alias lift_fresh_copy"),
}

#: Spelling variants of the same op (dunder and reflected forms) -> the canonical name.
TORCH_ALIASES: dict[str, str] = {
    "iadd": "add", "radd": "add", "isub": "sub", "rsub": "sub", "subtract": "sub",
    "imul": "mul", "rmul": "mul", "multiply": "mul", "truediv": "div", "itruediv": "div",
    "rtruediv": "div", "divide": "div", "true_divide": "div", "ifloordiv": "floordiv",
    "rfloordiv": "floordiv", "rpow": "pow", "ipow": "pow", "rmatmul": "matmul",
    "imatmul": "matmul", "concat": "cat", "concatenate": "cat",
}

#: Reductions that, given a second tensor (``torch.max(a, b)``), are the element-wise op.
TORCH_TWO_TENSOR_FORMS: dict[str, str] = {"max": "maximum", "min": "minimum"}

#: Activation module classes -> the name kept in ``attrs["activation"]`` (others: lower case).
TORCH_ACTIVATIONS: dict[str, str] = {
    "ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leaky_relu", "PReLU": "prelu",
    "RReLU": "rrelu", "ELU": "elu", "SELU": "selu", "CELU": "celu", "GELU": "gelu",
    "SiLU": "silu", "GLU": "glu", "LogSigmoid": "logsigmoid",
}

#: Positional parameter names of functional ops whose arguments a drawing shows; the
#: first name is the input (or ``self`` for tensor methods).
TORCH_SIGNATURES: dict[str, tuple[str, ...]] = {
    **{f"conv{d}d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
       for d in (1, 2, 3)},
    **{f"conv_transpose{d}d": ("input", "weight", "bias", "stride", "padding",
                               "output_padding", "groups", "dilation") for d in (1, 2, 3)},
    **{f"{p}_pool{d}d": ("input", "kernel_size", "stride", "padding")
       for p in ("max", "avg") for d in (1, 2, 3)},
    **{f"adaptive_{p}_pool{d}d": ("input", "output_size")
       for p in ("max", "avg") for d in (1, 2, 3)},
    "convolution": ("input", "weight", "bias", "stride", "padding", "dilation", "transposed",
                    "output_padding", "groups"),
    **{f"max_pool{d}d_with_indices": ("input", "kernel_size", "stride", "padding")
       for d in (2, 3)},
    "linear": ("input", "weight", "bias"),
    "addmm": ("input", "mat1", "mat2"), "baddbmm": ("input", "batch1", "batch2"),
    "addbmm": ("input", "batch1", "batch2"), "grouped_mm": ("mat_a", "mat_b", "offs"),
    "cat": ("tensors", "dim"), "stack": ("tensors", "dim"),
    "softmax": ("input", "dim"), "log_softmax": ("input", "dim"),
    "chunk": ("input", "chunks", "dim"), "split": ("input", "split_size", "dim"),
    "flatten": ("input", "start_dim", "end_dim"), "transpose": ("input", "dim0", "dim1"),
    "interpolate": ("input", "size", "scale_factor", "mode", "align_corners"),
    "scaled_dot_product_attention": ("query", "key", "value", "attn_mask", "dropout_p",
                                     "is_causal"),
    # F.batch_norm and aten.batch_norm order their tensors differently; eps is 8th in both
    "batch_norm": ("input", "_1", "_2", "_3", "_4", "training", "momentum", "eps"),
    "native_batch_norm_legit_no_training": ("input", "_1", "_2", "_3", "_4", "momentum", "eps"),
    "einsum": ("equation",), "leaky_relu": ("input", "negative_slope"),
    "permute": ("input", "dims"),
    "multi_head_attention_forward": ("query", "key", "value", "embed_dim_to_check",
                                     "num_heads"),
    "dropout": ("input", "p"), "layer_norm": ("input", "normalized_shape", "weight", "bias",
                                              "eps"),
}

#: Functions whose positional arguments after the input may also come one by one and are
#: then gathered into one list (``x.permute(0, 2, 3, 1)`` is ``x.permute((0, 2, 3, 1))``).
TORCH_VARARGS: dict[str, str] = {"permute": "dims"}

_KERAS_CONV = {"filters": "out_channels", "strides": "stride", "dilation_rate": "dilation"}
_KERAS_POOL = {"pool_size": "kernel_size", "strides": "stride"}
_KERAS_NORM = {"epsilon": "eps"}

#: Keras 3 (and tf.keras 2) layer classes, plus the ``keras.ops`` operations a Functional
#: model can record. Keys are class names as serialised in a model config.
KERAS: dict[str, OpEntry] = {
    **_kinds("input", "InputLayer"),
    **_kinds("conv", "Conv1D Conv2D Conv3D Convolution1D Convolution2D Convolution3D "
                     "DepthwiseConv1D DepthwiseConv2D SeparableConv1D SeparableConv2D "
                     "SeparableConvolution1D SeparableConvolution2D", _KERAS_CONV),
    **_kinds("conv_transpose", "Conv1DTranspose Conv2DTranspose Conv3DTranspose "
                               "Convolution2DTranspose Convolution3DTranspose "
                               "Deconvolution2D Deconvolution3D", _KERAS_CONV),
    **_kinds("dense", "Dense EinsumDense"),
    **_kinds("pool", "MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D "
                     "AveragePooling2D AveragePooling3D MaxPool1D MaxPool2D MaxPool3D "
                     "AvgPool1D AvgPool2D AvgPool3D", _KERAS_POOL),
    **_kinds("global_pool", "GlobalAveragePooling1D GlobalAveragePooling2D "
                            "GlobalAveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D "
                            "GlobalMaxPooling3D GlobalAvgPool1D GlobalAvgPool2D GlobalAvgPool3D "
                            "GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D "
                            "AdaptiveAveragePooling1D AdaptiveAveragePooling2D "
                            "AdaptiveAveragePooling3D AdaptiveMaxPooling1D AdaptiveMaxPooling2D "
                            "AdaptiveMaxPooling3D"),
    **_kinds("norm", "BatchNormalization LayerNormalization GroupNormalization "
                     "UnitNormalization RMSNormalization SpectralNormalization Normalization "
                     "Rescaling", _KERAS_NORM),
    **_kinds("activation", "Activation ReLU LeakyReLU PReLU ELU ThresholdedReLU Relu Relu6 "
                           "Sigmoid Tanh Gelu Silu Swish Elu Selu LeakyRelu HardSigmoid "
                           "HardSilu Softplus Softsign Mish"),
    **_kinds("softmax", "Softmax LogSoftmax"),
    **_kinds("dropout", "Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D "
                        "GaussianDropout GaussianNoise AlphaDropout", {"rate": "rate"}),
    **_kinds("flatten", "Flatten"),
    **_kinds("reshape", "Reshape RepeatVector ExpandDims Squeeze"),
    **_kinds("transpose", "Permute Transpose"),
    **_kinds("concat", "Concatenate"),
    **_kinds("add", "Add"),
    **_kinds("subtract", "Subtract"),
    **_kinds("multiply", "Multiply"),
    **_kinds("divide", "Divide TrueDivide"),
    **_kinds("maximum", "Maximum"),
    **_kinds("minimum", "Minimum"),
    **_kinds("average", "Average"),
    # keras.applications' own layers: ConvNeXt's learned per-channel scale, and
    # Inception-ResNet-v2's residual sum x + r * scale.
    **_kinds("multiply", "LayerScale"),
    **_kinds("add", "CustomScaleLayer"),
    **_kinds("matmul", "Dot Matmul Einsum"),
    **_kinds("attention", "MultiHeadAttention Attention AdditiveAttention "
                          "GroupedQueryAttention GroupQueryAttention"),
    **_kinds("embedding", "Embedding ReversibleEmbedding",
             {"input_dim": "num_embeddings", "output_dim": "embedding_dim"}),
    **_kinds("recurrent", "LSTM GRU SimpleRNN RNN Bidirectional ConvLSTM1D ConvLSTM2D "
                          "ConvLSTM3D CuDNNLSTM CuDNNGRU"),
    **_kinds("upsample", "UpSampling1D UpSampling2D UpSampling3D Resizing",
             {"size": "scale", "interpolation": "mode"}),
    **_kinds("pad", "ZeroPadding1D ZeroPadding2D ZeroPadding3D"),
    **_kinds("slice", "Cropping1D Cropping2D Cropping3D CenterCrop GetItem Slice"),
    **_kinds("reduce", "Mean Sum Max Min"),
    **_kinds("elementwise", "Absolute Negative Sqrt Exp Log Square Power Where"),
    **_kinds("cast", "Cast"),
    **_kinds("identity", "Identity Masking ActivityRegularization"),
}

TABLES: dict[str, dict[str, OpEntry]] = {"onnx": ONNX, "torch": TORCH, "keras": KERAS}


def lookup(framework: str, op_type: str) -> OpEntry:
    """Canonical (kind, attribute renames) for a framework op; ``("other", {})`` if unknown."""
    return TABLES.get(framework, {}).get(op_type, ("other", {}))


def normalise_attrs(renames: dict[str, str], attrs: dict[str, Any]) -> dict[str, Any]:
    """Rename framework attribute keys to the IR's keys (unknown keys are kept as they are)."""
    return {renames.get(key, key): value for key, value in attrs.items()}
