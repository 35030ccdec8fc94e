"""Attention and the Transformer's layers against PyTorch: ``F.scaled_dot_product_attention``,
``nn.MultiheadAttention``, the encoder and decoder layers and stacks, ``nn.Transformer`` (values and gradients in
float64, PyTorch's weights loaded into ours), their masks, their errors, and the composed helpers they brought
(``repeat_interleave``, ``baddbmm``, ``addbmm``)."""
import importlib
import warnings

import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy, ndarray

import tinygrad_lite as tl

F, TF = tl.nn.functional, torch.nn.functional
RNG = np.random.default_rng(0)


def both(a, grad=False):
    return torch.tensor(a, requires_grad=grad), tl.tensor(a, requires_grad=grad)


def assert_close(ours, theirs, what=""):
    ours = ours.detach().numpy() if hasattr(ours, "detach") else ours
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert np.shape(ours) == np.shape(theirs), (what, np.shape(ours), np.shape(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=what)


def twins(torch_class, our_class, *args, **kwargs):
    """The same layer in both libraries, in float64, with PyTorch's weights in ours (names, order and repr equal)."""
    torch.manual_seed(0)
    with warnings.catch_warnings():  # (PyTorch's TransformerEncoder warns that its nested-tensor route is off)
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch_class(*args, dtype=torch.float64, **kwargs)
    ours = our_class(*args, dtype=tl.float64, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert str(ours) == str(theirs)
    ours.load_state_dict({name: tl.tensor(p.detach().numpy()) for name, p in theirs.state_dict().items()})
    return theirs, ours


def backward_both(theirs, ours):
    g = RNG.standard_normal(tuple(theirs.shape))
    theirs.backward(torch.tensor(g))
    ours.backward(tl.tensor(g))


def assert_same_gradients(theirs, ours):
    for (name, p), (our_name, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert name == our_name
        assert_close(q.grad, p.grad, name)


# -------------------------------------------------------------------- scaled_dot_product_attention
Q, K, V = RNG.standard_normal((2, 3, 4, 8)), RNG.standard_normal((2, 3, 6, 8)), RNG.standard_normal((2, 3, 6, 5))
BOOL_MASK = RNG.random((4, 6)) > 0.4
BOOL_MASK[1] = False  # a query that may attend to no key: PyTorch's kernel answers zeros, and so do we
FLOAT_MASK = RNG.standard_normal((2, 1, 4, 6))


@pytest.mark.parametrize("options", [{}, {"is_causal": True}, {"attn_mask": BOOL_MASK}, {"attn_mask": FLOAT_MASK},
                                     {"scale": 0.3, "attn_mask": FLOAT_MASK}],
                         ids=["plain", "causal", "bool-mask", "float-mask", "scale"])
def test_scaled_dot_product_attention_matches_pytorch(options):
    (tq, q), (tk, k), (tv, v) = both(Q, True), both(K, True), both(V, True)
    mask = options.get("attn_mask")
    theirs_mask, our_mask = both(mask) if mask is not None else (None, None)
    their_options, our_options = {**options, "attn_mask": theirs_mask}, {**options, "attn_mask": our_mask}
    theirs = TF.scaled_dot_product_attention(tq, tk, tv, **their_options)
    ours = F.scaled_dot_product_attention(q, k, v, **our_options)
    assert_close(ours, theirs)
    backward_both(theirs, ours)
    for a, b, name in ((q, tq, "query"), (k, tk, "key"), (v, tv, "value")):
        assert_close(a.grad, b.grad, name)


def test_grouped_query_attention_and_unbatched_inputs():
    k1, v1 = RNG.standard_normal((2, 1, 6, 8)), RNG.standard_normal((2, 1, 6, 5))
    k3 = np.concatenate([k1] * 3, axis=1)
    ours = F.scaled_dot_product_attention(tl.tensor(Q), tl.tensor(k1), tl.tensor(v1), enable_gqa=True)
    assert_close(ours, TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (Q, k1, v1)), enable_gqa=True))
    assert_close(ours, F.scaled_dot_product_attention(tl.tensor(Q), tl.tensor(k3), tl.tensor(np.concatenate(
        [v1] * 3, axis=1))))
    assert_close(F.scaled_dot_product_attention(*(tl.tensor(a[0, 0]) for a in (Q, K, V))),
                 TF.scaled_dot_product_attention(*(torch.tensor(a[0, 0]) for a in (Q, K, V))))


def test_a_float32_mask_serves_float64_inputs_and_no_keys_give_zeros():
    """A model made float64 with .double() keeps the float32 causal mask PyTorch's helper makes: both take it."""
    (tq, q), (tm, mask) = both(Q), both(np.triu(np.full((4, 4), -np.inf), 1).astype(np.float32))
    assert_close(F.scaled_dot_product_attention(q, q, q, attn_mask=mask),
                 TF.scaled_dot_product_attention(tq, tq, tq, attn_mask=tm))
    (tk, k) = both(np.zeros((2, 3, 0, 8)))
    assert_close(F.scaled_dot_product_attention(q, k, k), TF.scaled_dot_product_attention(tq, tk, tk))
    (tk, k), (tv, v) = both(K[:, :1]), both(V)  # (grouped-query: one key head, the values' three)
    assert_close(F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                 TF.scaled_dot_product_attention(tq, tk, tv, enable_gqa=True))


def test_attention_dropout_drops_weights_even_outside_training():
    q, k, v = (tl.tensor(a) for a in (Q, K, V))
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).any()
    tl.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert not np.allclose(dropped.numpy(), F.scaled_dot_product_attention(q, k, v).numpy())


@pytest.mark.parametrize("call, error, text", [
    (lambda q, k, v: F.scaled_dot_product_attention(q, k.float(), v), RuntimeError, "same dtype"),
    (lambda q, k, v: F.scaled_dot_product_attention(q[0, 0, 0], k[0, 0, 0], v[0, 0, 0]), RuntimeError, "at least 2-D"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=tl.ones(4, 6, dtype=tl.bool), is_causal=True),
     RuntimeError, "should not be set when is_causal"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=tl.ones(4, 6, dtype=tl.int64)), RuntimeError,
     "must be bool"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v[..., :3, :]), RuntimeError, "same length"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k[:, :2], v[:, :2], enable_gqa=True), RuntimeError,
     "multiple"),
], ids=["dtypes", "1-D", "mask-and-causal", "int-mask", "lengths", "gqa-heads"])
def test_bad_attention_calls_say_what_is_wrong(call, error, text):
    with pytest.raises(error, match=text):
        call(*(tl.tensor(a) for a in (Q, K, V)))


# -------------------------------------------------------------------- nn.MultiheadAttention
MHA_OPTIONS = [{}, {"batch_first": True}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True, "add_zero_attn": True},
               {"bias": False}]


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("options", MHA_OPTIONS, ids=["default", "batch_first", "kdim-vdim", "bias_kv-zero_attn",
                                                      "no-bias"])
def test_multihead_attention_matches_pytorch(options, need_weights):
    theirs, ours = twins(torch.nn.MultiheadAttention, tl.nn.MultiheadAttention, 8, 2, **options)
    first = options.get("batch_first", False)
    (tq, q), (tk, k), (tv, v) = (both(RNG.standard_normal((2, n, e) if first else (n, 2, e)), True) for n, e in
                                 ((4, 8), (6, options.get("kdim", 8)), (6, options.get("vdim", 8))))
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    padding[1] = True  # every key of example 1 is padding: nan weights with need_weights, zeros without, as PyTorch
    (t_padding, our_padding) = both(np.where(padding, -np.inf, 0.0))  # (float, as the attn_mask: no warning)
    (t_mask, our_mask) = both(RNG.standard_normal((4, 6)))
    theirs_out, their_weights = theirs(tq, tk, tv, key_padding_mask=t_padding, attn_mask=t_mask,
                                       need_weights=need_weights)
    ours_out, our_weights = ours(q, k, v, key_padding_mask=our_padding, attn_mask=our_mask, need_weights=need_weights)
    assert_close(ours_out, theirs_out, "output")
    assert (our_weights is None) == (their_weights is None)
    if need_weights:
        assert_close(our_weights, their_weights, "weights")
    else:
        backward_both(theirs_out, ours_out)
        assert_close(q.grad, tq.grad, "query")
        assert_same_gradients(theirs, ours)


def test_multihead_attention_weights_per_head_and_bool_masks():
    theirs, ours = twins(torch.nn.MultiheadAttention, tl.nn.MultiheadAttention, 8, 2)
    (tx, x), (t_mask, mask) = both(RNG.standard_normal((5, 3, 8))), both(np.triu(np.ones((5, 5), bool), 1))
    their_out, their_weights = theirs(tx, tx, tx, attn_mask=t_mask, average_attn_weights=False, is_causal=True)
    out, weights = ours(x, x, x, attn_mask=mask, average_attn_weights=False, is_causal=True)
    assert tuple(weights.shape) == (3, 2, 5, 5)
    assert_close(out, their_out), assert_close(weights, their_weights)


def test_multihead_attention_dropout_only_in_training():
    layer = tl.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = tl.randn(5, 3, 8)
    layer.eval()
    assert tl.equal(layer(x, x, x)[0], layer(x, x, x)[0])
    layer.train()
    assert not tl.equal(layer(x, x, x)[0], layer(x, x, x)[0])


@pytest.mark.parametrize("call, error, text", [
    (lambda: tl.nn.MultiheadAttention(10, 3), AssertionError, "divisible by num_heads"),
    (lambda: tl.nn.MultiheadAttention(0, 2), ValueError, "greater than 0"),
    (lambda: tl.nn.MultiheadAttention(8, 2)(*[tl.randn(5, 3, 8)] * 3, is_causal=True), RuntimeError,
     "Need attn_mask"),
    (lambda: tl.nn.MultiheadAttention(8, 2)(*[tl.randn(5, 3, 8)] * 3, key_padding_mask=tl.zeros(3, 4, dtype=tl.bool)),
     AssertionError, "key_padding_mask shape"),
    (lambda: tl.nn.MultiheadAttention(8, 2)(*[tl.randn(1, 5, 3, 8)] * 3), AssertionError, "unbatched 2D or batched"),
    (lambda: tl.nn.MultiheadAttention(8, 2)(*[tl.randn(5, 3, 8)] * 3, attn_mask=tl.zeros(5, 5, dtype=tl.int64)),
     AssertionError, "only bool and floating"),
    (lambda: tl.nn.MultiheadAttention(8, 2)(*[tl.randn(5, 3, 8)] * 3, attn_mask=tl.zeros(5, 4)), RuntimeError,
     "should be"),
], ids=["heads", "zero", "causal-without-mask", "padding-shape", "4-D", "int-mask", "mask-shape"])
def test_bad_multihead_attention_calls_raise_what_pytorch_raises(call, error, text):
    with pytest.raises(error, match=text):
        call()


# -------------------------------------------------------------------- the Transformer's layers
CAUSAL = np.triu(np.full((5, 5), -np.inf), 1)


@pytest.mark.parametrize("options", [{}, {"norm_first": True}, {"activation": "gelu"}, {"batch_first": True},
                                     {"bias": False}], ids=["post-norm", "pre-norm", "gelu", "batch_first", "no-bias"])
def test_encoder_layer_matches_pytorch_with_its_masks(options):
    theirs, ours = twins(torch.nn.TransformerEncoderLayer, tl.nn.TransformerEncoderLayer, 8, 2, dim_feedforward=16,
                         dropout=0.0, **options)
    (tx, x) = both(RNG.standard_normal((2, 5, 8) if options.get("batch_first") else (5, 2, 8)), True)
    padding = np.zeros((2, 5), bool)
    padding[0, 3:] = True
    (t_mask, mask), (t_padding, our_padding) = both(CAUSAL), both(np.where(padding, -np.inf, 0.0))
    their_out = theirs(tx, src_mask=t_mask, src_key_padding_mask=t_padding, is_causal=True)
    out = ours(x, src_mask=mask, src_key_padding_mask=our_padding, is_causal=True)
    assert_close(out, their_out)
    backward_both(their_out, out)
    assert_close(x.grad, tx.grad, "src")
    assert_same_gradients(theirs, ours)
    theirs.eval(), ours.eval()
    with torch.no_grad(), tl.no_grad():  # (PyTorch's fused route for evaluation: the same numbers)
        assert_close(ours(x), theirs(tx))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_pytorch_every_gradient(batch_first):
    theirs, ours = twins(torch.nn.Transformer, tl.nn.Transformer, d_model=8, nhead=2, num_encoder_layers=2,
                         num_decoder_layers=2, dim_feedforward=16, dropout=0.0, batch_first=batch_first)
    (ts, src), (tt, tgt) = (both(RNG.standard_normal((2, n, 8) if batch_first else (n, 2, 8)), True) for n in (5, 4))
    padding = np.zeros((2, 5), bool)
    padding[1, 4:] = True
    (t_padding, our_padding) = both(padding)
    their_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mask = tl.nn.Transformer.generate_square_subsequent_mask(4, dtype=tl.float64)
    assert_close(mask, their_mask)
    their_out = theirs(ts, tt, tgt_mask=their_mask, src_key_padding_mask=t_padding,
                       memory_key_padding_mask=t_padding)
    out = ours(src, tgt, tgt_mask=mask, src_key_padding_mask=our_padding, memory_key_padding_mask=our_padding)
    assert_close(out, their_out)
    backward_both(their_out, out)
    assert_close(src.grad, ts.grad, "src"), assert_close(tgt.grad, tt.grad, "tgt")
    assert_same_gradients(theirs, ours)


def test_decoder_layer_pre_norm_and_an_unbatched_encoder_layer():
    theirs, ours = twins(torch.nn.TransformerDecoderLayer, tl.nn.TransformerDecoderLayer, 8, 2, dim_feedforward=16,
                         dropout=0.0, norm_first=True)
    (tt, tgt), (tm, memory), (t_mask, mask) = both(RNG.standard_normal((4, 2, 8))), \
        both(RNG.standard_normal((5, 2, 8))), both(CAUSAL[:4, :4])
    assert_close(ours(tgt, memory, tgt_mask=mask, tgt_is_causal=True), theirs(tt, tm, tgt_mask=t_mask,
                                                                                  tgt_is_causal=True))
    theirs, ours = twins(torch.nn.TransformerEncoderLayer, tl.nn.TransformerEncoderLayer, 8, 2, dim_feedforward=16)
    theirs.eval(), ours.eval()
    (tx, x) = both(RNG.standard_normal((5, 8)))
    assert_close(ours(x), theirs(tx))


def test_a_small_transformer_trains_as_pytorchs_does():
    theirs, ours = twins(torch.nn.Transformer, tl.nn.Transformer, d_model=8, nhead=2, num_encoder_layers=1,
                         num_decoder_layers=1, dim_feedforward=16, dropout=0.0, batch_first=True)
    their_opt, our_opt = torch.optim.Adam(theirs.parameters(), lr=0.01), tl.optim.Adam(ours.parameters(), lr=0.01)
    (ts, src), (tt, tgt), (ty, y) = (both(RNG.standard_normal((3, n, 8))) for n in (5, 4, 4))
    for _ in range(3):
        for model, opt, a, b, target, lib in ((theirs, their_opt, ts, tt, ty, torch), (ours, our_opt, src, tgt, y, tl)):
            opt.zero_grad()
            lib.nn.functional.mse_loss(model(a, b), target).backward()
            opt.step()
    for (name, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        # (atol: the keys' bias has gradient 0 in exact arithmetic, a softmax ignores a shift of all its scores,
        # so both libraries move it by rounding noise, about 1e-12)
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg=name)


def test_the_stacks_hold_independent_copies_and_the_transformer_starts_xavier_uniform():
    layer = tl.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    encoder = tl.nn.TransformerEncoder(layer, 3, norm=tl.nn.LayerNorm(8))
    assert len(encoder.layers) == 3 and encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight
    assert tl.equal(encoder.layers[0].linear1.weight, encoder.layers[2].linear1.weight)  # (copies, as PyTorch's)
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters())) + 2
    model = tl.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    for name, p in model.named_parameters():
        if p.ndim > 1:  # U(-a, a), a = sqrt(6 / (fan_in + fan_out))
            assert p.abs().max().item() <= (6 / sum(p.shape[:2])) ** 0.5, name


@pytest.mark.parametrize("call, error, text", [
    (lambda m: m(tl.randn(5, 2, 8), tl.randn(4, 3, 8)), RuntimeError, "batch number of src and tgt"),
    (lambda m: m(tl.randn(5, 2, 8), tl.randn(4, 2, 6)), RuntimeError, "feature number"),
    (lambda m: tl.nn.TransformerEncoderLayer(8, 2, activation="tanh"), RuntimeError, "relu/gelu"),
], ids=["batch", "features", "activation"])
def test_bad_transformer_calls_raise_what_pytorch_raises(call, error, text):
    model = tl.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    with pytest.raises(error, match=text):
        call(model)


def test_mismatched_mask_kinds_warn_as_pytorch():
    layer = tl.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and src_mask"):
        layer(tl.randn(5, 2, 8), src_mask=tl.zeros(5, 5), src_key_padding_mask=tl.zeros(2, 5, dtype=tl.bool))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(tl.randn(5, 2, 8), src_mask=tl.zeros(5, 5), src_key_padding_mask=tl.zeros(2, 5))


# -------------------------------------------------------------------- what attention brought along
def test_repeat_interleave_and_its_errors():
    (tx, x), (t_counts, counts) = both(RNG.standard_normal((2, 3)), True), both(np.array([1, 0, 2]))
    for theirs, ours in ((tx.repeat_interleave(2), x.repeat_interleave(2)),
                         (tx.repeat_interleave(t_counts, dim=1), x.repeat_interleave(counts, dim=1)),
                         (torch.repeat_interleave(t_counts), tl.repeat_interleave(counts))):
        assert_close(ours, theirs)
    backward_both(tx.repeat_interleave(t_counts, dim=1), x.repeat_interleave(counts, dim=1))
    assert_close(x.grad, tx.grad)
    for call, text in ((lambda: x.repeat_interleave(tl.tensor([1, 2]), dim=1), "same size as input along dim"),
                       (lambda: x.repeat_interleave(-1), "can not be negative"),
                       (lambda: x.repeat_interleave(tl.tensor([1.0, 2.0]), dim=0), "integers"),
                       (lambda: x.repeat_interleave(2, dim=1, output_size=5), "output_size")):
        with pytest.raises(RuntimeError, match=text):
            call()


def test_baddbmm_and_addbmm():
    (ti, i), (ta, a), (tb, b) = both(RNG.standard_normal((4, 5)), True), both(RNG.standard_normal((3, 4, 2)), True), \
        both(RNG.standard_normal((3, 2, 5)), True)
    assert_close(i.baddbmm(a, b, beta=0.5, alpha=2.0), ti.baddbmm(ta, tb, beta=0.5, alpha=2.0))
    theirs, ours = torch.addbmm(ti, ta, tb, alpha=-1.0), tl.addbmm(i, a, b, alpha=-1.0)
    assert_close(ours, theirs)
    backward_both(theirs, ours)
    assert_close(a.grad, ta.grad), assert_close(i.grad, ti.grad)
    with pytest.raises(RuntimeError, match=r"batch1 \(b, n, m\) and batch2 \(b, m, p\)"):
        tl.baddbmm(i, a, b.transpose(1, 2))


def test_a_transformer_runs_on_the_device_with_its_masks():
    """On the stand-in GPU (tests/fake_cupy.py): every number made on the device, the same as on the CPU."""
    tl.manual_seed(0)
    model = tl.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                              dropout=0.0)
    src, tgt = tl.randn(5, 2, 8), tl.randn(4, 2, 8)
    padding, mask = tl.tensor([[False] * 4 + [True], [False] * 5]), tl.nn.Transformer.generate_square_subsequent_mask(4)
    expected = model(src, tgt, tgt_mask=mask, src_key_padding_mask=padding).detach().numpy()
    with FakeCuPy().install():
        model.to("cuda")
        out = model(src.cuda(), tgt.cuda(), tgt_mask=mask.cuda(), src_key_padding_mask=padding.cuda())
        out.sum().backward()
        assert isinstance(out.array, ndarray) and all(isinstance(p.grad.array, ndarray) for p in model.parameters())
        np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-6)


def kernel_choices(lib):
    """What attention does inside each of PyTorch's kernel choices (on a CPU), and the switches each sets."""
    attention = importlib.import_module(f"{lib.__name__}.nn.attention")
    backend, switches, q = attention.SDPBackend, lib.backends.cuda, lib.ones(2, 2, 4, 8)
    seen = []
    for choice in (backend.MATH, backend.FLASH_ATTENTION, backend.EFFICIENT_ATTENTION, backend.CUDNN_ATTENTION,
                   [backend.EFFICIENT_ATTENTION, backend.MATH], []):
        with attention.sdpa_kernel(choice):
            flags = (switches.flash_sdp_enabled(), switches.math_sdp_enabled(), switches.mem_efficient_sdp_enabled(),
                     switches.cudnn_sdp_enabled())
            try:
                seen.append((flags, lib.nn.functional.scaled_dot_product_attention(q, q, q).shape == q.shape))
            except RuntimeError as error:
                seen.append((flags, str(error)[:60]))
    seen.append((switches.flash_sdp_enabled(), switches.math_sdp_enabled()))  # (restored)
    switches.enable_math_sdp(False), switches.enable_flash_sdp(False)
    with pytest.raises(RuntimeError, match="No viable backend"):
        lib.nn.functional.scaled_dot_product_attention(q, q, q)
    switches.enable_math_sdp(True), switches.enable_flash_sdp(True)
    with pytest.raises(AssertionError, match="must be an instance of SDPBackend"):
        attention.sdpa_kernel("math").__enter__()
    return seen + [str(backend.MATH), repr(backend.FLASH_ATTENTION)]


def test_the_choice_of_attention_kernel_allows_and_refuses_as_pytorchs():
    assert kernel_choices(tl) == kernel_choices(torch)


def nested_route(L):
    """Round r61: PyTorch's encoder stack in evaluation, under no_grad, with a padding mask at the ends of the
    sequences, runs as nested tensors: 0 at the padded positions (mean-pooling over all positions then differs);
    its constructor warns when the layers rule that route out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for layer in (L.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), L.nn.TransformerEncoderLayer(8, 2, 16),
                      L.nn.TransformerEncoderLayer(9, 3, 16, batch_first=True)):
            stack = L.nn.TransformerEncoder(layer, num_layers=2)
    said = [str(w.message) for w in caught if "use_nested_tensor" in str(w.message)]
    stack = L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), num_layers=2)
    rng = np.random.default_rng(0)
    with L.no_grad():
        for p in stack.parameters():
            p.copy_(L.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    stack.eval()
    x = L.tensor(np.sin(np.arange(64)).reshape(2, 4, 8).astype(np.float32))
    at_end = L.tensor([[False, False, True, True], [False, False, False, True]])
    in_front = L.tensor([[True, False, False, False], [False, False, False, True]])
    with L.no_grad():
        outs = [stack(x, src_key_padding_mask=at_end), stack(x, src_key_padding_mask=in_front)]
    outs.append(stack(x, src_key_padding_mask=at_end).detach())  # (the graph recorded: no nested route)
    return said, [o.numpy() for o in outs]


def test_the_encoder_stack_zeroes_padded_positions_where_pytorchs_runs_nested_tensors():
    (ours_said, ours), (theirs_said, theirs) = nested_route(tl), nested_route(torch)
    assert ours_said == theirs_said and len(ours_said) == 2
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert (ours[0][0, 2:] == 0).all() and (ours[1] != 0).all() and (ours[2] != 0).all()
