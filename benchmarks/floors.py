"""How fast could a numpy implementation be at all? Lower bounds for two of bench.py's workloads, measured.

    python benchmarks/floors.py              # one BLAS thread, as bench.py's "1 thread" table (about 5 s)
    python benchmarks/floors.py --quick      # fewer repeats (a smoke test)

Issue 35 asks for ``mlp_sgd`` at 0.85x PyTorch and ``adam_1m`` at 0.5x PyTorch. This script measures what no
numpy program can go below on this machine, whatever its design, and compares it with those targets:

- ``mlp_sgd``: the step's five matrix products alone (x W1^T and h W2^T forward; G2 W2, G2^T h and G1^T x
  backward), with the same shapes and the same BLAS, nothing else: no activation, no loss, no update. numpy,
  tinygrad_lite and PyTorch (whose CPU build ships its own BLAS) are timed in the same interleaved rounds.
- ``adam_1m``: the cost of one numpy pass over a million numbers (one ufunc, a block of 65,536 at a time, each block
  already in the cache, as ``optim/adam.py`` arranges for all passes but a block's first) for each kind of pass
  Adam needs: scaling in place, a multiply, an add, a divide, a square root. PyTorch's Adam makes 7 passes (lerp,
  mul, addcmul, sqrt, div, add, addcdiv), each one fused kernel; numpy has no lerp, addcmul or addcdiv, so its
  update needs 12 (``Adam._update_block``). The floors: 7 passes, and 12, each but the square root at the speed of
  the cheapest pass; and the 12 again with the 4 that must combine two arrays (m with g, v with g^2, m with the
  denominator, the parameter with its step) at the speed of such a pass. Each against PyTorch's whole step, whose
  time moves from run to run (1.47 to 1.99 ms here): run it twice.

Timing is bench.py's (``time_steps``): interleaved rounds, the median call. Each thread variable is set to 1 before
numpy is imported.
"""
import argparse
import os
import sys
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402  (after the thread variables)

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench  # noqa: E402

BLOCK = 65_536


def mlp_floor(torch, tinygrad_lite, rounds):
    sizes, batch = (784, 256, 10), 128
    weights = bench.mlp_weights(sizes)
    w1, w2 = weights["0.weight"], weights["2.weight"]
    x, _ = bench.mlp_data(sizes, batch, "cross_entropy")
    rs = np.random.default_rng(2)
    h = np.maximum(rs.standard_normal((batch, sizes[1])), 0).astype(np.float32)
    g2 = rs.standard_normal((batch, sizes[2])).astype(np.float32)
    g1 = rs.standard_normal((batch, sizes[1])).astype(np.float32)

    def products():
        return x @ w1.T, h @ w2.T, g2 @ w2, g2.T @ h, g1.T @ x

    step_args = (sizes, batch, "relu", "cross_entropy", "sgd", 0.01)
    return bench.time_steps({"PyTorch's step": bench.library_mlp(torch, *step_args),
                             "tinygrad_lite's step": bench.library_mlp(tinygrad_lite, *step_args),
                             "numpy by hand, the step": bench.numpy_mlp(*step_args),
                             "the five products alone": products}, n_steps=20 * rounds, rounds=rounds)


def adam_floor(torch, rounds):
    """PyTorch's Adam step over bench.py's million parameters, and numpy's time for one pass over a million numbers
    of each kind Adam needs. The pass runs on one block of 65,536 numbers, again for every block of the million:
    from the cache, as each pass after a block's first does in ``Adam._update_arrays``. Going to memory for the first
    pass only adds time, so this is a floor."""
    rs = np.random.default_rng(0)
    a, b = (rs.random(BLOCK, dtype=np.float32) + 0.5 for _ in range(2))
    out = np.empty(BLOCK, np.float32)
    blocks = range(sum(bench.ADAM_SIZES) // BLOCK + 1)

    def one_pass(ufunc, *operands):
        def run():
            for _ in blocks:
                ufunc(*operands, out=out)
        return run

    params = [torch.tensor(p) for p in (rs.standard_normal(size).astype(np.float32) for size in bench.ADAM_SIZES)]
    for p in params:
        p.grad = torch.randn_like(p)
    optimizer = torch.optim.Adam(params)
    return bench.time_steps({"PyTorch's Adam step": optimizer.step, "scale in place": one_pass(np.multiply, out, 1.0),
                             "multiply": one_pass(np.multiply, a, b), "add": one_pass(np.add, a, b),
                             "divide": one_pass(np.divide, a, b), "square root": one_pass(np.sqrt, a)},
                            n_steps=5 * rounds, rounds=rounds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 21 (a smoke test)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 21
    import torch

    import tinygrad_lite
    torch.set_num_threads(1)

    mlp = mlp_floor(torch, tinygrad_lite, rounds)
    reference = mlp["PyTorch's step"]
    print("mlp_sgd (784-256-10, batch 128), 1 thread:")
    for name, seconds in mlp.items():
        print(f"  {name:<26} {seconds * 1e3:7.3f} ms   {seconds / reference:5.2f}x PyTorch")
    print(f"  target 0.85x PyTorch = {0.85 * reference * 1e3:.3f} ms: the products alone take "
          f"{mlp['the five products alone'] / reference:.2f}x, numpy by hand "
          f"{mlp['numpy by hand, the step'] / reference:.2f}x")

    adam = adam_floor(torch, rounds)
    reference = adam["PyTorch's Adam step"]
    cheapest = min(adam[name] for name in ("scale in place", "multiply", "add", "divide"))
    seven = 6 * cheapest + adam["square root"]    # PyTorch's 7 passes, all but the square root at the cheapest
    twelve = 11 * cheapest + adam["square root"]  # numpy's 12 (Adam._update_block), the same way
    # four of the 12 must combine two arrays (m with g, v with g^2, m with the denominator, the parameter with the
    # step), at the speed of the cheapest such pass; the other 7 at the cheapest of all; and the square root
    combining = min(adam[name] for name in ("multiply", "add", "divide"))
    needed = 4 * combining + 7 * cheapest + adam["square root"]
    print(f"\nadam_1m ({sum(bench.ADAM_SIZES):,} float32 parameters), 1 thread; one numpy pass over them, "
          "from the cache:")
    for name in ("scale in place", "multiply", "add", "divide", "square root"):
        print(f"  {name:<26} {adam[name] * 1e6:7.0f} us")
    print(f"  PyTorch's Adam step        {reference * 1e6:7.0f} us")
    print(f"  floor, PyTorch's 7 passes  {seven * 1e6:7.0f} us   {seven / reference:5.2f}x PyTorch")
    print(f"  floor, numpy's 12 passes   {twelve * 1e6:7.0f} us   {twelve / reference:5.2f}x PyTorch")
    print(f"  floor, 12, 4 on two arrays {needed * 1e6:7.0f} us   {needed / reference:5.2f}x PyTorch")
    print(f"  target 0.5x PyTorch = {0.5 * reference * 1e6:.0f} us")


if __name__ == "__main__":
    main()
