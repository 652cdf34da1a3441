#!/usr/bin/env bash
# Everything that needs a GPU except the CamVid training, in one command that ends well inside 10 minutes:
# the CUDA tests (tests/test_cuda.py + the predictor's), then bench/inference.py on CUDA (baseline vs ours).
# No Qt needed. Usage, from the repository root on the GPU machine:
#   OUT=/some/dir scripts/gpu_checks.sh          # writes $OUT/pytest-cuda.txt, $OUT/bench-cuda.json
# Then scripts/train_camvid_gpu.sh (CamVid copied to .data/camvid) in a second command.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-runs/gpu}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"
status=0
python3 -m pytest -q -p no:qt -p no:cacheprovider tests/test_cuda.py tests/test_predictor.py tests/test_models.py \
  2>&1 | tee "$OUT/pytest-cuda.txt" || status=1
timeout 420 python3 bench/inference.py --device cuda --json-out "$OUT/bench-cuda.json" || status=1
exit $status
