#!/usr/bin/env bash
# Times an edgegnn lce artifact with LCE's benchmark tool on an ARM board.
#   run_lce_benchmark.sh BENCHMARK_BINARY MODEL.tflite [THREADS] [INPUT_DIR]
# INPUT_DIR holds <input_name>.bin files (raw little-endian arrays) written by
# deploy/pi/write_inputs.py; without it the tool feeds random values, which is only valid
# for models whose inputs are all dense floats.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BENCHMARK_BINARY MODEL.tflite [THREADS] [INPUT_DIR]" >&2
  exit 2
fi
binary="$1"; model="$2"; threads="${3:-1}"; inputs="${4:-}"
[ -x "$binary" ] || { echo "$binary is not an executable (see deploy/pi/README.md)" >&2; exit 1; }
[ -f "$model" ] || { echo "no model file $model" >&2; exit 1; }
args=(--graph="$model" --num_threads="$threads" --warmup_runs=5 --num_runs=50)
if [ -n "$inputs" ]; then
  files=()
  for f in "$inputs"/*.bin; do
    name="$(basename "$f" .bin)"
    files+=("$name:$f")
  done
  if [ ${#files[@]} -eq 0 ]; then
    echo "no .bin input files in $inputs" >&2; exit 1
  fi
  args+=(--input_layer_value_files="$(IFS=,; echo "${files[*]}")")
fi
echo "$(uname -m) $(nproc) cores; $binary ${args[*]}"
"$binary" "${args[@]}"
