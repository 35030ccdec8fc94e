"""The engine and the Tensor API must each stay readable in one sitting; every op must state its derivative.

Three budgets, in lines of code (lines holding code: blank lines, comments and docstrings do not count), measured
separately because they are read separately (the README's reading order: function -> a few ops -> engine ->
in-place -> API):

- the engine: what an op is (``autograd/function.py``), the ops (``ops/*.py``) and the backward pass
  (``autograd/engine.py``). When issue 8 closed it held 754 lines: 136 for Function (with the version checks
  and the PyTorch-style adapter), 69 for the backward pass, 549 for about 50 ops in 9 files. ENGINE_BUDGET = 800
  leaves about 6% headroom: room for an op or two, not for a new subsystem.
- the Tensor API: ``tensor.py`` and the helpers it needs to be read (``dtypes.py``, ``device.py``,
  ``autograd/grad_mode.py``, ``shapes.py``): 1,163 lines then (765 in tensor.py), so API_BUDGET = 1250, about 7%.

Issue 21 (PyTorch parity) raised both, in a reviewed change. The engine went from 798 to 877 lines: custom
Functions with several outputs (``Function.wrap_outputs``, ``gather``, ``output_moved_to``, and the engine keeping
an op's outputs together in ``graph_order``), ``autograd.grad`` from several outputs running only the ops on a path
to its inputs, as PyTorch's engine does, and ``Rsub``, ``Reciprocal`` and ``Pow`` with a number, which record ``1 - x``,
``x ** 2`` and ``3 / x`` as PyTorch's graph has them; ENGINE_BUDGET = 910. The Tensor API went from 1,198 to
1,289: ``view`` sharing memory or raising, ``contiguous``, ``addcmul``/``addcdiv``, ``reciprocal``, the in-place
``abs_``, ``relu_`` and ``unsqueeze_``, and the device and dtype checks of the same issue; API_BUDGET = 1340.
Both keep about 4% headroom.

Issue 21's last part moved the in-place machinery (version counters, the check that a saved value is unchanged,
recording ``x += 1`` in the graph) out of ``function.py``, ``engine.py`` and ``tensor.py`` into
``autograd/inplace.py``, a group of its own: a learner reads it on its own, after the engine and before the API,
as one concept with its rule and its reasons in the module docstring. It held 70 lines then; INPLACE_BUDGET = 75.
The engine went from 871 to 842 lines and the API from 1,288 to 1,310, even though ``tensor.py`` took over
``as_array`` and ``legacy_array`` from ``dtypes.py`` (the same group) and ``Tensor.norm``'s vector norm from
``linalg.py``, so that no module imports another one that imports it back. ENGINE_BUDGET came down to 875 (about
4% headroom again); API_BUDGET stays at 1340.

Issue 22 added hooks (``Tensor.register_hook``, the module hooks' backward half): the engine calls a tensor's
hooks on its gradient in ``run_backward`` (5 lines, 847 in all, within ENGINE_BUDGET), and the rest is a concept of
its own, read after the Tensor API: ``autograd/hooks.py`` (the handle that removes a hook, running a tensor's hooks
and checking what they return) and ``utils/hooks.py`` (``BackwardHook``: the two identity ops around a module that
give its backward hooks grad_input and grad_output). They held 150 lines then; HOOKS_BUDGET = 160. The forward
hooks are plain Python around ``forward``, in ``nn/modules/module.py`` with the rest of Module. ``inplace.py`` went
to 72 lines: its error for an in-place change of a view names the views that backward hooks make.

Issue 34 (PyTorch parity, bad input) added to the Tensor API what a learner's PyTorch script meets: ``tensor()``
keeping the dtypes of numpy numbers, numpy arrays and tensors inside lists as PyTorch infers them, element by element
(``_dtype_of_elements``, 17 lines); the ops refusing the (values, indices) pair of ``max(dim)`` with a message
instead of stacking it into a tensor (the pairs and the check moved to ``return_types.py``); a 0-d tensor as
``alpha``/``value`` (``_number``); ``copy.deepcopy`` without hooks (and a Parameter without its ``.grad``); and
``format`` refusing a spec for a tensor with dims. The API went from 1,336 to 1,372 lines; API_BUDGET = 1390, about
1.3% headroom.

Issue 35 made batch norm, layer norm and cross-entropy (with nll_loss's options) single ops whose backward is the
closed-form formula, for speed: ``ops/batch_norm.py``, ``ops/layer_norm.py`` and ``ops/cross_entropy.py``. They are
a concept of their own, not part of the engine: nothing in the engine needs them (the layers' math is also written
out of the engine's small ops, and ran that way before), and they are read after ``nn/``, once the formulas they
fuse are known. So they are a group of their own, FUSED: 89 lines then; FUSED_BUDGET = 95. The engine stays at 847.
Its item 3 (the overhead of the tiny step) added ``ops/mse_loss.py``: mse_loss as one op, as PyTorch's graph has it
(``MseLossBackward0``), instead of subtract, square and mean; on the lessons' small regression models those three
ops, forward and backward, were about a quarter of a training step. FUSED went to 101 lines;
FUSED_BUDGET = 105.

Issue 44 (the GPU path on a real GPU) moved finding CuPy and checking its version out of ``device.py`` into
``cuda.py`` (25 lines), and added to the Tensor API what a training step needs to stay on a GPU: CuPy arrays
recognised by their class (``is_gpu_array``: the library had asked for ``__array_namespace__``, which CuPy's arrays
lack, so no tensor could be made on a real GPU), new arrays made on their device (``creating_on``: ``new_full``, and
the constant of ``x * 2`` filled there instead of copied from the host), ``bernoulli_``, and ``item()`` explaining a
nan that a GPU's check of the targets left in a loss. The API went from 1,372 to 1,399 lines; API_BUDGET = 1410.

Issue 47 (mixed precision that pays on a GPU) gave the float16 matrix product a route per device: through float32
copies on the CPU, as before, and as cuBLAS's float16 product with float32 accumulation on a GPU (a Linear's bias as
one more row of its weight, so that it too is added in float32 and the sum rounded once). That is a concept of its
own, read with mixed precision (lesson 08) rather than with the engine, so ``matmul_in_float32`` left ``dtypes.py``
(the API went from 1,408 to 1,398 lines) for ``float16_matmul.py``, a group of its own: 38 lines then;
FLOAT16_MATMUL_BUDGET = 40. ``MatMul.backward`` gained 4 lines (the weight gradient of a batch times one matrix as
one float16 product on a GPU): the engine holds 852.

A sweep of PyTorch scripts and a differential fuzz against PyTorch added to the API what it lacked or had wrong:
``memory_format=`` on ``clone``, ``contiguous`` and ``to`` (PyTorch's optimizers write ``zeros_like(p,
memory_format=torch.preserve_format)``), ``masked_fill`` keeping the tensor's dtype, ``clamp`` of an integer tensor
by a float bound promoting to float32, and the two calls into ``indexing.py`` below. The API went from 1,410 to
1,420 lines; API_BUDGET = 1430. (The engine went from 875 to 870: ``set_materialize_grads`` and ``mark_dirty``
moved to ``autograd/function_ctx.py``, ``FunctionCtx``, where PyTorch has them.)

A second sweep of PyTorch scripts (session 31) found ``torch.tensor(losses)`` refused for a list of losses (numpy
may not read a tensor that requires grad; PyTorch reads their values and warns: ``_values_of``), ``nelement``, and
a bare AttributeError for every name the library lacks; ``Tensor.__getattr__`` now raises the error of
``coverage.py``, which says what the library has instead. The API went from 1,430 to 1,446 lines; API_BUDGET = 1450.
A reverse sweep (code that ran here and fails on PyTorch) then made the API refuse what PyTorch refuses: a list as
an operand (``x == [1, 2]`` is False in PyTorch), ``-`` on a bool tensor (``1 - mask``), a number in ``maximum``, an
int mask, a size below -1 in ``reshape``; and ``tensor()`` read a tensor in a list as PyTorch does, one number
(``_elements``, which now also collects the tensors, so a list is walked once). A review of both sweeps added the
in-place forms of those refusals (``x -= mask``, ``x += [1, 2]``), ``x == [1, 2]`` answered False as in PyTorch
(``NotImplemented``), a uint8 ``where`` condition warned as PyTorch warns, and private names failing at once in
``__getattr__``. The API went to 1,479 lines; API_BUDGET = 1480.

A differential fuzz against PyTorch found ``x[0, :, [2, 0]]`` transposed: numpy counts an integer beside index
arrays as one more advanced index, PyTorch applies it first (as ``select``), so the two place the arrays' dims
differently. Where an advanced index puts its dims is a rule of its own, read after the Tensor API: ``indexing.py``
(which order to permute numpy's result into, and a written value into numpy's order); ``__getitem__`` and
``__setitem__`` call it. It held 33 lines then; a review's edges (tuples, ranges and bools in an index, an
Ellipsis that stands for no dims, a GPU mask, a value with extra leading ones) took it to 42: INDEXING_BUDGET = 45.

Session 38's attack on lesson 04 wrote Adam as PyTorch's own source does, ``m.lerp_(g, 1 - beta1)``, and the
library had no ``lerp``: ``lerp`` and ``lerp_`` (with PyTorch's second form for a weight of 0.5 or more, which
gives ``end`` itself at a weight of 1) took the API to 1,487 lines; API_BUDGET = 1490.

Session 39 ran plain PyTorch scripts with the import swapped. ``@no_grad()`` on a generator function (a
``predict`` that yields) switched tracking off only while the generator was made, not while it ran: the decorators
now run a generator in their mode each time it resumes, as PyTorch's do (``_decorate`` in grad_mode.py, with
``close`` and ``throw``), ``inference_mode(False)`` leaves tracking as it is, and a dtype says ``is_signed`` and
``is_complex``. The API went to 1,526 lines; API_BUDGET = 1535. A second round of scripts found what PyTorch
raises a RuntimeError for and we raised another type for, or numpy's words: ``tensor(None)`` (and a dict, a set, a
generator: no dtype for it), a value of the wrong shape assigned with ``x[i] = v``, an integer to a negative integer
power; and float16's ``var`` and ``std`` add up in float32, as PyTorch's do (a float16 sum of squares
overflows). The API went to 1,550. A fourth round: ``x.type()`` names the device ("...cuda.FloatTensor") and
``x.type("torch.cuda.FloatTensor")`` moves x there, ``retains_grad``, ``float(x)`` of several numbers a ValueError:
1,556 lines. A fifth, GPU scripts on the stand-in: ``x.cuda(index or device, non_blocking=...)``, a device
given as a GPU's index (``x.to(1)``, ``device(1)``: ``cuda_device`` in device.py), 1,565; API_BUDGET = 1570.
A seventh, float16 against PyTorch's CPU kernels, which compute in float32 and round once: ``Mean``'s backward
divided by N in float16 (N past 65,504 is inf: every gradient 0), ``Softmax`` summed its exps in float16 (over a dim
of 70,000: zeros) and ``CumSum``'s backward added up in float16 (3,000 ones gave 2,048). The engine went from 875
to 878 lines; ENGINE_BUDGET = 885.

Session 40's round of scripts in the style of from-scratch courses (a character-level model, a linear regression
with a hand-written step, a Learner with callbacks) found ``3 in x`` of a 2-D tensor raising Python's "ambiguous"
error (``__contains__``: whether any number equals it, as PyTorch) and ``view``'s size errors named ``reshape``.
The API went to 1,575 lines; API_BUDGET = 1580. A model on cuda:1 got its embedding's gradient on cuda:0 (the
zeros an index's backward starts from were made on the current GPU), and every optimizer step then failed: ops now
run as PyTorch's do, under a device guard (the inputs' GPU current in ``Function.apply``, the graph's for the whole
backward pass in ``run_backward``). The engine went from 878 to 889 lines; ENGINE_BUDGET = 895. A third round, a
model trained on cuda:1 of two stand-in GPUs, found ``where(cond, 1.0, 0.0)`` with a GPU condition failing (the two
numbers made on the CPU; and ``where(c, 1, 0.5)`` was int64 [1, 0], now float32 as PyTorch's), and tensors of
cuda:0 and cuda:1 mixed in one call giving CuPy's words: ``check_same_device`` takes the op's other GPU arrays (a
condition, an index) and ``same_device`` tells cuda:0 from cuda:1; ``x.grad = g`` of another device is refused, as
PyTorch refuses it; ``backward(inputs=...)`` fills only those tensors' ``.grad``. The API went to 1,591 lines.
A sweep of PyTorch's keyword names found covered calls that refused them: ``x.reshape(shape=...)``,
``x.view(size=...)``, ``x.permute(dims=...)``, ``x.expand(size=...)``, ``x.new_zeros(size=...)``, ``torch.max(x,
other=y)``, ``torch.matmul(input=..., other=...)`` (``sizes_or_keyword`` in shapes.py), and ``axis=`` on ``gather``,
``size`` and ``unsqueeze_``: 1,601 lines; API_BUDGET = 1610.

Session 41 ran learners' mistakes and training loops in both libraries. What PyTorch does and we did not: ``x ==
None`` is False and ``x != "cpu"`` True (a tensor equals no other kind of object; ``x.eq(None)`` still raises, so
the six comparison methods are written out), the number-first order of optimizers written before PyTorch 1.5
(``p.data.add_(-lr, d_p)``, ``v.addcmul_(1 - beta2, g, g)``, with PyTorch's warning), ``x.T`` of a tensor that is
not 2-D warns and ``x.mT`` transposes a batch of matrices, ``float(loss)`` of a tensor in the graph and ``std`` of
one sample warn as PyTorch's do, ``is_inference_mode_enabled``, a permute of the wrong length and strings in
``tensor()`` say so. numpy's words for a bad index, and where nested lists are ragged, went to messages.py (error
text only, outside the engine's reading). The API went to 1,681 lines. Printing and autograd rounds: ``2 *
x.shape`` is a Size and ``Size(np.array([2, 3]))`` holds ints, ``+x`` is x: 1,691 lines; API_BUDGET = 1700. A
custom Function's ``save_for_backward(a, 3)`` raises PyTorch's TypeError, and an old-style Function called as an
instance says to use ``apply``: the engine went from 889 to 897 lines; ENGINE_BUDGET = 900. An in-place change
through a view made by indexing (``y[:, 0] += v``, ``y[0][1] = v``, ``buf[i] += w`` into a buffer out of the graph)
is now recorded on the tensor it views, as PyTorch's CopySlices records it, where it had raised: ``_slice_index``
and a branch of ``record_inplace`` took ``inplace.py`` from 72 to 84 lines; INPLACE_BUDGET = 90 (and the Tensor API,
which keeps a slice's index for a view made out of the graph, to 1,694).

Session 42 gave ``nn.functional`` the rest of PyTorch's activations (elu, selu, celu, mish, hardswish ...). They
are composed of the engine's ops, outside both budgets (nn/functional/activation.py), but elu, selu and celu need
e^x - 1 accurate near 0, which ``exp() - 1`` is not in float32 (at x = -1e-4 it loses 4 of its 7 digits): ``Expm1``
(ops/elementwise.py, 7 lines) and ``Tensor.expm1`` took the engine to 904 lines, ENGINE_BUDGET = 910, and the API
to 1,696. Optimizers got PyTorch's hooks (``register_step_pre_hook`` ...); the function that registers a hook and
returns its handle, which ``nn/modules/module.py`` had for its own, moved to ``autograd/hooks.py`` beside the handle
so that both use it: HOOKS went from 152 to 161 lines; HOOKS_BUDGET = 170.

Session 45 added ``torch.erf``, ``erfc`` and ``erfinv`` (exact GELU written by hand, ``Normal.cdf``/``icdf``,
``special.ndtri``). numpy has none of them, so they cannot be composed: ``ops/special.py`` holds ``Erf`` and
``Erfinv`` (19 lines, each forward beside its elementary derivative), and their numbers, which have nothing to do
with autograd (Python's ``math.erf``, Newton's method for the inverse), sit outside the engine in
``special_numbers.py``; GELU's copy of erf went there too. It also added the inverse trigonometric and
hyperbolic functions (trigonometry.py, composed), of which two cannot be composed of the others: ``Asin`` and
``Atan2`` (ops/elementwise.py, 15 lines beside ``Sin`` and ``Cos``; atan is atan2(x, 1), acos 2 atan2(sqrt(1 - x),
sqrt(1 + x))). The engine went from 904 to 934 lines; ENGINE_BUDGET = 940.

Session 46 added gradients of gradients (``create_graph=True``). The ops' Tensor formulas live outside the engine
(``autograd/higher_order.py``, beside nothing else: the engine's ops keep their array backward), but
``run_backward`` carries Tensors instead of arrays when asked: three branches (an op's gradients, adding into
``.grad``, the roots' gradients) and their docstring lines. The engine went from 937 to 946 lines;
ENGINE_BUDGET = 950. ``Index`` then took a 0-d view for one number picked by integers (numpy copies it out;
PyTorch's ``a[0]`` is a view, so ``a[0].fill_(9)`` changes a): 948 lines.

Session 47 made a view used after its base changed in place take its place in the base's new graph, as PyTorch's
does (``e = x[1]; x.mul_(2)``: e's gradient had gone through x as it was, silently missing the change). It is done
lazily, when the view is next used (``inplace.fresh``, called from ``Function.apply`` on an input that is a view,
from ``records_inplace`` and from ``requires_grad``), by running the op that made the view again on the base
(``_view_again``): a fourth section of ``inplace.py``. A view made under ``no_grad`` and then changed in place
with grad mode on is refused, as PyTorch refuses it (it had been written without being recorded, a leaf's numbers
too). A change through a reshape or a transpose of a tensor in the graph, which had raised, is recorded as the
base's ``copy_`` of the view shaped back (``_into_base``, which took over ``_slice_index``). And ``input_as_used``
lists a tensor's earlier states once and bisects, instead of walking them for every op (a loop of T writes had
made backward quadratic in T). A view made before its base changed shape in place (``x.t_()``) is refused in the
graph rather than made again on the wrong numbers (``_check_layout``), and a view that changes its own shape in
place (``v.t_()``) becomes that view of itself made again on its base (``reshaped_in_place``; the views made of it
before view what it was). ``inplace.py`` went from 84 to 175 lines; INPLACE_BUDGET = 180. The engine did not
grow (``track_view`` takes the op instead of its inputs); the API went from 1,699 to 1,691 lines (the slice index
that ``__getitem__`` kept for a view out of the graph is the op's own, which the view now notes, and
``unsqueeze_`` joined the other in-place view methods, ``t_``, ``squeeze_`` ..., in ``inplace_methods.py``).

The old single budget (900 lines for tensor.py, function.py and the ops, without the helpers) was full; the
engine has since gained the version counters, the op contract and the ops of PyTorch's idioms, and the API its
argument checks and idioms, which is why the two numbers are larger than that one. They are a few hundred lines
each, as much as a reader can hold at once. Readability comes first: never shorten code by making it cryptic to
fit a budget (no packed one-liners, no clever tricks); move a self-contained concept to a file of its own (add it
to its group here and to the README's reading order), or raise the budget in a reviewed change that says why.

Session 49 added the gamma function's family (``lgamma``, ``digamma``, ``polygamma``: the log-densities of the
Gamma, Beta, Dirichlet and Poisson distributions), which numpy lacks too: ``Lgamma``, ``Polygamma`` and
``Digamma`` beside ``Erf`` in ``ops/special.py``, their numbers in ``gamma_numbers.py``. Those ops are not the
engine's machinery: each is a forward that calls a numerical routine and a one-line derivative, and a reader of
the engine needs none of them to follow how a gradient flows. So ``ops/special.py`` left the engine for a group of
its own, SPECIAL (36 lines then; SPECIAL_BUDGET = 60), in the README's reading order with the other ops read
"when you need them"; the engine went from 949 to 930 lines.

Session 50 added the factorisations LAPACK computes (``eigh``, ``svd``, ``qr``) and the pseudo-inverse, as ops in
``ops/factorisations.py``: numpy's (CuPy's) numbers, and gradients of a dozen lines each, the longest formulas in
the library. Like the special functions they are not the engine's machinery, and a learner reads them when a
script needs them, so they are a group of their own too, FACTORISATIONS (110 lines then; budget 125).
"""
import ast
import inspect
import io
import tokenize
from pathlib import Path

import tinygrad_lite.ops
from tinygrad_lite.autograd.function import Function

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_lite"
FUSED = [PACKAGE / "ops" / "batch_norm.py", PACKAGE / "ops" / "layer_norm.py", PACKAGE / "ops" / "cross_entropy.py",
         PACKAGE / "ops" / "mse_loss.py"]
SPECIAL = [PACKAGE / "ops" / "special.py"]
FACTORISATIONS = [PACKAGE / "ops" / "factorisations.py"]
ENGINE = [PACKAGE / "autograd" / "function.py", PACKAGE / "autograd" / "engine.py",
          *(path for path in sorted((PACKAGE / "ops").glob("*.py")) if path not in FUSED + SPECIAL + FACTORISATIONS)]
TENSOR_API = [PACKAGE / "tensor.py", PACKAGE / "dtypes.py", PACKAGE / "device.py",
              PACKAGE / "autograd" / "grad_mode.py", PACKAGE / "shapes.py"]
INPLACE = [PACKAGE / "autograd" / "inplace.py"]
HOOKS = [PACKAGE / "autograd" / "hooks.py", PACKAGE / "utils" / "hooks.py"]
FLOAT16_MATMUL = [PACKAGE / "float16_matmul.py"]
INDEXING = [PACKAGE / "indexing.py"]
ENGINE_BUDGET = 950
API_BUDGET = 1700
INPLACE_BUDGET = 180
HOOKS_BUDGET = 170
FUSED_BUDGET = 105
FLOAT16_MATMUL_BUDGET = 40
INDEXING_BUDGET = 45
SPECIAL_BUDGET = 60
FACTORISATIONS_BUDGET = 125


def lines_of_code(path):
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    code = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def test_counter_ignores_docstrings_comments_and_blank_lines(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""Module doc."""\n\n# a comment\ndef f(x):\n    """Doc\n    on two lines."""\n'
                      '    return (x +\n            1)  # trailing comment\n')
    assert lines_of_code(sample) == 3


def sizes(paths):
    return {path.relative_to(PACKAGE).as_posix(): lines_of_code(path) for path in paths}


def test_engine_is_short_enough_to_read_in_one_sitting():
    counts = sizes(ENGINE)
    total = sum(counts.values())
    assert total <= ENGINE_BUDGET, f"the engine has {total} lines of code (budget {ENGINE_BUDGET}): {counts}"


def test_tensor_api_is_short_enough_to_read_in_one_sitting():
    counts = sizes(TENSOR_API)
    total = sum(counts.values())
    assert total <= API_BUDGET, f"the Tensor API has {total} lines of code (budget {API_BUDGET}): {counts}"


def test_the_in_place_machinery_is_short_enough_to_read_in_one_sitting():
    counts = sizes(INPLACE)
    total = sum(counts.values())
    assert total <= INPLACE_BUDGET, f"the in-place machinery has {total} lines of code (budget {INPLACE_BUDGET})"


def test_hooks_are_short_enough_to_read_in_one_sitting():
    counts = sizes(HOOKS)
    total = sum(counts.values())
    assert total <= HOOKS_BUDGET, f"the hooks have {total} lines of code (budget {HOOKS_BUDGET}): {counts}"


def test_the_fused_ops_are_short_enough_to_read_in_one_sitting():
    counts = sizes(FUSED)
    total = sum(counts.values())
    assert all(path.exists() for path in FUSED)
    assert total <= FUSED_BUDGET, f"the fused ops have {total} lines of code (budget {FUSED_BUDGET}): {counts}"


def test_the_float16_matrix_product_is_short_enough_to_read_in_one_sitting():
    total = sum(sizes(FLOAT16_MATMUL).values())
    assert total <= FLOAT16_MATMUL_BUDGET, \
        f"float16_matmul.py has {total} lines of code (budget {FLOAT16_MATMUL_BUDGET})"


def test_the_special_functions_are_short_enough_to_read_in_one_sitting():
    total = sum(sizes(SPECIAL).values())
    assert total <= SPECIAL_BUDGET, f"ops/special.py has {total} lines of code (budget {SPECIAL_BUDGET})"


def test_the_factorisations_are_short_enough_to_read_in_one_sitting():
    total = sum(sizes(FACTORISATIONS).values())
    assert total <= FACTORISATIONS_BUDGET, \
        f"ops/factorisations.py has {total} lines of code (budget {FACTORISATIONS_BUDGET})"


def test_the_readme_reading_order_names_files_that_exist():
    readme = (PACKAGE.parent / "README.md").read_text()
    section = readme.split("## Reading the engine", 1)[1].split("\n## ", 1)[0]
    for path in ENGINE + INPLACE + TENSOR_API + INDEXING + HOOKS + FUSED + FLOAT16_MATMUL + SPECIAL + FACTORISATIONS:
        if path.name != "__init__.py":
            assert path.name in section, f"the README's reading order does not mention {path.name}"
    assert "kernels/" in section, "the README's reading order does not mention the GPU's fused kernels"
    for name in ("function.py", "engine.py", "tensor.py"):
        assert section.index(name) >= 0
    assert section.index("function.py") < section.index("ops/") < section.index("engine.py") < \
        section.index("inplace.py") < section.index("tensor.py"), \
        "the reading order is function -> ops -> engine -> in-place -> tensor API"
    assert section.index("tensor.py") < section.index("utils/hooks.py"), "hooks come after the Tensor API"
    assert section.index("tensor.py") < section.index("batch_norm.py"), "the fused ops come after the Tensor API"


def all_ops():
    """Every Function subclass defined in tinygrad_lite/ops/ (the modules the ops package lists)."""
    found = []
    for path in sorted((PACKAGE / "ops").glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = __import__(f"tinygrad_lite.ops.{path.stem}", fromlist=["_"])
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, Function) and cls is not Function and cls.__module__ == module.__name__]
    return found


def test_every_op_states_its_derivative_in_its_docstring():
    ops = all_ops()
    assert len(ops) > 30 and tinygrad_lite.ops.__doc__
    missing = [cls.__name__ for cls in ops
               if not cls.__doc__ or not any(mark in cls.__doc__ for mark in ("/d", "gradient", "Backward:"))]
    assert not missing, f"these ops do not state their derivative (dz/dx = ..., or where the gradient goes): {missing}"


def test_indexing_is_short_enough_to_read_in_one_sitting():
    counts = sizes(INDEXING)
    total = sum(counts.values())
    assert total <= INDEXING_BUDGET, f"indexing.py has {total} lines of code (budget {INDEXING_BUDGET}): {counts}"
