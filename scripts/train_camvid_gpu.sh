#!/usr/bin/env bash
# Train FCN-8s (multi-stride: 32s/16s/8s heads, loss on all three) from scratch on CamVid on one GPU in ~10 minutes.
# Not run in this repository's sessions (no GPU was available): no result is claimed here.
# Usage: scripts/train_camvid_gpu.sh [CAMVID_DIR] [OUT_DIR]
#   CAMVID_DIR: VOC-layout CamVid (JPEGImages/, SegmentationClass/ with raw indices, void 11, ImageSets/Segmentation/).
# Multi-GPU: torchrun --nproc_per_node=N -m fcn_core train ... (same arguments; --batch-size is per GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/camvid}"
OUT="${2:-runs/camvid-fcn8s}"
python3 -m fcn_core train --data "$DATA" --void-value 11 --out "$OUT" \
  --arch fcn-multi --recipe scratch --batch-norm --width 1.0 \
  --batch-size 8 --crop 352x480 --scale-range 0.5,2.0 --lr 2e-3 --weight-decay 1e-4 --warmup 0.05 \
  --minutes 9.5 --eval-every 250 --mean dataset --num-workers 8 --seed 0 --device cuda --amp
python3 -m fcn_core evaluate --help >/dev/null 2>&1 && echo "evaluate with: fcn evaluate (see --help) on $OUT/best.safetensors"
