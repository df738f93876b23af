#!/usr/bin/env bash
# The GPU checks in one call, for a CUDA machine lent by the minute:
#   1. the tests that need a GPU (the step replayed as a CUDA graph: same weights as eager, resume);
#   2. bench_dcgan_reference.py's GPU section (labkit against pytorch/examples' loop);
#   3. chapters' paper profiles with what is left of the budget (benchmarks/paper_profiles.py,
#      which resumes where an earlier call stopped when PAPER_OUT is kept between calls).
#
#   OUT=results DATA=../shared/data BUDGET_MIN=4 CHAPTERS="004" bash benchmarks/gpu_session.sh
#
# WHEELS: a folder of wheels to install first, where the machine lacks them: papermill and the
# kernel for the paper profiles, nbformat for the tests (the repository's conftest imports it). Each part's log goes to $OUT; the last lines printed are the summary.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-_build/gpu}
PAPER_OUT=${PAPER_OUT:-_build/paper}
BUDGET_MIN=${BUDGET_MIN:-4}
CHAPTERS=${CHAPTERS:-004}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 LABKIT_PROGRESS=text
if [ -n "${WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
start=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"

echo "== tests ($(( $(date +%s) - start )) s)"
LABKIT_PROGRESS=off python3 -m pytest -q -p no:cacheprovider tests/test_graphs.py tests/test_runtime.py 2>&1 | tee "$OUT/tests.log" | tail -15

echo "== benchmark ($(( $(date +%s) - start )) s)"
python3 benchmarks/bench_dcgan_reference.py --no-cpu --gpu-steps "${GPU_STEPS:-200}" --gpu-batch 64 256 2>&1 \
  | tee "$OUT/bench.log"

echo "== paper profiles ($(( $(date +%s) - start )) s)"
data=()
[ -n "${DATA:-}" ] && data=(--data "$DATA")
python3 benchmarks/paper_profiles.py --budget-min "$BUDGET_MIN" --chapters $CHAPTERS --out "$PAPER_OUT" "${data[@]}" \
  > "$OUT/paper.log" 2>&1
grep -E "epoch|\[paper\]|status|done|to do|Error" "$OUT/paper.log" | tail -40
cp "$PAPER_OUT/state.json" "$OUT/paper_state.json" 2>/dev/null
python3 - "$PAPER_OUT" <<'PY' | tee "$OUT/paper_runs.txt"
import sys, pathlib, torch
for ck in sorted(pathlib.Path(sys.argv[1]).glob("runs/*/*/checkpoint.pt")):  # every run's epochs so far
    s = torch.load(ck, map_location="cpu", weights_only=True)
    h = s["history"]
    last = {k: round(v, 3) for k, v in h[-1].items() if k not in ("epoch", "seconds")} if h else {}
    print(f"{ck.parent.name}: {s['epoch']} epochs, {s['seconds']:.1f} s ({s['seconds'] / max(1, s['epoch']):.1f} s/epoch); last {last}")
PY
echo "== done after $(( $(date +%s) - start )) s"
grep -E "ratio|reference loop|batch|one step" "$OUT/bench.log"
tail -3 "$OUT/tests.log"
