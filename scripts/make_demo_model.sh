#!/usr/bin/env bash
# Reproduce the bundled demo model resources/demo/model.safetensors:
#   1. generate the demo scenes: 250 images (seed 0, 320x240: the data fcn_core.resources.demo_paths() makes)
#      and 1,000 images of the same seed (its first 250 are the same scenes; every 5th image is val),
#   2. train a width-1/8 batch-norm multi-stride FCN (32s/16s/8s heads, loss on all three) from scratch on CPU
#      on the 250 (800 iterations, AdamW 4e-3, warmup + cosine), then fine-tune it 400 iterations at 1e-3,
#   3. continue from that on the 1,000 scenes with warm restarts (AdamW, warmup + cosine each):
#      3,000 iterations at 2e-3, then 3,500 at 1e-3, then 1,200 at 5e-4, then 4,000 at 1e-3,
#   4. copy the last stage's best checkpoint (by 8s mean IU on its val split) into resources/demo/.
# Its numbers are then measured on scenes it never saw: `fcn demo-data --seed 7` (docs/MEASUREMENTS.md).
# Fixed seeds and iteration budgets (no wall-clock budget). Interrupted? Run it again: each stage resumes
# from its last evaluation. Stages 1-2 took ~30 min with one thread; the four restarts 41, 45, ~14 and 47 min
# with two threads on a shared 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-runs/demo-model}"
DATA="$WORK/data"
BIG="$WORK/data-1000"
COMMON=(--arch fcn-multi --recipe scratch --batch-size 4 --crop 240x320 --scale-range 0.8,1.25
        --num-workers 1 --device cpu)
resume() { [ -f "$1/last.state.pt" ] && echo --resume || true; }
[ -f "$DATA/dataset.json" ] || python3 -m fcn_core demo-data --out "$DATA" --count 250 --seed 0
[ -f "$BIG/dataset.json" ] || python3 -m fcn_core demo-data --out "$BIG" --count 1000 --seed 0
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" python3 -m fcn_core train --data "$DATA" "${COMMON[@]}" \
  --out "$WORK/train" $(resume "$WORK/train") --width 0.125 --lr 4e-3 --max-iters 800 --eval-every 200 --seed 0
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" python3 -m fcn_core train --data "$DATA" "${COMMON[@]}" \
  --out "$WORK/finetune" $(resume "$WORK/finetune") --init-from "$WORK/train/best.safetensors" \
  --lr 1e-3 --warmup 0.02 --max-iters 400 --eval-every 100 --seed 1
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" python3 -m fcn_core train --data "$BIG" "${COMMON[@]}" \
  --out "$WORK/stage3" $(resume "$WORK/stage3") --init-from "$WORK/finetune/best.safetensors" \
  --lr 2e-3 --warmup 0.02 --max-iters 3000 --eval-every 750 --seed 2
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" python3 -m fcn_core train --data "$BIG" "${COMMON[@]}" \
  --out "$WORK/stage4" $(resume "$WORK/stage4") --init-from "$WORK/stage3/best.safetensors" \
  --lr 1e-3 --warmup 0.02 --max-iters 3500 --eval-every 875 --seed 3
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" python3 -m fcn_core train --data "$BIG" "${COMMON[@]}" \
  --out "$WORK/stage5" $(resume "$WORK/stage5") --init-from "$WORK/stage4/best.safetensors" \
  --lr 5e-4 --warmup 0.02 --max-iters 1200 --eval-every 600 --seed 4
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" python3 -m fcn_core train --data "$BIG" "${COMMON[@]}" \
  --out "$WORK/stage6" $(resume "$WORK/stage6") --init-from "$WORK/stage5/best.safetensors" \
  --lr 1e-3 --warmup 0.02 --max-iters 4000 --eval-every 1000 --seed 5
mkdir -p resources/demo
cp "$WORK/stage6/best.safetensors" resources/demo/model.safetensors
python3 -m fcn_core info resources/demo/model.safetensors || true
