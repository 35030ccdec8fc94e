"""The differentiable ops. Each is a ``Function`` whose ``forward`` and ``backward`` sit side by side.

- ``elementwise``: arithmetic and math functions applied element by element (+, *, exp, log, where, ...)
- ``activation``: relu, sigmoid, tanh, gelu, leaky_relu, softmax, log_softmax
- ``reduce``: sum, mean, max
- ``movement``: reshape, permute, expand, indexing, cat (they move numbers, never change them)
- ``matmul``: the matrix product

Broadcasting is the engine's job, not the ops': a backward may return a gradient of the broadcast shape,
and ``tensor.unbroadcast`` sums it down to the input's shape.
"""
