"""Beginner PyTorch scripts that use the idioms, run unchanged on both libraries.

Each script below is written the way PyTorch's beginner tutorials write code (our own scripts, in their style):
``import torch`` at the top, then plain PyTorch. The test runs each one twice: as it is, and with its imports
swapped to tinygrad_lite (``import torch`` -> ``import tinygrad_lite as torch``, ``from torch.x import y`` ->
``from tinygrad_lite.x import y``), which is the only change a learner makes. What the two runs print must agree:
the same words, and the same numbers to float32 precision.

The scripts draw no random numbers (the two libraries' generators differ): their data and starting weights come
from formulas such as ``torch.sin(torch.arange(...))``.
"""
import contextlib
import io
import re

import numpy as np
import pytest

import tinygrad_lite as tl

torch = pytest.importorskip("torch")

POLYNOMIAL_FIT_WITH_MM = '''
import math
import torch

# Fit y = sin(x) with a cubic, written as a matrix product: y_pred = X @ w, X = [1, x, x^2, x^3]
x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x).unsqueeze(1)
X = torch.stack([torch.ones_like(x), x, x ** 2, x ** 3], dim=1)
w = torch.zeros(4, 1, requires_grad=True)

learning_rate = 1e-5
for t in range(1500):
    y_pred = X.mm(w)
    loss = (y_pred - y).pow(2).sum()
    if t % 300 == 299:
        print(t, f"{loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        w -= learning_rate * w.grad
        w.grad.zero_()

a, b, c, d = w.squeeze().tolist()
print(f"Result: y = {a:.4f} + {b:.4f} x + {c:.5f} x^2 + {d:.5f} x^3")
print("residual norm", f"{torch.norm(X.mm(w) - y).item():.4f}")
'''

LEGACY_VARIABLE_NETWORK = '''
import torch
from torch.autograd import Variable

# A two-layer network in the style of pre-0.4 PyTorch: typed tensors, Variables and .data updates.
dtype = torch.FloatTensor
N, D_in, H, D_out = 16, 5, 8, 2

x = Variable(torch.sin(torch.arange(N * D_in).view(N, D_in) * 0.37).type(dtype), requires_grad=False)
y = Variable(torch.cos(torch.arange(N * D_out).view(N, D_out) * 0.21).type(dtype), requires_grad=False)
w1 = Variable(torch.FloatTensor(D_in, H), requires_grad=True)
w2 = Variable(torch.FloatTensor(H, D_out), requires_grad=True)
w1.data = torch.cos(torch.arange(D_in * H).view(D_in, H) * 0.5).type(dtype) * 0.3
w2.data = torch.sin(torch.arange(H * D_out).view(H, D_out) * 0.7).type(dtype) * 0.3

learning_rate = 1e-2
for t in range(200):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 50 == 0:
        print(t, f"{loss.data.item():.5f}")
    loss.backward()
    w1.data -= learning_rate * w1.grad.data
    w2.data -= learning_rate * w2.grad.data
    w1.grad.data.zero_()
    w2.grad.data.zero_()

labels = torch.LongTensor([0, 1, 1, 0])
print("labels", labels.tolist(), labels.type(), isinstance(w1, torch.FloatTensor))
print("final", f"{loss.item():.5f}", list(w1.size()), w2.type())
'''

BINARY_CLASSIFIER_WITH_ROUND = '''
import torch
import torch.nn as nn

# Logistic regression on two interleaved clouds; binary accuracy with torch.round
device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
torch.set_default_device(device)
print("device", torch.get_default_device())

n = 64
angle = torch.arange(n) * 0.9
X = torch.stack([torch.cos(angle), torch.sin(angle * 1.3)], dim=1) + (torch.arange(n) % 2).unsqueeze(1) * 0.8
y = (torch.arange(n) % 2).float().unsqueeze(1)

model = nn.Sequential(nn.Linear(2, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.1, -0.2]]))
    model[0].bias.fill_(0.0)
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, foreach=False)

for epoch in range(60):
    optimizer.zero_grad()
    logits = model(X)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    if epoch % 15 == 14:
        predicted = torch.round(torch.sigmoid(logits))
        accuracy = (predicted == y).sum().item() / y.size(0)
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, accuracy {accuracy:.3f}")

with torch.no_grad():
    probabilities = torch.sigmoid(model(X))
    print("rounded to 2 decimals", torch.round(probabilities[:4, 0], decimals=2).tolist())
    print("mistakes", torch.where(probabilities.round() != y)[0].tolist())
torch.set_default_device("cpu")
'''

MANUAL_NORM_CLIPPING = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

# Gradient clipping written out by hand, checked against clip_grad_norm_
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel()).float() + k).view(p.shape))

x = torch.cos(torch.arange(30).float()).view(10, 3) * 3
target = torch.arange(10).float().unsqueeze(1)
loss = F.mse_loss(model(x), target)
loss.backward()

max_norm = 1.0
grads = [p.grad for p in model.parameters()]
total_norm = torch.norm(torch.stack([torch.norm(g.detach(), 2.0) for g in grads]), 2.0)
clip_coef = max_norm / (total_norm + 1e-6)
print("total norm", f"{total_norm.item():.5f}", "clip coefficient", f"{clip_coef.item():.5f}")
clipped = [g * torch.clamp(clip_coef, max=1.0) for g in grads]
print("clipped norm", f"{torch.linalg.vector_norm(torch.cat([c.flatten() for c in clipped])).item():.5f}")

returned = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
print("clip_grad_norm_ agrees", f"{returned.item():.5f}",
      all(torch.allclose(c, p.grad, atol=1e-6) for c, p in zip(clipped, model.parameters())))
print("per-row norms", [f"{v:.4f}" for v in model[0].weight.grad.norm(dim=1).tolist()])
print("inf norm", f"{model[0].weight.grad.norm(p=float('inf')).item():.5f}",
      "l1 norm", f"{model[0].weight.grad.abs().sum().item():.5f}")
unit = F.normalize(model[0].weight.detach(), dim=1)
print("normalized rows", [f"{v:.4f}" for v in unit.norm(dim=1).tolist()])
zero = torch.zeros(3, requires_grad=True)
zero.norm().backward()
print("gradient of the norm at zero", zero.grad.tolist())
'''

TOPK_ACCURACY = '''
import torch


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


scores = torch.sin(torch.arange(12 * 10).float() * 0.77).view(12, 10)
target = torch.LongTensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8])
top1, top5 = accuracy(scores, target, topk=(1, 5))
print(f"top-1 {top1.item():.2f}%  top-5 {top5.item():.2f}%")
values, indices = torch.topk(scores[0], 3)
print("best three of row 0", [f"{v:.4f}" for v in values.tolist()], indices.tolist())
print("predicted classes", scores.argmax(dim=1).tolist())
print("class counts", torch.bincount(scores.argmax(dim=1), minlength=10).tolist())
probs = torch.softmax(scores, dim=1)
print("mean confidence", f"{probs.max(dim=1).values.mean().item():.5f}")
'''

SORT_AND_CUMSUM = '''
import torch

# Ranking metrics with sort and cumsum: precision at k and a ROC-style curve
scores = torch.cos(torch.arange(20).float() * 2.3)
labels = (torch.arange(20) % 3 == 0).long()
sorted_scores, order = torch.sort(scores, descending=True)
ranked = labels[order]
hits = torch.cumsum(ranked, dim=0)
precision_at_k = hits.float() / torch.arange(1, 21).float()
print("top scores", [f"{s:.4f}" for s in sorted_scores[:5].tolist()])
print("ranking", order.tolist())
print("precision@5", f"{precision_at_k[4].item():.4f}", "precision@10", f"{precision_at_k[9].item():.4f}")
true_positive_rate = hits.float() / labels.sum()
false_positive_rate = torch.cumsum(1 - ranked, dim=0).float() / (1 - labels).sum()
fpr_steps = torch.cat([false_positive_rate[:1], false_positive_rate[1:] - false_positive_rate[:-1]])
auc = (fpr_steps * true_positive_rate).sum()
print("AUC", f"{auc.item():.4f}")

# batches of 6 with // and %
index = torch.arange(20)
print("batch", (index // 6).tolist())
print("position", (index % 6).tolist())
print("negative", (torch.tensor([-7, 7, -1]) // 2).tolist(), (torch.tensor([-7, 7, -1]) % 3).tolist())
ranks = torch.argsort(torch.argsort(scores, descending=True))
print("rank of each score", ranks.tolist())
print("products", torch.cumprod(torch.tensor([1.0, 2.0, 0.5, 4.0]), dim=0).tolist(),
      torch.tensor([2.0, 3.0, 4.0]).prod().item())
print("floors", torch.floor(scores[:4] * 10).tolist(), torch.ceil(scores[:4] * 10).tolist(),
      torch.sign(scores[:4]).tolist())
'''

GRAPH_AND_NEW_TENSORS = '''
import torch

# Looking at the graph autograd recorded, and making tensors like others
a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1.0, 1.0])
Q.backward(gradient=external_grad)
print("a.grad", a.grad.tolist(), "b.grad", b.grad.tolist())


def walk(fn, depth=0):
    if fn is None:
        return
    print("  " * depth + fn.name().rstrip("0123456789"))
    for next_fn, _ in fn.next_functions:
        walk(next_fn, depth + 1)


walk(Q.grad_fn)

x = torch.ones(2, 3, dtype=torch.float64)
print(x.new_zeros(2).dtype, x.new_ones((1, 2)).tolist(), x.new_full((2,), 7.0).tolist(), x.new_tensor([1, 2]).dtype)
print(torch.empty_like(x).shape, torch.zeros(3, out=torch.empty(0)).tolist())
out = torch.empty(2, 3)
torch.add(torch.ones(2, 3), torch.arange(3.0), out=out)
torch.mul(out, 2, out=out)
print("out", out.tolist(), torch.sum(out, dim=1, keepdims=True).tolist(), out.sum(axis=0).tolist())
print("clamped", torch.clamp(torch.arange(5.0), min=torch.tensor(1.0), max=torch.full((5,), 3.0)).tolist())
'''

LOSSES_AS_A_TENSOR = '''
import warnings
import torch
import torch.nn as nn

# Keep each batch's loss, then average them with torch.tensor(losses); count the parameters with nelement()
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.cos(torch.arange(p.numel()) * 0.7 + k).reshape(p.shape) * 0.5)
x = torch.sin(torch.arange(24.0)).reshape(8, 3)
y = torch.cos(torch.arange(8.0)).unsqueeze(1)
losses = []
for i in range(0, 8, 2):
    losses.append(nn.functional.mse_loss(model(x[i:i + 2]), y[i:i + 2]))
with warnings.catch_warnings():  # (both warn once per process: whether this call warns depends on what ran before)
    warnings.simplefilter("ignore")
    mean_loss = torch.tensor(losses).mean()
print(f"mean loss {mean_loss.item():.5f}, requires grad: {mean_loss.requires_grad}")
print("parameters:", sum(p.nelement() for p in model.parameters()))
a, b = x[:6].reshape(2, 3, 3), torch.cos(x[:6]).reshape(2, 3, 3)
print("bmm:", a.bmm(b).sum().item() == torch.bmm(a, b).sum().item())
print("cosine:", [round(v, 4) for v in torch.cosine_similarity(x[:3], x[3:6]).tolist()])
print("best so far:", torch.inf, "-inf:", -torch.inf, "pi:", round(torch.pi, 6))
if not torch.cuda.is_available():
    print("GPU memory in use:", torch.cuda.memory_allocated())   # 0 in both, without a GPU
'''


SCRIPTS = {
    "polynomial fit with mm": POLYNOMIAL_FIT_WITH_MM,
    "legacy Variable network": LEGACY_VARIABLE_NETWORK,
    "binary classifier with round": BINARY_CLASSIFIER_WITH_ROUND,
    "manual norm clipping": MANUAL_NORM_CLIPPING,
    "top-k accuracy": TOPK_ACCURACY,
    "sort and cumsum": SORT_AND_CUMSUM,
    "graph and new tensors": GRAPH_AND_NEW_TENSORS,
    "losses as a tensor": LOSSES_AS_A_TENSOR,
}


def swap_imports(source):
    """The one change a learner makes: import tinygrad_lite where the script imports torch."""
    lines = []
    for line in source.splitlines():
        if line.strip() == "import torch":
            line = line.replace("import torch", "import tinygrad_lite as torch")
        elif re.match(r"\s*(import|from) torch\b", line):
            line = re.sub(r"\btorch\b", "tinygrad_lite", line, count=1)
        lines.append(line)
    return "\n".join(lines)


def run(source):
    """What the script prints. Afterwards, no default device is left set, in PyTorch or here: a script that ends with
    ``torch.set_default_device("cpu")`` leaves PyTorch's device mode (a TorchFunctionMode) on for the rest of the
    process, under which PyTorch's own ``F.l1_loss(..., weight=w)`` drops its weight (a later test of the same
    worker, tests/test_losses.py, failed on it)."""
    buffer = io.StringIO()
    tl.warning_level._warned.clear()  # (a script starts as a process does: its once-per-process warnings not shown)
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, "<script>", "exec"), {"__name__": "__script__"})
    finally:
        torch.set_default_device(None)
        tl.set_default_device(None)
    return buffer.getvalue()


NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def assert_same_output(ours, theirs, rtol=2e-4, atol=2e-4):
    """Same lines and words; the numbers in them equal to float32 precision (a last printed digit may flip).
    Names print with the library's own module name: tinygrad_lite.float64 for torch.float64."""
    ours_lines, theirs_lines = ours.replace("tinygrad_lite.", "torch.").splitlines(), theirs.splitlines()
    assert len(ours_lines) == len(theirs_lines), f"{len(ours_lines)} lines printed vs PyTorch's {len(theirs_lines)}"
    for a, b in zip(ours_lines, theirs_lines):
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b), f"\nours:    {a}\nPyTorch: {b}"
        numbers_a, numbers_b = [float(n) for n in NUMBER.findall(a)], [float(n) for n in NUMBER.findall(b)]
        np.testing.assert_allclose(numbers_a, numbers_b, rtol=rtol, atol=atol, err_msg=f"\nours:    {a}\nPyTorch: {b}")


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_unchanged_and_prints_pytorchs_numbers(name):
    source = SCRIPTS[name]
    theirs = run(source)
    ours = run(swap_imports(source))
    assert theirs.strip(), "the script printed nothing"
    assert_same_output(ours, theirs)


def test_swap_imports_changes_only_the_imports():
    source = "import torch\nimport torch.nn as nn\nfrom torch.autograd import Variable\nx = torch.ones(2)  # torch"
    assert swap_imports(source) == ("import tinygrad_lite as torch\nimport tinygrad_lite.nn as nn\n"
                                    "from tinygrad_lite.autograd import Variable\nx = torch.ones(2)  # torch")
