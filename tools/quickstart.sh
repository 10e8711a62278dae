#!/usr/bin/env bash
# The README's first command: installs what is missing, builds temoto (Release, build/),
# and runs the main job on a default model: the tiny trained model of ../shared when it is
# there, otherwise a synthetic model temoto generates itself.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

model=../shared/models/stories260K-f32.v3.gguf
if [[ ! -f $model ]]; then
    model=build/tiny.gguf
    [[ -f $model ]] || build/temoto synth --preset tiny -o "$model"
fi
echo "== temoto run -m $model -p \"Once upon a time\" -n 128 --temp 0" >&2
build/temoto run -m "$model" -p "Once upon a time" -n 128 --temp 0
