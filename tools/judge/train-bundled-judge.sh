#!/usr/bin/env bash
# The recipe for the in-house small judge (issue #10), from nothing but this repository, on CPU: the seeded
# curriculum, a byte-level BPE tokenizer trained on it, a freshly initialised small Qwen2, full SFT, a bfloat16 copy,
# then the held-out evaluation (judge + eval) and the best-of-N before/after table.
# Status: NOT yet good enough to bundle (measurements in the README's "Training" row and below; the flags below are run e).
#   - 2026-11-23 a: hidden 192 x 4 layers, Qwen2's own pre-tokenizer, 850 steps: learns the protocol (100 % parsed), not
#     the judging (held-out pairwise 0.44, yes/no 0.60).
#   - 2026-11-23 b: Qwen2's pre-tokenizer, hidden 256 x 4, 8 heads, 4,500 steps: copies letters, never numbers (every
#     number starts with the same bare " " token, so the copy has no anchor).
#   - 2026-11-23 c (this script): spaced-digits tokenizer, 6,500 steps (~70 minutes on 2 cores): copies numbers from the
#     question and the candidates; training loss 0.03-0.07, but it never learned the comparison: after copying an
#     answer it writes "correct" / "wrong" by position ("Assistant 1 ... correct. Assistant 2 ... wrong" nearly always,
#     even re-copying the other candidate to fit). Held-out (first 100 items, bf16): pairwise 0.44 with the two orders
#     agreeing on 4 %, yes/no 0.60, pointwise Pearson -0.34, ranking distance 0.43; best-of-N (40 prompts) judge's pick
#     0.33 vs random 0.24 (oracle 0.70). Next: make the comparison explicit and local in the curriculum's reasoning
#     (the candidate's answer written under the right one and checked token by token, length included) and train
#     longer (the GPU when lent).
#   - 2026-11-23 d: the curriculum's reasoning copies each candidate on its own line as the prompt shows it and checks it
#     character by character ("Assistant 2: check 6 5 no, 2 5 no: wrong"); 90,000 chats, 4,000 steps from scratch, then
#     (e, this script's curriculum: the copies written first, before the right answer they drifted towards) 2,800 more
#     steps at lr 1e-3 from that checkpoint. Loss 0.03-0.05, yet held-out (100 items, bf16) pairwise 0.20, yes/no 0.32,
#     pointwise Pearson 0.17; the same on 100 *training* items (0.12 / 0.44 / 0.38), so it is not overfitting.
#     tools/judge/reasoning-stages.py shows where: candidates copied exactly 65 %, right answer 66 %, a verdict follows
#     its marks 100 %, but the equality mark is never learned: where the two paired characters differ the model writes
#     "ok" 74 % of the time, and teacher-forced on a training chat it predicts "ok" after "6 5" and pairs the right
#     answer's character where the candidate's belongs. A chat holds ~1 "no" mark among ~120 assistant tokens, so
#     never computing the mark costs only ~0.02 nats per token: the mean loss cannot see the one skill the verdict rests on.
#     Tried at once: 1,400 more steps on a curriculum whose wrong answers are, half the time, the right one with random
#     characters (40,000 chats, seed 11; ~3x the "no" marks): the mark where characters differ went 26 % -> 36 %,
#     pairwise 0.20, yes/no 0.44. So more "no" marks help, slowly.
#     The mark alone is learnable: the same initial model on 40,000 chats of nothing but check lines ("check A M no,
#     4 4 ok: wrong.", pairs given in the prompt, half of them unequal) reached loss 0.01 in 600 steps of 32 (~4 min),
#     where never computing the mark would leave ~0.15. In the curriculum the pair's second character is nearly always
#     the first one again (one "no" per chat), and the model takes that shortcut instead of fetching the right answer's
#     character. Mixing those drills in (1,000 steps from run e, 30,000 curriculum chats + 15,000 drills) did not carry
#     over: the mark where characters differ stayed at 21 %, pairwise 0.24, yes/no 0.32; inside a judgment the mark
#     seems to follow the model's guess about the whole candidate, not the two characters before it.
#     Next: drills in the judgment's own format (the check lines of real items, each pair unequal half the time) and wrong answers that differ in more places, or the
#     decision tokens' loss weighted, before another full run (the GPU when lent).
#   - 2026-11-23 g: from scratch on the far-wrong curriculum (half the wrong answers the right one with random characters,
#     1.4 "no" marks per chat), 2,500 steps: held-out pairwise 0.27, yes/no 0.33; of the pairs it wrote with two different
#     characters it marked 10/82 "no" (equal ones 327/354 "ok"): inside a judgment the mark does not follow even the two
#     tokens just written. Next: the mark placed where each character is copied, or the mark tokens' loss weighted.
#   - 2026-11-23 h, i: two 1,000-step arms of run g's setup, read teacher-forced on 25 training chats with "no" marks
#     (P(right token) > 0.5 for: mark where the characters differ / candidate character in a check line):
#     g as it was 0.39 / 0.54; h, rope_theta 10,000 instead of 1,000,000 (more fine-grained positions for head_dim 32)
#     0.24 / 0.44; i, --no-group-by-prefix (every micro-batch mixing task formats and problem kinds, instead of
#     grouped ones) 0.10 / 0.60. Loss curves within 0.03 of each other. Neither the positional resolution nor the batch
#     composition is what keeps the mark from being learned.
#   - 2026-11-23 j: run g's setup with `train sft --token-weight " no=6" --token-weight " ok=6"` (the marks' loss x6):
#     at 500 / 1,000 / 1,500 steps the same measure reads 0.37 / 0.33 / 0.37 (mark where the characters differ) and
#     0.34 / 0.41 / 0.59 (candidate character); g itself at 1,500 / 2,000 steps: 0.24 / 0.20 and 0.66 / 0.72. Copying improves with steps in every arm, the mark
#     stays at a guess. Next: a drill in which the assistant fetches both characters itself (no other reasoning); if
#     that fails too, change the format (e.g. the comparison on whole-answer tokens), or a larger model on a GPU.
#   - 2026-11-24 k4: run g's setup with only the rare mark weighted to balance the classes (`--token-weight " no=20"`;
#     ~1 "no" per 20 marks). Same measure, teacher-forced on the 25 chats, "no" where the characters differ / "ok" where
#     they are equal: step 500 1.00 / 0.00, 1,000 1.00 / 0.00, 2,500 1.00 / 0.40 (g at 2,000: 0.20 / 0.97); candidate
#     character 0.29 / 0.46 / 0.72, right-answer character 0.40 / 0.58 / 0.87; the verdict follows the marks (1.00).
#     The weight moves the mark's prior, from "ok" everywhere to "no" everywhere, not its dependence on the two
#     characters before it (balanced accuracy 0.70 against g's 0.59). So the loss weighting is not the missing piece;
#     the format (or the model size) is.
# Usage: bash tools/judge/train-bundled-judge.sh [WORK_DIR]   (default artifacts/bundled-judge)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-artifacts/bundled-judge}"
mkdir -p "$work"
dotnet build src/JudgeHost -c Release -nologo -v:q
judgehost() { dotnet run --project src/JudgeHost -c Release --no-build -- "$@"; }

judgehost train curriculum --out "$work/curriculum" --train 90000 --test 400 --seed 7 --best-of-n 100
judgehost train tokenizer --data "$work/curriculum/train.jsonl" --out "$work/tokenizer" --vocab-size 1024 \
    --chat-template tools/tokenizer/templates/qwen2_5_instruct.jinja --pre-tokenizer spaced-digits
judgehost tools make-tiny --family qwen2 --tokenizer "$work/tokenizer" --out "$work/init" \
    --hidden 256 --layers 4 --heads 8 --kv-heads 4 --intermediate 768 --init hf --seed 1
# Run d (on 64cbe7b's curriculum: each copy under the right answer) was stopped at checkpoint-4000 of 5600 steps;
# run e continued from it on this curriculum.
judgehost train sft --model "$work/init" --data "$work/curriculum/train.jsonl" --out "$work/sft-d" \
    --max-steps 5600 --batch-size 16 --lr 2e-3 --warmup-steps 100 --seed 1 --save-every 400
judgehost train sft --model "$work/sft-d/checkpoint-4000" --data "$work/curriculum/train.jsonl" --out "$work/sft" \
    --max-steps 2800 --batch-size 16 --lr 1e-3 --warmup-steps 50 --seed 2 --save-every 400
judgehost tools convert --model "$work/sft" --out "$work/judge" --dtype bfloat16

out="$work/judge"
judgehost judge --model "$out" --input "$work/curriculum/test-requests.jsonl" --output "$work/test-results.jsonl"
judgehost eval --input "$work/test-results.jsonl"
python3 tools/judge/reasoning-stages.py "$work/curriculum/test-requests.jsonl" "$work/test-results.jsonl"
judgehost best-of-n --model "$out" --input "$work/curriculum/test-bestofn.jsonl" --output "$work/bestofn.jsonl" --method pointwise --force-new
judgehost eval --input "$work/bestofn.jsonl"
