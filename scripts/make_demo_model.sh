#!/usr/bin/env bash
# Reproduce the bundled demo model resources/demo/model.safetensors:
#   1. generate the demo dataset (250 images, seed 0, 320x240: the data fcn_core.resources.demo_paths() makes),
#   2. train a width-1/8 batch-norm multi-stride FCN (32s/16s/8s heads, loss on all three) from scratch on CPU,
#   3. copy the best checkpoint (by 8s mean IU on the val split) into resources/demo/.
# Fixed seed and an iteration budget (no wall-clock budget). Interrupted? Run it again: --resume continues
# from the last evaluation (every 200 iterations). One thread: on a busy 2-core machine that was the fastest.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-runs/demo-model}"
DATA="$WORK/data"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
[ -f "$DATA/dataset.json" ] || python3 -m fcn_core demo-data --out "$DATA" --count 250 --seed 0
python3 -m fcn_core train --data "$DATA" --out "$WORK/train" --arch fcn-multi --recipe scratch \
  --width 0.125 --batch-size 4 --crop 240x320 --scale-range 0.8,1.25 --lr 4e-3 --max-iters 800 \
  --eval-every 200 --num-workers 1 --seed 0 --device cpu --resume
mkdir -p resources/demo
cp "$WORK/train/best.safetensors" resources/demo/model.safetensors
python3 -m fcn_core info resources/demo/model.safetensors || true
