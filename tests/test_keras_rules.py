"""The config-only Keras rules (``importers/keras_layers.py``, what a ``.keras``/``.h5`` file is
read with) against Keras itself: each layer is built by Keras on symbolic inputs, and the rule
given only the layer's ``get_config()`` and the input shapes must say Keras' output shapes
and ``count_params()``. Each rule is taken to its boundaries: every padding with and without
dilation or stride, channels first and last, bias on and off, an input one window wide."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported

import keras  # noqa: E402
import pytest  # noqa: E402
from keras import layers as L  # noqa: E402

from netdraw.importers.keras_layers import infer  # noqa: E402

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the Keras tests run on the torch backend")

CF = "channels_first"

#: id -> (layer factory, input shapes without the batch). Several inputs are passed
#: positionally, in this order.
CASES = {
    # convolutions: padding x stride x dilation, groups, channels first, no bias
    "conv1d-valid-dilated": (lambda: L.Conv1D(4, 3, dilation_rate=2), [(11, 3)]),
    "conv1d-same-dilated": (lambda: L.Conv1D(4, 3, padding="same", dilation_rate=2),
                            [(11, 3)]),
    "conv1d-causal-dilated": (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=3),
                              [(10, 2)]),
    "conv1d-valid-stride-at-window": (lambda: L.Conv1D(2, 5, strides=2), [(5, 3)]),
    "conv2d-valid-stride": (lambda: L.Conv2D(6, 3, strides=2), [(10, 9, 4)]),
    "conv2d-same-stride": (lambda: L.Conv2D(6, (3, 1), strides=(2, 3), padding="same"),
                           [(10, 9, 4)]),
    "conv2d-same-dilated": (lambda: L.Conv2D(5, 3, padding="same", dilation_rate=(2, 3)),
                            [(12, 13, 2)]),
    "conv2d-valid-dilated": (lambda: L.Conv2D(5, 3, dilation_rate=(2, 3)), [(12, 13, 2)]),
    "conv2d-groups-nobias": (lambda: L.Conv2D(8, 3, groups=4, use_bias=False), [(7, 7, 8)]),
    "conv2d-channels-first": (lambda: L.Conv2D(6, (3, 2), strides=2, data_format=CF),
                              [(4, 11, 10)]),
    "conv3d": (lambda: L.Conv3D(3, 2, strides=(1, 2, 2)), [(4, 6, 6, 2)]),
    "depthwise-mult-dilated-same": (
        lambda: L.DepthwiseConv2D(3, depth_multiplier=3, padding="same", dilation_rate=2),
        [(9, 10, 4)]),
    "depthwise-valid-stride-nobias": (
        lambda: L.DepthwiseConv2D(3, strides=2, use_bias=False), [(9, 10, 4)]),
    "depthwise1d-valid-dilated": (lambda: L.DepthwiseConv1D(3, dilation_rate=2,
                                                            depth_multiplier=2), [(12, 3)]),
    "depthwise-channels-first": (lambda: L.DepthwiseConv2D(3, data_format=CF),
                                 [(4, 9, 8)]),
    "separable2d-mult": (lambda: L.SeparableConv2D(7, 3, depth_multiplier=2, strides=2),
                         [(11, 12, 3)]),
    "separable2d-same-dilated-nobias": (
        lambda: L.SeparableConv2D(7, 3, padding="same", dilation_rate=2, use_bias=False),
        [(11, 12, 3)]),
    "separable1d": (lambda: L.SeparableConv1D(5, 4, padding="same"), [(9, 3)]),
    "deconv2d-valid-stride": (lambda: L.Conv2DTranspose(4, 3, strides=2), [(5, 6, 3)]),
    "deconv2d-valid-stride-over-kernel": (lambda: L.Conv2DTranspose(4, 2, strides=3),
                                          [(5, 6, 3)]),
    "deconv2d-same-stride": (lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same"),
                             [(5, 6, 3)]),
    "deconv2d-output-padding-same": (
        lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1),
        [(5, 6, 3)]),
    "deconv2d-output-padding-valid": (
        lambda: L.Conv2DTranspose(4, 3, strides=3, output_padding=(1, 2), use_bias=False),
        [(5, 6, 3)]),
    "deconv2d-dilated": (lambda: L.Conv2DTranspose(2, 3, dilation_rate=2), [(5, 6, 3)]),
    "deconv2d-channels-first": (lambda: L.Conv2DTranspose(4, 3, strides=2, data_format=CF),
                                [(3, 5, 6)]),
    "deconv1d": (lambda: L.Conv1DTranspose(3, 4, strides=2, padding="same"), [(7, 2)]),
    "deconv3d": (lambda: L.Conv3DTranspose(2, 2, strides=2), [(3, 4, 5, 2)]),
    # pooling
    "maxpool2d-default": (lambda: L.MaxPooling2D(), [(9, 8, 3)]),
    "maxpool2d-same-stride": (lambda: L.MaxPooling2D(3, strides=2, padding="same"),
                              [(9, 8, 3)]),
    "avgpool1d-stride": (lambda: L.AveragePooling1D(3, strides=1), [(7, 2)]),
    "avgpool2d-channels-first": (lambda: L.AveragePooling2D((2, 3), data_format=CF),
                                 [(4, 9, 8)]),
    "maxpool3d": (lambda: L.MaxPooling3D(2), [(4, 6, 7, 2)]),
    "gap2d": (lambda: L.GlobalAveragePooling2D(), [(5, 6, 7)]),
    "gap2d-keepdims": (lambda: L.GlobalAveragePooling2D(keepdims=True), [(5, 6, 7)]),
    "gmp1d-channels-first-keepdims": (
        lambda: L.GlobalMaxPooling1D(data_format=CF, keepdims=True), [(5, 6)]),
    "gap3d-channels-first": (lambda: L.GlobalAveragePooling3D(data_format=CF),
                             [(3, 4, 5, 6)]),
    # dense and embeddings
    "dense": (lambda: L.Dense(5), [(7,)]),
    "dense-3d-nobias": (lambda: L.Dense(5, use_bias=False), [(4, 7)]),
    "einsum-dense": (lambda: L.EinsumDense("abc,cd->abd", output_shape=(4, 6),
                                           bias_axes="d"), [(4, 3)]),
    "einsum-dense-heads": (lambda: L.EinsumDense("abc,cde->abde", output_shape=(4, 2, 5),
                                                 bias_axes="de"), [(4, 3)]),
    "einsum-ellipsis": (lambda: L.EinsumDense("...b,bc->...c", output_shape=4,
                                              bias_axes="c"), [(3, 5)]),
    "embedding": (lambda: L.Embedding(50, 8), [(6,)]),
    # norms
    "batchnorm": (lambda: L.BatchNormalization(), [(5, 6, 7)]),
    "batchnorm-axis1-no-center": (lambda: L.BatchNormalization(axis=1, center=False),
                                  [(5, 6, 7)]),
    "batchnorm-no-scale": (lambda: L.BatchNormalization(scale=False), [(7,)]),
    "layernorm": (lambda: L.LayerNormalization(), [(4, 6)]),
    "layernorm-two-axes-no-center": (lambda: L.LayerNormalization(axis=[1, 2], center=False),
                                     [(4, 6)]),
    "layernorm-no-scale": (lambda: L.LayerNormalization(scale=False), [(4, 6)]),
    "layernorm-rms": (lambda: L.LayerNormalization(rms_scaling=True), [(4, 6)]),
    "groupnorm": (lambda: L.GroupNormalization(groups=2), [(5, 6, 8)]),
    "groupnorm-no-center": (lambda: L.GroupNormalization(groups=4, center=False),
                            [(5, 8)]),
    "groupnorm-axis1": (lambda: L.GroupNormalization(groups=2, axis=1), [(4, 6, 7)]),
    "unit-norm": (lambda: L.UnitNormalization(), [(5,)]),
    # element-wise, merging
    "prelu": (lambda: L.PReLU(), [(4, 5, 3)]),
    "prelu-shared": (lambda: L.PReLU(shared_axes=[1, 2]), [(4, 5, 3)]),
    "add-broadcast": (lambda: L.Add(), [(4, 3), (1, 3)]),
    "subtract": (lambda: L.Subtract(), [(4, 3), (4, 3)]),
    "multiply-three": (lambda: L.Multiply(), [(2, 3), (2, 3), (2, 3)]),
    "concat-last": (lambda: L.Concatenate(), [(4, 3), (4, 5)]),
    "concat-axis1": (lambda: L.Concatenate(axis=1), [(4, 3), (2, 3), (1, 3)]),
    "dot-last": (lambda: L.Dot(axes=-1), [(4, 3), (5, 3)]),
    "dot-pair": (lambda: L.Dot(axes=(1, 2)), [(4, 3), (5, 4)]),
    "dot-vectors": (lambda: L.Dot(axes=1), [(4,), (4,)]),
    "softmax": (lambda: L.Softmax(), [(4, 3)]),
    "random-crop": (lambda: L.RandomCrop(3, 4), [(6, 7, 2)]),
    # reshaping
    "flatten": (lambda: L.Flatten(), [(3, 4, 5)]),
    "flatten-channels-first": (lambda: L.Flatten(data_format=CF), [(3, 4, 5)]),
    "reshape": (lambda: L.Reshape((6, 10)), [(3, 4, 5)]),
    "reshape-minus-one": (lambda: L.Reshape((-1, 4)), [(3, 4, 2)]),
    "reshape-minus-one-last": (lambda: L.Reshape((6, -1)), [(3, 4, 2)]),
    "permute": (lambda: L.Permute((2, 3, 1)), [(3, 4, 5)]),
    "repeat-vector": (lambda: L.RepeatVector(3), [(5,)]),
    "zero-pad2d-int": (lambda: L.ZeroPadding2D(2), [(4, 5, 3)]),
    "zero-pad2d-pairs": (lambda: L.ZeroPadding2D(((1, 2), (3, 0))), [(4, 5, 3)]),
    "zero-pad2d-symmetric": (lambda: L.ZeroPadding2D((1, 3)), [(4, 5, 3)]),
    "zero-pad1d-pair": (lambda: L.ZeroPadding1D((1, 4)), [(4, 3)]),
    "zero-pad1d-default": (lambda: L.ZeroPadding1D(), [(4, 3)]),
    "zero-pad2d-channels-first": (lambda: L.ZeroPadding2D(1, data_format=CF), [(3, 4, 5)]),
    "crop2d": (lambda: L.Cropping2D(((1, 0), (2, 1))), [(6, 7, 3)]),
    "crop1d": (lambda: L.Cropping1D((2, 1)), [(6, 3)]),
    "crop3d-int": (lambda: L.Cropping3D(1), [(4, 5, 6, 2)]),
    "upsample2d": (lambda: L.UpSampling2D((2, 3)), [(4, 5, 3)]),
    "upsample1d-default": (lambda: L.UpSampling1D(), [(4, 3)]),
    "upsample2d-channels-first": (lambda: L.UpSampling2D(2, data_format=CF), [(3, 4, 5)]),
    "resizing": (lambda: L.Resizing(7, 5), [(4, 6, 3)]),
    "center-crop-channels-first": (lambda: L.CenterCrop(3, 2, data_format=CF), [(3, 6, 5)]),
    # recurrent
    "lstm": (lambda: L.LSTM(5), [(7, 3)]),
    "lstm-sequences-states": (lambda: L.LSTM(5, return_sequences=True, return_state=True),
                              [(7, 3)]),
    "lstm-nobias": (lambda: L.LSTM(4, use_bias=False), [(7, 3)]),
    "gru": (lambda: L.GRU(5, return_sequences=True), [(7, 3)]),
    "gru-reset-before": (lambda: L.GRU(5, reset_after=False, return_state=True), [(7, 3)]),
    "simple-rnn": (lambda: L.SimpleRNN(6), [(7, 3)]),
    "simple-rnn-nobias": (lambda: L.SimpleRNN(6, use_bias=False, return_state=True),
                          [(7, 3)]),
    "bidirectional-concat": (lambda: L.Bidirectional(L.LSTM(4, return_sequences=True)),
                             [(7, 3)]),
    "bidirectional-sum": (lambda: L.Bidirectional(L.GRU(4), merge_mode="sum"), [(7, 3)]),
    "bidirectional-none": (lambda: L.Bidirectional(L.SimpleRNN(4), merge_mode=None),
                           [(7, 3)]),
    "bidirectional-states": (lambda: L.Bidirectional(L.LSTM(4, return_state=True)),
                             [(7, 3)]),
    "bidirectional-backward-layer": (
        lambda: L.Bidirectional(L.LSTM(4), backward_layer=L.LSTM(4, use_bias=False,
                                                                 go_backwards=True)),
        [(7, 3)]),
    "conv-lstm2d": (lambda: L.ConvLSTM2D(4, 3, padding="same"), [(5, 6, 7, 2)]),
    "conv-lstm2d-sequences-states": (
        lambda: L.ConvLSTM2D(3, 3, strides=2, return_sequences=True, return_state=True),
        [(5, 9, 8, 2)]),
    "conv-lstm1d-dilated-nobias": (
        lambda: L.ConvLSTM1D(3, 3, dilation_rate=2, use_bias=False), [(4, 9, 2)]),
    "conv-lstm2d-channels-first": (lambda: L.ConvLSTM2D(3, 3, data_format=CF),
                                   [(5, 2, 8, 7)]),
    "time-distributed-dense": (lambda: L.TimeDistributed(L.Dense(4)), [(6, 3)]),
    "time-distributed-conv": (lambda: L.TimeDistributed(L.Conv2D(4, 3, strides=2)),
                              [(6, 9, 8, 2)]),
    # attention
    "mha-self": (lambda: L.MultiHeadAttention(2, 4), [(5, 6), (5, 6)]),
    "mha-cross-value-dim": (lambda: L.MultiHeadAttention(3, 4, value_dim=2, use_bias=False),
                            [(5, 6), (7, 3)]),
    "mha-key-output-shape": (lambda: L.MultiHeadAttention(2, 3, output_shape=5),
                             [(5, 6), (7, 3), (7, 8)]),
    "mha-output-tuple": (lambda: L.MultiHeadAttention(2, 3, output_shape=(2, 4)),
                         [(5, 6), (5, 6)]),
    "gqa": (lambda: L.GroupQueryAttention(4, 4, 2), [(5, 6), (7, 6)]),
    "gqa-key-nobias": (lambda: L.GroupQueryAttention(3, 4, 2, use_bias=False),
                       [(5, 6), (7, 6), (7, 8)]),
    "attention": (lambda: L.Attention(), [(5, 6), (7, 6)]),
    "attention-scale": (lambda: L.Attention(use_scale=True), [(5, 6), (7, 6)]),
    "attention-concat": (lambda: L.Attention(score_mode="concat"), [(5, 6), (7, 6)]),
    "additive-attention": (lambda: L.AdditiveAttention(), [(5, 6), (7, 6)]),
    "additive-attention-no-scale": (lambda: L.AdditiveAttention(use_scale=False),
                                    [(5, 6), (7, 6)]),
}


def _shapes(out) -> list[tuple]:
    return [tuple(t.shape) for t in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("case", list(CASES))
def test_rule_says_what_keras_says(case):
    factory, shapes = CASES[case]
    layer = factory()
    inputs = [keras.Input(shape) for shape in shapes]
    if type(layer).__name__ in ("Add", "Subtract", "Multiply", "Concatenate", "Dot",
                                "Attention", "AdditiveAttention"):
        out = layer(inputs)
    else:
        out = layer(*inputs)
    facts = infer(type(layer).__name__, layer.get_config(),
                  [tuple(t.shape) for t in inputs])
    assert facts.outputs == _shapes(out)
    assert facts.params == layer.count_params()


@pytest.mark.parametrize("scores", [False, True])
def test_attention_scores_are_a_second_output(scores):
    """``return_attention_scores`` is a call argument, not a config key. The oracle is the
    tensors of an eager call (Keras' symbolic shape of MultiHeadAttention's scores has the
    query's length twice)."""
    import numpy as np

    for layer, shapes in ((L.MultiHeadAttention(2, 4), [(5, 6), (7, 6)]),
                          (L.GroupQueryAttention(4, 4, 2), [(5, 6), (7, 6)]),
                          (L.Attention(), [(5, 6), (7, 6)])):
        arrays = [np.zeros((1, *s), "float32") for s in shapes]
        if isinstance(layer, L.Attention):
            out = layer(arrays, return_attention_scores=scores)
        else:
            out = layer(*arrays, return_attention_scores=scores)
        facts = infer(type(layer).__name__, layer.get_config(),
                      [(None, *s) for s in shapes],
                      kwargs={"return_attention_scores": scores})
        assert facts.outputs == [(None, *shape[1:]) for shape in _shapes(out)], \
            type(layer).__name__


BATCHED = ["zero-pad2d-pairs", "crop1d", "conv2d-valid-stride", "depthwise-mult-dilated-same",
           "deconv2d-valid-stride", "maxpool2d-same-stride", "gap2d", "gap2d-keepdims", "dense",
           "flatten", "reshape-minus-one", "permute", "repeat-vector", "upsample2d",
           "resizing", "lstm-sequences-states", "conv-lstm2d-sequences-states",
           "time-distributed-conv", "concat-axis1", "dot-pair", "mha-cross-value-dim",
           "embedding", "einsum-ellipsis"]


@pytest.mark.parametrize("case", BATCHED)
def test_a_fixed_batch_size_is_kept(case):
    """``keras.Input(..., batch_size=3)``: the batch axis is 3, not None, in every output."""
    factory, shapes = CASES[case]
    layer = factory()
    inputs = [keras.Input(shape, batch_size=3) for shape in shapes]
    if type(layer).__name__ in ("Concatenate", "Dot"):
        out = layer(inputs)
    else:
        out = layer(*inputs)
    facts = infer(type(layer).__name__, layer.get_config(),
                  [tuple(t.shape) for t in inputs])
    assert facts.outputs == _shapes(out)
    assert facts.params == layer.count_params()


@pytest.mark.parametrize(("length", "kernel", "stride"), [(5, 3, 2), (4, 2, 3), (6, 5, 1)])
def test_full_padding_of_a_transposed_conv(length, kernel, stride):
    """Keras 2's ``conv_utils`` (the ``full`` padding of Keras 1 files, which Keras 3 no
    longer builds): ``deconv_length`` is ``length·stride − (stride + kernel − 2)``;
    ``conv_output_length`` is ``length + kernel − 1`` divided by the stride, rounded up."""
    from netdraw.importers.keras_layers import conv_length, deconv_length

    assert deconv_length(length, kernel, "full", stride) == \
        length * stride - (stride + kernel - 2)
    assert conv_length(length, kernel, "full", stride) == \
        (length + kernel - 1 + stride - 1) // stride


def test_an_operation_without_a_rule_holds_no_weights_and_a_layer_unknown_ones():
    """A ``keras.ops`` operation has no variables (Keras builds none for it); a layer class
    netdraw has no rule for may have any number."""
    from keras.src.ops.numpy import Cumsum

    op = Cumsum(axis=0)
    assert not getattr(op, "weights", [])
    facts = infer("Cumsum", {"axis": 0}, [(None, 3)], module=type(op).__module__)
    assert facts.params == 0 and facts.outputs == [None]
    assert infer("NoSuchLayer", {}, [(None, 3)], module="my.layers").params is None
