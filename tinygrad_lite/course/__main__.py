"""``python -m tinygrad_lite.course``: the ``tinygrad-lite`` command (the console script's entry point is
``tinygrad_lite_cli.main``, which also turns Ctrl-C during the library's own import into exit status 130)."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:
    print("interrupted (Ctrl-C)", file=sys.stderr, flush=True)
    sys.exit(130)

sys.exit(main())
