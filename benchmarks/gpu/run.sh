#!/usr/bin/env bash
# The GPU checks in one run, for a machine with CUDA and torch but without this project installed:
# the CUDA tests, the CPU suite's core files on that machine's torch, and the device benchmark.
# Wheels for packages missing there (beartype) are expected in .whl/.
set -u
cd "$(dirname "$0")/../.."
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
export PYTHONPATH="$PWD/src:$PWD/tests:/tmp/site" PYTHONUNBUFFERED=1
python3 -c "import torch, numpy, jaxtyping; print('torch', torch.__version__, 'numpy', numpy.__version__, 'jaxtyping', jaxtyping.__version__, torch.cuda.get_device_name())"
echo "== CUDA tests"
python3 -m pytest -p _aliasguard_pytest_plugin -q -rs -m cuda tests/unit 2>&1 | tail -25
echo "== core CPU tests on this machine's torch"
python3 -m pytest -p _aliasguard_pytest_plugin -q tests/unit/test_convert.py tests/unit/test_checking.py \
    tests/unit/test_sanitizer.py tests/unit/test_wrappers.py tests/unit/test_dtypes.py 2>&1 | tail -25
echo "== benchmark"
python3 benchmarks/bench_cuda.py
