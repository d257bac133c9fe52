#!/usr/bin/env bash
# The recipe for the in-house small judge (issue #10), from nothing but this repository, on CPU: the seeded
# curriculum, a byte-level BPE tokenizer trained on it, a freshly initialised small Qwen2 (1.9M parameters), full SFT,
# then the held-out evaluation (judge + eval) and the best-of-N before/after table.
# Status: NOT yet good enough to bundle. This exact recipe (850 steps, ~14k samples seen) learns the protocol
# (100% parsed verdicts on held-out items) but not to read the question: held-out pairwise accuracy 0.44, yes/no 0.60
# (2026-11-23). It needs far more steps than a 2-core session gives; see the README's training section.
# Usage: bash tools/judge/train-bundled-judge.sh [WORK_DIR]   (default artifacts/bundled-judge)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-artifacts/bundled-judge}"
mkdir -p "$work"
dotnet build src/JudgeHost -c Release -nologo -v:q
judgehost() { dotnet run --project src/JudgeHost -c Release --no-build -- "$@"; }

judgehost train curriculum --out "$work/curriculum" --train 4000 --test 400 --seed 7 --best-of-n 100
judgehost train tokenizer --data "$work/curriculum/train.jsonl" --out "$work/tokenizer" --vocab-size 1024 \
    --chat-template tools/tokenizer/templates/qwen2_5_instruct.jinja
judgehost tools make-tiny --family qwen2 --tokenizer "$work/tokenizer" --out "$work/init" \
    --hidden 192 --layers 4 --heads 4 --kv-heads 2 --intermediate 576 --init hf --seed 1
# Two phases, as the measured run was made: 2 epochs (500 steps, cosine to 0), then a warm restart resumed from
# checkpoint-500 on a schedule ending at step 850 (the optimizer state carries over; --resume re-derives the rate).
judgehost train sft --model "$work/init" --data "$work/curriculum/train.jsonl" --out "$work/sft" \
    --epochs 2 --batch-size 16 --lr 1e-3 --warmup-steps 30 --seed 1 --save-every 100
judgehost train sft --model "$work/init" --data "$work/curriculum/train.jsonl" --out "$work/sft" \
    --max-steps 850 --batch-size 16 --lr 1e-3 --warmup-steps 30 --seed 1 --save-every 50 --resume

out="$work/sft"
judgehost judge --model "$out" --input "$work/curriculum/test-requests.jsonl" --output "$work/test-results.jsonl" --max-new-tokens 128
judgehost eval --input "$work/test-results.jsonl"
judgehost best-of-n --model "$out" --input "$work/curriculum/test-bestofn.jsonl" --output "$work/bestofn.jsonl" --method pointwise --max-new-tokens 128 --force-new
judgehost eval --input "$work/bestofn.jsonl"
