#!/usr/bin/env bash
# The CUDA tests and the GPU figures in the README, in one go on a CUDA machine; results go to ${OUT:-gpu-out}.
export PYTHONUNBUFFERED=1 PYTHONPATH=.
out=${OUT:-gpu-out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
timeout 150 python3 -m pytest -p no:cacheprovider tests/test_cuda.py 2>&1 | tee "$out/test_cuda.log" | tail -4
bench="timeout 200 python3 -m ganlib bench --warmup 10"
$bench --cases mlp28 dcgan28 --steps 390 --quality --json "$out/bench-quality.json" | grep -v Warning
$bench --cases dcgan64 --steps 300 --levers --json "$out/bench-levers.json" | grep -v Warning
for batch in 256 512; do
  $bench --cases dcgan64 --steps 200 --batch-size $batch --json "$out/bench-batch$batch.json" | grep -v Warning
done
for batch in 64 512; do
  timeout 120 python3 -m benchmarks.gpu_step_profile --batch-size $batch 2>&1 | grep -v Warning | tee "$out/profile-batch$batch.txt"
done
timeout 90 python3 -m ganlib train --max-seconds 30 --out "$out/run" 2>&1 | tr '\r' '\n' | grep -v "it/s\]$" | tail -6
python3 -m ganlib score "$out/run"
timeout 300 python3 -m benchmarks.colour_speed --steps 40 2>&1 | grep -v Warning | tee "$out/colour_speed.txt"
# A colour run: 64-px emoji, conditional, EMOJI_SECONDS long (600 for ten minutes, in a call of its own)
secs=${EMOJI_SECONDS:-120}
timeout $((secs + 120)) python3 -m ganlib train --dataset emoji --image-size 64 --conditional --max-seconds "$secs" \
  --out "$out/emoji64" 2>&1 | tr '\r' '\n' | grep "how real\|max_seconds" | tail -2
