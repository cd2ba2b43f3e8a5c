#!/usr/bin/env bash
# npm run models:train — trains emoji-sd and its judge from scratch on the CPU, then exports them.
# Stages: VAE, judge, text encoder + UNet (see training/README.md). Step counts are those of the
# committed run; set UNET_MINUTES / UNET2_MINUTES / UNET3_MINUTES / JUDGE_MINUTES to train for a wall-clock budget instead.
set -euo pipefail
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch, onnx, PIL, numpy' 2>/dev/null; then
  echo "models:train needs Python 3 with torch, onnx, PIL and numpy; on Debian/Ubuntu:" >&2
  echo "  sudo apt-get install python3-torch python3-onnx python3-pil python3-numpy" >&2
  echo "(or set PYTHON=/path/to/python3 that has them)" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
budget() { if [ -n "${2:-}" ]; then echo "--minutes $2"; else echo "--steps $1"; fi; }
"$PY" training/train_vae.py --steps "${VAE_STEPS:-1100}"
"$PY" training/train_judge.py $(budget "${JUDGE_STEPS:-609}" "${JUDGE_MINUTES:-}")
"$PY" training/train_unet.py $(budget "${UNET_STEPS:-875}" "${UNET_MINUTES:-}")
# Then twice more from those weights (fresh optimizer, warm-up and cosine each time), drawing every
# emoji equally often: skin-tone variants had made people five times as frequent as any object.
"$PY" training/train_unet.py --resume --per-emoji --lr 4e-4 --seed 3 $(budget "${UNET2_STEPS:-2985}" "${UNET2_MINUTES:-}")
"$PY" training/train_unet.py --resume --per-emoji --lr 3e-4 --seed 4 $(budget "${UNET3_STEPS:-1991}" "${UNET3_MINUTES:-}")
"$PY" training/eval_prompts.py
"$PY" training/export.py
"$PY" training/parity_dump.py
npx tsx training/check-export.ts
