#!/usr/bin/env bash
# Reproduce the bundled demo model resources/demo/model.safetensors:
#   1. generate the demo dataset (250 images, seed 0, 320x240: the data fcn_core.resources.demo_paths() makes),
#   2. train a width-1/8 batch-norm multi-stride FCN (32s/16s/8s heads, loss on all three) from scratch on CPU
#      (800 iterations, AdamW 4e-3, warmup + cosine), then fine-tune it 400 iterations at 1e-3,
#   3. copy the fine-tune's best checkpoint (by 8s mean IU on the val split) into resources/demo/.
# Fixed seeds and iteration budgets (no wall-clock budget). Interrupted? Run it again: --resume continues
# from the last evaluation. One thread: on a busy 2-core machine that was the fastest (~1.2-2.5 s/iteration).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-runs/demo-model}"
DATA="$WORK/data"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
COMMON=(--data "$DATA" --arch fcn-multi --recipe scratch --batch-size 4 --crop 240x320 --scale-range 0.8,1.25
        --num-workers 1 --device cpu --resume)
[ -f "$DATA/dataset.json" ] || python3 -m fcn_core demo-data --out "$DATA" --count 250 --seed 0
python3 -m fcn_core train "${COMMON[@]}" --out "$WORK/train" --width 0.125 --lr 4e-3 --max-iters 800 \
  --eval-every 200 --seed 0
python3 -m fcn_core train "${COMMON[@]}" --out "$WORK/finetune" --init-from "$WORK/train/best.safetensors" \
  --lr 1e-3 --warmup 0.02 --max-iters 400 --eval-every 100 --seed 1
mkdir -p resources/demo
cp "$WORK/finetune/best.safetensors" resources/demo/model.safetensors
python3 -m fcn_core info resources/demo/model.safetensors || true
