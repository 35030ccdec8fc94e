"""The differentiable ops. Each is a ``Function`` whose ``forward`` and ``backward`` sit side by side.

- ``elementwise``: arithmetic and math functions applied element by element (+, *, exp, log, where, ...)
- ``activation``: relu, sigmoid, tanh, gelu, leaky_relu, softmax, log_softmax
- ``reduce``: sum, mean, max, prod
- ``movement``: reshape, permute, expand, indexing, setitem, cat (they move numbers, never compute new ones)
- ``matmul``: the matrix product
- ``rounding``: floor, ceil, round, trunc, sign (gradient 0), and //, %, fmod
- ``scan``: cumsum, cumprod (running sums and products)
- ``gather``: gather (what sort, topk pick) and bincount (a scatter-add): each other's backward
- ``norm``: the vector p-norm (norm, linalg.vector_norm, F.normalize)
- ``special``: erf and its inverse, which numpy lacks (exact GELU, Normal.cdf)

Fused ops, a layer's whole formula as one op with its closed-form backward (read after ``nn/``; not needed to
follow the engine):

- ``batch_norm``, ``layer_norm``: normalisation (F.batch_norm, F.layer_norm)
- ``cross_entropy``: log-softmax and the negative log-likelihood, with every option of cross_entropy and nll_loss
- ``mse_loss``: the mean squared error, reduced by 'mean' or 'sum'

Broadcasting is the engine's job, not the ops': a backward may return a gradient of the broadcast shape,
and ``autograd/engine.py``'s ``unbroadcast`` sums it down to the input's shape.
"""
