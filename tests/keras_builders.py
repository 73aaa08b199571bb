"""Keras models the Keras importer tests build (random weights, small inputs).

Import only with KERAS_BACKEND=torch set (the test modules set it before importing keras).
"""

from __future__ import annotations

import keras
from keras import layers as L


def lenet5() -> keras.Model:
    """Sequential LeNet-5 (LeCun et al. 1998 with average pooling and tanh)."""
    return keras.Sequential([
        keras.Input((32, 32, 1), name="image"),
        L.Conv2D(6, 5, activation="tanh", name="c1"),
        L.AveragePooling2D(2, name="s2"),
        L.Conv2D(16, 5, activation="tanh", name="c3"),
        L.AveragePooling2D(2, name="s4"),
        L.Flatten(name="flatten"),
        L.Dense(120, activation="tanh", name="f5"),
        L.Dense(84, activation="tanh", name="f6"),
        L.Dense(10, activation="softmax", name="out"),
    ], name="lenet5")


def siamese() -> keras.Model:
    """A Functional model whose nested Functional 'tower' (itself holding a nested
    Sequential 'mlp') is called on two inputs."""
    mlp = keras.Sequential([L.Dense(24, activation="relu", name="mlp_fc1"),
                            L.Dense(16, name="mlp_fc2")], name="mlp")
    x = keras.Input((8, 8, 3), name="tower_in")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="tower_conv")(x)
    h = L.BatchNormalization(name="tower_bn")(h)
    h = L.GlobalAveragePooling2D(name="tower_gap")(h)
    tower = keras.Model(x, mlp(h), name="tower")
    left = keras.Input((8, 8, 3), name="left")
    right = keras.Input((8, 8, 3), name="right")
    a, b = tower(left), tower(right)
    diff = L.Subtract(name="diff")([a, b])
    joined = L.Concatenate(name="joined")([a, b, diff])
    score = L.Dense(1, activation="sigmoid", name="score")(joined)
    return keras.Model([left, right], score, name="siamese")


def multi_io() -> keras.Model:
    """Two inputs, three outputs; a Dense shared by both inputs; an LSTM with states."""
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    features = keras.Input((12, 5), name="features")
    embedded = L.Embedding(50, 8, name="embed")(tokens)
    shared = L.Dense(8, activation="relu", name="shared")
    lifted = L.Dense(8, name="lift")(features)
    x = L.Add(name="merge")([shared(embedded), shared(lifted)])
    seq, state_h, state_c = L.LSTM(6, return_sequences=True, return_state=True,
                                   name="lstm")(x)
    attn = L.MultiHeadAttention(num_heads=2, key_dim=3, name="attn")(seq, seq)
    pooled = L.GlobalMaxPooling1D(name="pool")(attn)
    label = L.Dense(4, activation="softmax", name="label")(pooled)
    value = L.Dense(1, name="value")(L.Concatenate(name="states")([state_h, state_c]))
    return keras.Model([tokens, features], [label, value, seq], name="multi_io")


def transfer() -> keras.Model:
    """The transfer-learning pattern: a keras.applications backbone inside a Sequential."""
    base = keras.applications.MobileNetV2(include_top=False, weights=None,
                                          input_shape=(64, 64, 3), alpha=0.35)
    return keras.Sequential([keras.Input((64, 64, 3), name="photo"), base,
                             L.GlobalAveragePooling2D(name="gap"),
                             L.Dense(5, activation="softmax", name="classes")],
                            name="transfer")


class SmallNet(keras.Model):
    """A subclassed model with a residual add written as a Python '+'."""

    def __init__(self) -> None:
        super().__init__(name="small_net")
        self.conv = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")
        self.conv2 = L.Conv2D(8, 3, padding="same", name="conv2")
        self.pool = L.GlobalAveragePooling2D(name="gap")
        self.head = L.Dense(5, name="head")

    def call(self, x):
        h = self.conv(x)
        h = h + self.conv2(h)
        return self.head(self.pool(h))


def small_net() -> keras.Model:
    import numpy as np

    model = SmallNet()
    model(np.zeros((2, 16, 16, 3), "float32"))
    return model


def layer_zoo() -> list[keras.Model]:
    """Small Functional models that together use most built-in layer classes."""
    models = []

    x = keras.Input((20, 6), name="seq_in")
    h = L.Conv1D(8, 3, padding="causal", dilation_rate=2, name="causal")(x)
    h = L.MaxPooling1D(3, strides=2, padding="same", name="pool1d")(h)
    h = L.ZeroPadding1D((1, 2), name="pad1d")(h)
    h = L.Cropping1D((0, 1), name="crop1d")(h)
    h = L.UpSampling1D(2, name="up1d")(h)
    h = L.Conv1DTranspose(5, 3, strides=2, padding="same", name="deconv1d")(h)
    h = L.SeparableConv1D(7, 3, depth_multiplier=2, name="sep1d")(h)
    h = L.DepthwiseConv1D(3, depth_multiplier=2, padding="same", name="dw1d")(h)
    h = L.LayerNormalization(name="ln")(h)
    h = L.SimpleRNN(4, return_sequences=True, name="rnn")(h)
    h = L.GRU(5, reset_after=False, return_sequences=True, name="gru_v1")(h)
    h = L.GRU(5, name="gru")(h)
    h = L.RepeatVector(3, name="repeat")(h)
    h = L.Bidirectional(L.LSTM(4, return_sequences=True), name="bilstm")(h)
    h = L.TimeDistributed(L.Dense(3), name="td")(h)
    h = L.Permute((2, 1), name="permute")(h)
    h = L.GlobalAveragePooling1D(keepdims=True, name="gap1d")(h)
    h = L.Flatten(name="flat")(h)
    h = L.PReLU(name="prelu")(h)
    h = L.Dense(6, use_bias=False, name="nobias")(h)
    h = L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c", name="einsum")(h)
    models.append(keras.Model(x, h, name="zoo_sequences"))

    x = keras.Input((16, 16, 3), name="img_in")
    h = L.Rescaling(1 / 255, name="rescale")(x)
    h = L.Normalization(axis=-1, name="norm_adapt")(h)
    h = L.Normalization(mean=[0.5, 0.5, 0.5], variance=[0.1, 0.1, 0.1], name="norm_fixed")(h)
    h = L.ZeroPadding2D(((1, 0), (2, 1)), name="pad2d")(h)
    h = L.Conv2D(8, (3, 5), strides=(2, 1), padding="valid", groups=1, name="conv_rect")(h)
    h = L.Conv2D(8, 3, padding="same", groups=4, name="conv_group")(h)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same", name="dw2d")(h)
    h = L.SeparableConv2D(12, 3, padding="same", name="sep2d")(h)
    h = L.BatchNormalization(center=False, name="bn_nocenter")(h)
    h = L.GroupNormalization(groups=4, name="gn")(h)
    h = L.ReLU(max_value=6.0, name="relu6")(h)
    a = L.LeakyReLU(negative_slope=0.1, name="leaky")(h)
    b = L.ELU(name="elu")(h)
    h = L.Maximum(name="maximum")([a, b])
    h = L.Minimum(name="minimum")([h, b])
    h = L.Average(name="average")([h, a])
    h = L.Multiply(name="gate")([h, L.Activation("sigmoid", name="sig")(h)])
    h = L.SpatialDropout2D(0.1, name="sdrop")(h)
    h = L.Conv2DTranspose(6, 3, strides=2, padding="same", output_padding=1, name="deconv")(h)
    h = L.Conv2DTranspose(6, 2, strides=2, padding="valid", name="deconv_valid")(h)
    h = L.Cropping2D(((1, 1), (2, 0)), name="crop2d")(h)
    h = L.UpSampling2D((2, 1), name="up2d")(h)
    h = L.Resizing(10, 12, name="resize")(h)
    h = L.CenterCrop(8, 8, name="center")(h)
    h = L.MaxPooling2D(3, strides=2, padding="same", name="maxpool_same")(h)
    h = L.AveragePooling2D(2, strides=1, name="avgpool_s1")(h)
    h = L.UnitNormalization(name="unit")(h)
    h = L.Reshape((-1, 6), name="reshape")(h)
    h = L.Softmax(name="softmax")(h)
    models.append(keras.Model(x, h, name="zoo_images"))

    x = keras.Input((6, 6, 6, 2), name="vol_in")
    h = L.Conv3D(4, 3, padding="same", name="conv3d")(x)
    h = L.ZeroPadding3D(1, name="pad3d")(h)
    h = L.AveragePooling3D(2, name="pool3d")(h)
    h = L.Conv3DTranspose(3, 2, strides=2, name="deconv3d")(h)
    h = L.UpSampling3D(1, name="up3d")(h)
    h = L.Cropping3D(1, name="crop3d")(h)
    h = L.GlobalMaxPooling3D(name="gmp3d")(h)
    models.append(keras.Model(x, h, name="zoo_volumes"))

    x = keras.Input((4, 8, 8, 3), name="clip_in")
    h = L.ConvLSTM2D(4, 3, padding="same", return_sequences=True, name="convlstm")(x)
    h = L.TimeDistributed(L.Conv2D(2, 3), name="td_conv")(h)
    models.append(keras.Model(x, h, name="zoo_video"))

    q = keras.Input((5, 8), name="query")
    v = keras.Input((7, 6), name="value")
    out, scores = L.MultiHeadAttention(3, 4, value_dim=5, output_shape=10, name="mha")(
        q, v, key=v, return_attention_scores=True)
    vp = L.Dense(8, name="vproj")(v)
    att = L.Attention(use_scale=True, score_mode="concat", name="dot_att")([q, vp])
    add = L.AdditiveAttention(name="add_att")([q, vp])
    gqa = L.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2,
                                name="gqa")(q, vp)
    dot = L.Dot(axes=(2, 2), name="dot")([att, add])
    joined = L.Concatenate(axis=-1, name="cat")([out, gqa])
    models.append(keras.Model([q, v], [joined, dot, scores], name="zoo_attention"))

    x = keras.Input((4, 6), name="ops_in")
    h = keras.ops.transpose(x, (0, 2, 1))
    h = keras.ops.reshape(h, (-1, 24))
    h = keras.ops.relu(h) * 2.0 + 1.0
    h = L.Lambda(lambda t: t[:, :5], output_shape=(5,), name="take5")(h)
    h = L.Dense(3, name="after_ops")(h)
    models.append(keras.Model(x, h, name="zoo_ops"))
    return models
