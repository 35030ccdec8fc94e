"""The layers of image models against PyTorch: convolutions, pooling, unfold/fold (nn/functional/conv.py,
pooling.py), interpolation, pixel shuffle, max unpooling (vision.py), group and instance norm (normalization.py),
BatchNorm2d and channel dropout, and their layers: values and gradients in float64, the layers' reprs, state_dicts
and initialisation, the errors' kinds, and a small CNN's training steps."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl
import tinygrad_lite.nn.functional as F

rng = np.random.default_rng(0)


def R(*shape):
    return rng.standard_normal(shape)


def I(*shape):  # noqa: E743  (integer inputs)
    return rng.integers(-9, 9, shape)


# name: (fn(lib, F, *tensors), arrays...), each run in both libraries
CASES = {
    "conv2d": (lambda L, F, x, w, b: F.conv2d(x, w, b), R(2, 3, 7, 6), R(4, 3, 3, 2), R(4)),
    "conv2d stride padding dilation": (lambda L, F, x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                                                      dilation=(1, 2)), R(2, 3, 7, 6), R(4, 3, 3, 2),
                                       R(4)),
    "conv2d same, even kernel": (lambda L, F, x, w: F.conv2d(x, w, padding="same", dilation=(1, 2)), R(2, 3, 7, 6),
                                 R(4, 3, 2, 3)),
    "conv2d valid": (lambda L, F, x, w: F.conv2d(x, w, padding="valid"), R(2, 3, 5, 6), R(2, 3, 3, 3)),
    "conv2d groups": (lambda L, F, x, w: F.conv2d(x, w, groups=2, stride=2), R(2, 4, 7, 6), R(6, 2, 3, 3)),
    "conv2d depthwise": (lambda L, F, x, w: F.conv2d(x, w, groups=3, padding=1), R(2, 3, 5, 5), R(3, 1, 3, 3)),
    "conv2d unbatched": (lambda L, F, x, w: F.conv2d(x, w), R(3, 7, 6), R(4, 3, 3, 3)),
    "torch.conv1d": (lambda L, F, x, w, b: L.conv1d(x, w, b, padding=2, stride=3), R(2, 3, 11), R(5, 3, 4), R(5)),
    "conv3d": (lambda L, F, x, w, b: F.conv3d(x, w, b, padding=1), R(2, 2, 4, 5, 3), R(3, 2, 2, 3, 2), R(3)),
    "conv_transpose2d": (lambda L, F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         R(2, 3, 4, 5), R(3, 4, 3, 3), R(4)),
    "conv_transpose2d groups dilation": (lambda L, F, x, w: F.conv_transpose2d(x, w, stride=(1, 2), groups=3,
                                                                               dilation=2), R(2, 3, 4, 5),
                                         R(3, 2, 3, 2)),
    "conv_transpose1d": (lambda L, F, x, w: L.conv_transpose1d(x, w, stride=3, padding=2, output_padding=2),
                         R(2, 3, 6), R(3, 2, 4)),
    "conv_transpose3d": (lambda L, F, x, w: F.conv_transpose3d(x, w, stride=2), R(1, 2, 3, 2, 3), R(2, 2, 2, 2, 2)),
    "conv2d of integers": (lambda L, F, x, w: F.conv2d(x, w), I(2, 3, 5, 5), I(2, 3, 2, 2)),
    "unfold": (lambda L, F, x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), R(2, 3, 6, 7)),
    "fold": (lambda L, F, x: F.fold(x, (5, 6), (2, 3), stride=(1, 2), padding=1), R(2, 12, 18)),
    "max_pool2d": (lambda L, F, x: F.max_pool2d(x, 2), R(2, 3, 7, 6)),
    "max_pool2d padding ceil_mode indices": (lambda L, F, x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                                          return_indices=True), R(2, 3, 7, 6)),
    "max_pool2d dilation indices": (lambda L, F, x: F.max_pool2d(x, (2, 3), stride=(1, 2), dilation=(2, 1),
                                                                 return_indices=True), R(2, 3, 7, 8)),
    "max_pool2d ties after relu": (lambda L, F, x: F.max_pool2d(F.relu(x), 2), R(2, 3, 6, 6)),
    "max_pool1d": (lambda L, F, x: F.max_pool1d(x, 3, return_indices=True, ceil_mode=True), R(2, 3, 10)),
    "max_pool3d": (lambda L, F, x: F.max_pool3d(x, 2, padding=1, return_indices=True), R(2, 2, 4, 5, 3)),
    "max_pool2d of integers": (lambda L, F, x: F.max_pool2d(x, 2), I(2, 3, 5, 5)),
    "max_pool1d among nans, the last": (lambda L, F, x: F.max_pool1d(x, 3, return_indices=True),
                                        np.array([[[np.nan, 1, np.nan, 2, np.nan, np.nan]]])),
    "max_pool2d, -inf beside the padding": (lambda L, F, x: F.max_pool2d(x, 2, stride=1, padding=1,
                                                                          return_indices=True),
                                            np.array([[[[-np.inf, -np.inf], [-np.inf, 3.0]]]])),
    "avg_pool2d": (lambda L, F, x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), R(2, 3, 7, 6)),
    "avg_pool2d without the padding": (lambda L, F, x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                                    count_include_pad=False), R(2, 3, 8, 6)),
    "avg_pool2d divisor_override": (lambda L, F, x: F.avg_pool2d(x, 2, divisor_override=3), R(2, 3, 7, 6)),
    "avg_pool2d of integers": (lambda L, F, x: F.avg_pool2d(x, 3, padding=1), I(2, 3, 5, 5)),
    "avg_pool1d": (lambda L, F, x: L.avg_pool1d(x, 4, stride=3, padding=2, ceil_mode=True), R(2, 3, 10)),
    "avg_pool3d": (lambda L, F, x: F.avg_pool3d(x, 2, stride=1, padding=1, count_include_pad=False),
                   R(2, 2, 4, 5, 3)),
    "adaptive_avg_pool2d": (lambda L, F, x: F.adaptive_avg_pool2d(x, (3, 4)), R(2, 3, 7, 6)),
    "adaptive_avg_pool2d global": (lambda L, F, x: F.adaptive_avg_pool2d(x, 1), R(2, 3, 7, 6)),
    "adaptive_avg_pool2d None": (lambda L, F, x: F.adaptive_avg_pool2d(x, (None, 4)), R(3, 7, 6)),
    "adaptive_avg_pool1d": (lambda L, F, x: L.adaptive_avg_pool1d(x, 4), R(2, 3, 10)),
    "adaptive_avg_pool3d": (lambda L, F, x: F.adaptive_avg_pool3d(x, (2, 3, 2)), R(2, 2, 4, 5, 3)),
    "adaptive_max_pool2d": (lambda L, F, x: F.adaptive_max_pool2d(x, (3, 4), return_indices=True), R(2, 3, 7, 6)),
    "adaptive_max_pool1d": (lambda L, F, x: F.adaptive_max_pool1d(x, 4, return_indices=True), R(2, 3, 10)),
    "adaptive_max_pool3d": (lambda L, F, x: F.adaptive_max_pool3d(x, 2), R(2, 2, 4, 5, 3)),
    "interpolate nearest": (lambda L, F, x: F.interpolate(x, scale_factor=1.7), R(2, 3, 4, 5)),
    "interpolate nearest size": (lambda L, F, x: F.interpolate(x, size=(7, 3)), R(2, 3, 4, 5)),
    "interpolate nearest-exact 3d": (lambda L, F, x: F.interpolate(x, scale_factor=(0.6, 1.5, 2), mode="nearest-exact"),
                                     R(1, 2, 5, 4, 3)),
    "interpolate linear": (lambda L, F, x: F.interpolate(x, size=9, mode="linear"), R(2, 3, 4)),
    "interpolate linear align_corners": (lambda L, F, x: F.interpolate(x, scale_factor=2.5, mode="linear",
                                                                       align_corners=True), R(2, 3, 4)),
    "interpolate bilinear": (lambda L, F, x: F.interpolate(x, scale_factor=2, mode="bilinear"), R(2, 3, 4, 5)),
    "interpolate bilinear down, recomputed": (lambda L, F, x: F.interpolate(
        x, scale_factor=0.7, mode="bilinear", recompute_scale_factor=True), R(2, 3, 7, 5)),
    "interpolate bilinear align_corners": (lambda L, F, x: F.interpolate(x, size=(3, 8), mode="bilinear",
                                                                         align_corners=True), R(2, 3, 4, 5)),
    "interpolate trilinear": (lambda L, F, x: F.interpolate(x, scale_factor=(2, 1.5, 0.7), mode="trilinear"),
                              R(1, 2, 3, 4, 5)),
    "interpolate area": (lambda L, F, x: F.interpolate(x, size=(3, 2), mode="area"), R(2, 3, 7, 5)),
    "interpolate bicubic": (lambda L, F, x: F.interpolate(x, size=(7, 3), mode="bicubic"), R(2, 3, 4, 5)),
    "interpolate bicubic align_corners": (lambda L, F, x: F.interpolate(x, scale_factor=1.7, mode="bicubic",
                                                                        align_corners=True), R(1, 2, 5, 6)),
    "pixel_shuffle": (lambda L, F, x: F.pixel_shuffle(x, 2), R(2, 8, 3, 4)),
    "pixel_unshuffle": (lambda L, F, x: F.pixel_unshuffle(x, 2), R(2, 2, 4, 6)),
    "group_norm": (lambda L, F, x, w, b: F.group_norm(x, 2, w, b), R(2, 4, 3, 5), R(4), R(4)),
    "group_norm of signals": (lambda L, F, x: F.group_norm(x, 4), R(3, 4, 5)),
    "instance_norm": (lambda L, F, x, w, b: F.instance_norm(x, weight=w, bias=b), R(2, 4, 3, 5), R(4), R(4)),
    "lp_pool1d": (lambda L, F, x: F.lp_pool1d(x, 2, 3, stride=2, ceil_mode=True), R(2, 3, 10)),
    "lp_pool2d": (lambda L, F, x: F.lp_pool2d(x, 2, (2, 3), stride=1), R(2, 3, 5, 6)),
    "lp_pool2d, p = 1: a negative sum gives 0": (lambda L, F, x: F.lp_pool2d(x, 1, 2), R(2, 3, 4, 4)),
    "lp_pool3d": (lambda L, F, x: F.lp_pool3d(x, 3.0, 2), np.abs(R(1, 2, 4, 4, 4))),
    "lp_pool1d, p = inf: the largest |x|": (lambda L, F, x: F.lp_pool1d(x, float("inf"), 2), R(2, 3, 8)),
    "lp_pool2d, p = -inf: the smallest |x|": (lambda L, F, x: F.lp_pool2d(x, -float("inf"), 2, 1), R(2, 3, 4, 5)),
    "local_response_norm": (lambda L, F, x: F.local_response_norm(x, 3, alpha=0.1), R(2, 5, 7)),
    "local_response_norm, volumes": (lambda L, F, x: F.local_response_norm(x, 4, alpha=0.5, beta=0.5, k=2.0),
                                     R(1, 6, 2, 3, 2)),
    "max_unpool2d": (lambda L, F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), R(2, 3, 6, 4)),
    "max_unpool2d output_size": (lambda L, F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2,
                                                                output_size=(7, 5)), R(2, 3, 7, 5)),
    "max_unpool1d": (lambda L, F, x: F.max_unpool1d(*F.max_pool1d(x, 3, 2, 1, return_indices=True), 3, 2, 1),
                     R(2, 3, 9)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_function_matches_pytorch_in_value_gradient_and_indices(name):
    fn, *arrays = CASES[name]
    grads = [a.dtype.kind == "f" for a in arrays]
    theirs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    ours = [tl.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    expected, got = fn(torch, torch.nn.functional, *theirs), fn(tl, F, *ours)
    if isinstance(expected, tuple):  # (values, indices)
        assert got[1].dtype == tl.int64 and np.array_equal(got[1].numpy(), expected[1].numpy())
        expected, got = expected[0], got[0]
    assert tuple(got.shape) == tuple(expected.shape) and str(got.dtype)[14:] == str(expected.dtype)[6:]
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    if any(grads):
        seed = np.random.default_rng(1).standard_normal(tuple(expected.shape))
        expected.backward(torch.tensor(seed))
        got.backward(tl.tensor(seed))
        for t, o in zip(theirs, ours):
            if t.grad is not None:
                np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


# each bad call raises the kind of error PyTorch raises, naming the function
x4, w4 = R(2, 3, 5, 5), R(4, 3, 3, 3)
BAD = [
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4, dtype=L.float32))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), L.zeros(4, dtype=L.float32))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(R(4, 2, 3, 3)))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(R(4, 3, 7, 7)))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), stride=0)),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), padding=-1)),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), padding="same", stride=2)),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), padding="full")),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4)[None], L.tensor(w4))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), groups=2)),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(R(4, 1, 3, 3)), groups=3)),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), L.tensor(R(3)))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), padding=(1, 2, 3))),
    ("conv2d", lambda L, F: F.conv2d(L.tensor(x4), L.tensor(w4), stride=1.5)),
    ("conv_transpose2d", lambda L, F: F.conv_transpose2d(L.tensor(x4), L.tensor(R(3, 4, 3, 3)), stride=2,
                                                         output_padding=2)),
    ("max_pool2d", lambda L, F: F.max_pool2d(L.tensor(x4), 2, padding=2)),
    ("max_pool2d", lambda L, F: F.max_pool2d(L.tensor(x4), 7)),
    ("max_pool2d", lambda L, F: F.max_pool2d(L.tensor(x4)[0, 0], 2)),
    ("avg_pool2d", lambda L, F: F.avg_pool2d(L.tensor(x4), 2, padding=2)),
    ("adaptive_avg_pool2d", lambda L, F: F.adaptive_avg_pool2d(L.tensor(x4).long(), 2)),
    ("adaptive_max_pool2d", lambda L, F: F.adaptive_max_pool2d(L.tensor(x4).long(), 2)),
    ("unfold", lambda L, F: F.unfold(L.tensor(x4)[None], 2)),
    ("fold", lambda L, F: F.fold(L.tensor(R(2, 12, 15)), (5, 5), 2)),
    ("dropout1d", lambda L, F: F.dropout1d(L.tensor(x4), 0.5)),
    ("max_unpool2d", lambda L, F: F.max_unpool2d(*F.max_pool2d(L.tensor(x4), 2, return_indices=True), 2,
                                                 output_size=(7, 7))),
    ("max_unpool2d", lambda L, F: F.max_unpool2d(*F.max_pool2d(L.tensor(x4), 2, return_indices=True), 2,
                                                 output_size=(5,))),
    ("interpolate", lambda L, F: F.interpolate(L.tensor(x4), size=3, recompute_scale_factor=True)),
    ("interpolate", lambda L, F: F.interpolate(L.tensor(x4), scale_factor=-1.0)),
    ("interpolate", lambda L, F: F.interpolate(L.tensor(x4)[0, 0], size=(3, 3))),
    ("interpolate", lambda L, F: F.interpolate(L.tensor(x4)[0, 0], scale_factor=2)),
    ("interpolate", lambda L, F: F.interpolate(L.tensor(x4).long(), scale_factor=2)),
    ("interpolate", lambda L, F: F.interpolate(L.tensor(x4), scale_factor=2, mode="nearest", align_corners=True)),
    ("group_norm", lambda L, F: F.group_norm(L.ones(1, 6), 6)),
    ("group_norm", lambda L, F: F.group_norm(L.tensor(x4), 2)),
    ("pixel_shuffle", lambda L, F: F.pixel_shuffle(L.ones(1, 4, 2, 2), 0)),
    ("pixel_shuffle", lambda L, F: F.pixel_shuffle(L.ones(1, 3, 2, 2), 2)),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_bad_arguments_raise_pytorchs_kind_of_error_naming_the_function(k):
    name, call = BAD[k]
    with pytest.raises(Exception) as theirs:
        call(torch, torch.nn.functional)
    with pytest.raises(Exception) as ours:
        call(tl, F)
    assert ours.type is theirs.type, (ours.value, theirs.value)
    assert name in str(ours.value)


def test_outputs_are_new_tensors_that_take_in_place_ops_and_an_empty_batch_passes():
    """A model writes ``nn.LeakyReLU(inplace=True)`` or ``out += shortcut`` after a convolution without bias (DCGAN,
    ResNet): the output must be a tensor of its own, not a reshape of an internal product. And N = 0 works, as in
    PyTorch."""
    x = tl.randn(2, 3, 8, 8, requires_grad=True)
    for make in (lambda: tl.nn.Conv2d(3, 4, 3, bias=False)(x), lambda: F.unfold(x, 2),
                 lambda: F.adaptive_max_pool2d(x, 3), lambda: F.adaptive_avg_pool2d(x, (8, 8))):
        y = make()
        y.relu_()
        y.sum().backward()
    assert F.adaptive_avg_pool2d(x, (8, 8)) is not x
    empty = tl.randn(0, 3, 5, 5)
    for layer, shape in ((tl.nn.Conv2d(3, 2, 3), (0, 2, 3, 3)), (tl.nn.ConvTranspose2d(3, 2, 3, stride=2),
                                                                  (0, 2, 11, 11)), (tl.nn.MaxPool2d(2), (0, 3, 2, 2)),
                         (tl.nn.AvgPool2d(2), (0, 3, 2, 2)), (tl.nn.AdaptiveMaxPool2d(2), (0, 3, 2, 2)),
                         (tl.nn.Unfold(2), (0, 12, 16))):
        assert tuple(layer(empty).shape) == shape
    with pytest.raises(RuntimeError, match=r"x\.float\(\) / 255"):  # an image of uint8: convert the input
        tl.nn.Conv2d(3, 2, 3)(tl.zeros(1, 3, 5, 5, dtype=tl.uint8))


def test_a_channel_mix_up_gets_the_fix():
    layer = tl.nn.Conv2d(1, 4, 3)
    with pytest.raises(RuntimeError, match=r"ONE example .* x\.unsqueeze\(1\)"):
        layer(tl.randn(8, 28, 28))  # a batch of grey images without their channel dim
    with pytest.raises(RuntimeError, match=r"channels-last.*x\.permute\(0, 3, 1, 2\)"):
        tl.nn.Conv2d(3, 4, 3)(tl.randn(8, 28, 28, 3))


S1, S2, S3 = (2, 2, 9), (2, 3, 8, 7), (2, 2, 4, 5, 4)  # signals, images, volumes: (N, C, *spatial)
LAYERS = [("Conv1d(2, 4, 3)", S1), ("Conv2d(3, 4, 3, padding=1, bias=False, padding_mode='reflect')", S2),
          ("Conv2d(4, 4, (3, 2), groups=2, dilation=2, stride=(2, 1))", (2, 4, 8, 7)),
          ("Conv2d(3, 4, 4, padding='same', padding_mode='circular')", S2),
          ("Conv2d(3, 2, 3, padding=2, padding_mode='replicate')", S2), ("Conv3d(2, 3, 2)", S3),
          ("ConvTranspose2d(3, 4, 3, stride=2, output_padding=1)", S2), ("ConvTranspose1d(2, 4, 3, groups=2)", S1),
          ("MaxPool2d(2)", S2), ("MaxPool1d(3, 2, 1)", S1), ("MaxPool3d(2)", S3), ("AvgPool1d(3)", S1),
          ("AvgPool2d(3, 2, 1)", S2), ("AvgPool3d(2)", S3), ("AdaptiveAvgPool2d((1, 1))", S2),
          ("AdaptiveMaxPool1d(3)", S1), ("AdaptiveMaxPool2d(2)", S2), ("AdaptiveAvgPool3d(1)", S3), ("Unfold(2)", S2),
          ("Fold(3, 2)", (2, 8, 4)), ("BatchNorm2d(3)", S2), ("BatchNorm3d(2)", S3), ("Dropout2d()", S2),
          ("Dropout1d(0.2)", S1), ("Dropout3d()", S3), ("Upsample(scale_factor=2)", S2),
          ("Upsample(size=(3, 4), mode='bilinear', align_corners=True)", S2),
          ("UpsamplingBilinear2d(scale_factor=2)", S2), ("PixelShuffle(2)", (2, 8, 3, 4)),
          ("PixelUnshuffle(2)", (2, 3, 4, 6)), ("GroupNorm(2, 4)", (2, 4, 3, 5)),
          ("GroupNorm(1, 4, affine=False)", (2, 4, 3)), ("InstanceNorm1d(2)", S1),
          ("InstanceNorm2d(3, affine=True, track_running_stats=True)", S2),
          ("InstanceNorm3d(2, affine=True, bias=False)", S3), ("LPPool2d(2, 2)", S2),
          ("LPPool1d(2, 3, stride=1, ceil_mode=True)", S1), ("LocalResponseNorm(3)", S2)]


@pytest.mark.parametrize("spec, shape", LAYERS)
def test_each_layer_has_pytorchs_repr_state_dict_numbers_and_gradients(spec, shape):
    theirs, ours = eval("torch.nn." + spec), eval("tl.nn." + spec)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: tl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    if "Dropout" in spec:
        theirs.eval(), ours.eval()
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    tx, ox = torch.tensor(x, requires_grad=True), tl.tensor(x, requires_grad=True)
    expected, got = theirs(tx), ours(ox)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    seed = np.random.default_rng(3).standard_normal(tuple(expected.shape)).astype(np.float32)
    expected.backward(torch.tensor(seed))
    got.backward(tl.tensor(seed))
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(theirs.named_parameters(), ours.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
    for (name, b), c in zip(theirs.named_buffers(), ours.buffers()):  # BatchNorm2d's running statistics
        np.testing.assert_allclose(c.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_max_unpool_puts_each_max_back():
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 5)).astype(np.float32)
    expected = torch.nn.MaxUnpool2d(2)(*torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x)), (7, 5))
    got = tl.nn.MaxUnpool2d(2)(*tl.nn.MaxPool2d(2, return_indices=True)(tl.tensor(x)), (7, 5))
    assert repr(tl.nn.MaxUnpool2d(2)) == repr(torch.nn.MaxUnpool2d(2))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="invalid max index"):
        tl.nn.MaxUnpool2d(2)(*tl.nn.MaxPool2d(2, return_indices=True)(tl.tensor(x)))  # (6, 4): too small


def test_conv_layers_start_from_pytorchs_distribution_and_the_transposed_takes_output_size():
    tl.manual_seed(0)
    layer = tl.nn.Conv2d(6, 64, 3, groups=2)  # fan_in = 6 / 2 * 9 = 27
    bound = 1 / np.sqrt(27)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.shape == (64, 3, 3, 3) and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound  # U(-a, a) has std a / sqrt(3)
    theirs = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)
    ours = tl.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)
    ours.load_state_dict({k: tl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    got, expected = ours(tl.tensor(x), output_size=(10, 10)), theirs(torch.tensor(x), output_size=(10, 10))
    assert tuple(got.shape) == (2, 4, 10, 10)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        ours(tl.tensor(x), output_size=(11, 11))


def test_channel_dropout_zeroes_whole_channels_and_keeps_the_mean():
    tl.manual_seed(0)
    x = tl.ones(64, 32, 5, 5)
    y = F.dropout2d(x, 0.25).numpy()
    per_channel = y.reshape(64, 32, -1)
    assert np.all(per_channel.min(2) == per_channel.max(2))  # each channel all zero or all kept
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((per_channel[:, :, 0] == 0).mean() - 0.25) < 0.03 and abs(y.mean() - 1) < 0.05
    assert F.dropout2d(x, 0.25, training=False) is x
    signal = F.dropout1d(tl.ones(3, 40), 0.5).numpy()  # one example (C, L): one draw per channel
    assert np.all(signal.min(1) == signal.max(1))
    z = tl.ones(2, 3, 4, 4)
    assert F.dropout3d(z, 0.5, inplace=True) is z
    layer = tl.nn.Dropout2d(0.5).eval()
    assert layer(x) is x
    with warnings.catch_warnings(record=True) as caught:  # PyTorch's warning for a 3-D input, read as (N, C, L)
        warnings.simplefilter("always")
        F.dropout2d(tl.ones(2, 3, 4))
    assert "channel-wise 1D dropout" in str(caught[0].message)


class _SmallNet:
    """PyTorch's MNIST example in small (12x12 grey images, 10 classes), written once for both libraries."""

    def __init__(self, lib):
        nn = lib.nn
        self.model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                   nn.Conv2d(4, 8, 3, stride=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout2d(0.25),
                                   nn.Flatten(), nn.Linear(8 * 5 * 5, 16), nn.ReLU(), nn.Linear(16, 10))
        self.optimizer = lib.optim.Adadelta(self.model.parameters(), lr=1.0)
        self.scheduler = lib.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.7)

    def step(self, lib, x, y):
        self.optimizer.zero_grad()
        loss = lib.nn.functional.nll_loss(lib.nn.functional.log_softmax(self.model(x), dim=1), y)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.item()


def test_a_small_cnn_takes_pytorchs_training_steps():
    torch.manual_seed(0)
    theirs, ours = _SmallNet(torch), _SmallNet(tl)
    ours.model.load_state_dict({k: tl.tensor(v.numpy()) for k, v in theirs.model.state_dict().items()})
    theirs.model[6].p = ours.model[6].p = 0.0  # (the two libraries draw other random numbers)
    data = np.random.default_rng(0).standard_normal((16, 1, 12, 12)).astype(np.float32)
    labels = np.arange(16) % 10
    for _ in range(3):
        expected = theirs.step(torch, torch.tensor(data), torch.tensor(labels))
        got = ours.step(tl, tl.tensor(data), tl.tensor(labels))
        assert abs(got - expected) < 1e-4 * max(1.0, abs(expected))
    for (name, p), q in zip(theirs.model.state_dict().items(), ours.model.state_dict().values()):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)
