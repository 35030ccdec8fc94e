#!/usr/bin/env bash
# Everything a lent GPU machine should check, in one call of at most 6 minutes (issue 44):
#
#   bash benchmarks/gpu_check.sh              # on a machine with an NVIDIA GPU, CuPy, PyTorch (CUDA), numpy, pytest
#   bash benchmarks/gpu_check.sh --dry-run    # the same steps on a CPU, small and into a scratch folder (the
#                                             # extended tests run this: tests/test_gpu_check.py)
#
#   1. tests/test_cuda.py: the device paths on the real GPU against the CPU (they skip in a dry run);
#   2. lessons 08, 09 and 10 run with nbclient on the GPU, the solved notebooks and the learners' ones: no error
#      output, and lesson 08 found the GPU (benchmarks/run_notebooks.py). The dry run runs the learners' ones on the
#      CPU, and a test run with it leaves them to it (nbval would run them the same way: conftest.py). They run before
#      the next steps write the new measurement: lesson 08 prints the stored one's figures and asserts what
#      its text says of them;
#   3. benchmarks/gpu_sweep.py: lesson 08's sweep, into benchmarks/gpu_results.json (dry run: --device cpu --quick);
#   4. benchmarks/capstone_gpu.py: the capstone's step against PyTorch CUDA at batch 64, 1024 and 8192, in float32 and
#      with float16 autocast, into benchmarks/gpu_results.json as "capstone_step" (dry run: batch 64 on the CPU);
#   5. benchmarks/capstone_parts.py: where that step's time goes, part by part against PyTorch, and a profile of the
#      host's work at batch 64 (into the log only; dry run: batch 64 on the CPU).
#
# A GPU machine may have no Jupyter and no network: put the wheels of nbclient, ipykernel and what they need (for
# that machine's Python; benchmarks/README.md says how to fetch them) in .whl/ at the repository's root, and this
# script installs them into a scratch folder first. GPU_MACHINE names the machine in the results (default "a lent
# cloud machine"). Where $OUT is set (the device tool's folder), the log and the results are copied there.
# Exit status: 0 when every step passed, else 1 (each step's line says which failed).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-XXXXXX")
LOG=$SCRATCH/gpu_check.log
exec > >(tee "$LOG") 2>&1
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

if [ $DRY = 0 ] && compgen -G ".whl/*.whl" >/dev/null; then  # (the wheels are for the GPU machine's Python)
    echo "== installing the carried wheels ($(ls .whl/*.whl | wc -l)) into $SCRATCH/site"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$SCRATCH/site" .whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:$SCRATCH/site"
fi
if [ $DRY = 1 ]; then
    RESULTS=$SCRATCH/gpu_results.json
    SWEEP=(--device cpu --quick --out "$RESULTS")
    CAPSTONE=(--device cpu --quick --out "$RESULTS")
    PARTS=(--device cpu --quick)
    GPU=(--jobs 2)  # (two kernels at once: the longest test of the suite, so its wall time counts)
    NOTEBOOKS=(lessons/08_gpu_training.ipynb lessons/09_capstone.ipynb lessons/10_inside_training.ipynb)
else
    RESULTS=$ROOT/benchmarks/gpu_results.json
    SWEEP=(--machine "${GPU_MACHINE:-a lent cloud machine}")
    CAPSTONE=()
    PARTS=()
    GPU=(--expect-gpu --jobs 3)
    NOTEBOOKS=({solutions,lessons}/08_gpu_training.ipynb {solutions,lessons}/09_capstone.ipynb
               {solutions,lessons}/10_inside_training.ipynb)
fi
"$PYTHON" -c "import tinygrad_lite as tl, numpy, torch
print('== tinygrad_lite', tl.__version__, '| numpy', numpy.__version__, '| torch', torch.__version__,
      '| GPU:', tl.cuda.get_device_name() + ', ' + str(tl.cuda.versions()) if tl.cuda.is_available() else 'none')"

status=0
step() {  # step NAME COMMAND...: run it, time it, say how it ended
    local name=$1 start=$SECONDS
    shift
    echo "== $name"
    if "$@"; then
        echo "== $name: passed ($((SECONDS - start)) s)"
    else
        echo "== $name: FAILED ($((SECONDS - start)) s)"
        status=1
    fi
}
cuda_tests() {  # pytest's exit 5 (no test ran: test_cuda.py skips without a GPU) passes in a dry run only
    "$PYTHON" -m pytest -q -p no:cacheprovider -o addopts="" -rs tests/test_cuda.py
    local code=$?
    [ $code = 0 ] || { [ $DRY = 1 ] && [ $code = 5 ]; }
}
step "tests/test_cuda.py" cuda_tests
# (the notebooks before the sweep: they read the stored measurement as committed, which their text describes)
step "lessons 08, 09 and 10" "$PYTHON" benchmarks/run_notebooks.py "${GPU[@]}" "${NOTEBOOKS[@]}"
step "lesson 08's sweep" "$PYTHON" benchmarks/gpu_sweep.py "${SWEEP[@]}"
step "the capstone step against PyTorch" "$PYTHON" benchmarks/capstone_gpu.py "${CAPSTONE[@]}"
step "the capstone step, part by part" "$PYTHON" benchmarks/capstone_parts.py "${PARTS[@]}"
echo "== results: $RESULTS"
if [ -n "${OUT:-}" ]; then
    cp "$LOG" "$OUT/" && [ -f "$RESULTS" ] && cp "$RESULTS" "$OUT/"
fi
echo "== gpu_check: $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
