#!/usr/bin/env bash
# The issue-16 training protocol on a lent GPU machine, ready to run the moment one is lent.
#
# Here, first:   bash tools/gpu_pack.sh
# Then one call of the device tool:
#   run(command="bash tools/gpu_train.sh", carry=[".gpu"], timeout_s=600)
# It trains RUNS side by side (each with one DataLoader worker) until they finish or DEADLINE
# seconds pass, then writes one file per run to $OUT: the run folder as a .tar (log.jsonl,
# train_config.json, and last.pt: weights only when the run finished, weights + optimiser state
# when it did not, so `gv-train` with the same --out resumes it here on the CPU or on the next
# GPU). Unpack them into runs/ here and measure with gv-eval on the original images.
#
# RUNS lines: NAME then gv-train options (data, --out, --threads, --workers and the common recipe
# are added). Override with GV_RUNS_FILE=file of such lines.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=.gpu/data
PRE=.gpu/backbone.npz
OUT=${OUT:-out}
PY=${PYTHON:-python3}  # on the GPU image the python3 that holds PyTorch
DEADLINE=${DEADLINE:-500}
[ -d "$DATA" ] && [ -f "$PRE" ] || { echo "gpu_train: run tools/gpu_pack.sh first" >&2; exit 2; }
mkdir -p "$OUT" runs
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
COMMON=(--pretrained "$PRE" --flip-shift 0.004 --batch-size 16 --lr 2e-3 --warmup-epochs 1
        --shift 0.05 --threads 1 --workers 1 --no-progress --data "$DATA")
RUNS=$(cat "${GV_RUNS_FILE:-/dev/stdin}" 2>/dev/null <<'EOF'
gpu-gv256-pre-s2      --head gv --input-size 256 --epochs 60 --seed 2
gpu-hm256-pre-s2      --head heatmap --awing 10 --input-size 256 --epochs 60 --seed 2
gpu-gv256-pre-s3      --head gv --input-size 256 --epochs 60 --seed 3
gpu-hm256-pre-s3      --head heatmap --awing 10 --input-size 256 --epochs 60 --seed 3
EOF
)
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
pids=()
while read -r name opts; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086
  "$PY" -m gaussian_vector.cli.train $opts "${COMMON[@]}" --out "runs/$name" \
    > "runs/$name.log" 2>&1 &
  pids+=($!)
  echo "started $name: $opts"
done <<< "$RUNS"
start=$SECONDS
while [ $((SECONDS - start)) -lt "$DEADLINE" ]; do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
  [ "$alive" -eq 0 ] && break
  sleep 15
  for f in runs/*.log; do printf '%s: %s\n' "$f" "$(grep -o 'epoch [0-9]*:.*val ION [0-9.]*%' "$f" | tail -1)"; done
done
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
sleep 5
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
while read -r name _; do
  [ -d "runs/$name" ] || continue
  "$PY" - "runs/$name" <<'EOF'
import json, sys
from pathlib import Path
import torch
run = Path(sys.argv[1])
cfg = json.loads((run / "train_config.json").read_text())
state = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
done = state.get("epoch", 0) >= cfg["train"]["epochs"]
if done:  # weights only: nothing left to resume
    state.pop("train_state", None)
    torch.save(state, run / "last.pt")
print(f"{run.name}: epoch {state.get('epoch')} of {cfg['train']['epochs']}, "
      f"{'finished' if done else 'resumable'}")
EOF
  tar -cf "$OUT/$name.tar" -C runs "$name/log.jsonl" "$name/train_config.json" "$name/last.pt" \
    "$name.log" 2>/dev/null
done <<< "$RUNS"
ls -la "$OUT"
