#!/usr/bin/env bash
# The main job on a fresh machine (only the .NET SDK needed): build, install the sample plugin, list plugins,
# check libtorch, then judge the example requests (text, then images and videos, then speech). Until the bundled trained judge lands (issue #10) the judge is
# a tiny random-weight Qwen2 checkpoint with the real Qwen3 tokenizer: it runs the whole pipeline, and its
# verdicts are honestly reported as "unparsed" (random weights cannot follow the protocol).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh   # Debian's ffmpeg for the video plugin, when missing
dotnet build JudgeHost.sln -nologo -v:q
dotnet build samples/TimeSeriesModality -nologo -v:q
judgehost() { dotnet run --project src/JudgeHost --no-build -- "$@"; }
judgehost plugins list
judgehost info
mkdir -p artifacts
judgehost tools make-tiny --family qwen2 --tokenizer tests/JudgeHost.Tests/Fixtures/tokenizers/qwen3 --out artifacts/tiny-judge --seed 1
judgehost judge --model artifacts/tiny-judge --input examples/requests.jsonl --output artifacts/results.jsonl --max-new-tokens 32
echo "results: artifacts/results.jsonl"
head -c 600 artifacts/results.jsonl; echo
# Images and videos through the image and video plugins on a tiny random Qwen2.5-VL (same honest "unparsed" verdicts).
judgehost tools make-tiny --family qwen2_5_vl --tokenizer tests/JudgeHost.Tests/Fixtures/tokenizers/qwen3 --out artifacts/tiny-vl-judge --seed 1
judgehost judge --model artifacts/tiny-vl-judge --input examples/image-requests.jsonl --output artifacts/image-results.jsonl --max-new-tokens 16
echo "image results: artifacts/image-results.jsonl"
# Speech through the audio plugin on a tiny random Qwen2.5-Omni thinker: the example MOS benchmark (every task takes
# audio), then eval (pointwise pearson/spearman = LCC/SRCC; n/a while every verdict is unparsed).
judgehost tools make-tiny --family qwen2_5_omni --tokenizer tests/JudgeHost.Tests/Fixtures/tokenizers/qwen3 --out artifacts/tiny-omni-judge --seed 1
judgehost judge --model artifacts/tiny-omni-judge --input examples/audio-requests.jsonl --output artifacts/audio-results.jsonl --max-new-tokens 16
judgehost eval --input artifacts/audio-results.jsonl
echo "audio results: artifacts/audio-results.jsonl"
