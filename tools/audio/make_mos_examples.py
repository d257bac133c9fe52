#!/usr/bin/python3
"""A small speech-quality (MOS-style) example benchmark for `judgehost judge` + `judgehost eval`.

Writes examples/audio/*.wav|flac and examples/audio-requests.jsonl:

  * one espeak-ng sentence, resampled to 16 kHz, then degraded with sox in steps of increasing severity (white noise
    at 20 and 5 dB SNR, a 1-kHz low-pass, 4-bit quantisation with clipping, 0-dB noise plus low-pass);
  * for each clip a pointwise request in Flex-Omni's BVCC format (template "speech_mos": the audio, the question,
    the reminder, no candidate) whose "label" is a DESIGNED mean opinion score that falls with the severity of the
    degradation -- these are not human ratings; they only give `eval` an utterance-level target to correlate with
    (LCC = Pearson, SRCC = Spearman, as flex-judge test/evaluate.py reports for NISQA / SOMOS / BVCC);
  * a pairwise request (clean vs noisy, label A), a three-clip ranking (label ABC) and a yes/no naturalness question,
    so every task takes audio.

Paths in the JSONL are relative to the repository root (where examples/demo.sh runs). Deterministic: espeak-ng 1.51,
sox 14.4.2 with -R (fixed random seed for the noise) and -D (no dither).

    apt-get install -y espeak-ng sox
    /usr/bin/python3 tools/audio/make_mos_examples.py
"""
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "examples", "audio")
REQUESTS = os.path.join(REPO, "examples", "audio-requests.jsonl")
SENTENCE = "Please call Stella."
QUESTION = ("Rate this audio on a mean opinion score (MOS) scale from 1 to 5. "
            "YOU MUST end with <answer>X</answer> where X is your score.")

# (file, designed MOS, how it is made from clean.wav: extra sox effects, noise volume or None)
CLIPS = [
    ("clean.wav", 4.5, [], None),
    ("noise_light.wav", 3.8, [], 0.01),
    ("lowpass_1k.flac", 3.0, ["lowpass", "1000"], None),
    ("noise_medium.wav", 2.3, [], 0.06),
    ("crushed.wav", 1.6, ["gain", "18"], None),
    ("noise_heavy_lowpass.wav", 1.2, ["lowpass", "800"], 0.12),
]


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.wav")
        run("espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, SENTENCE)
        clean = os.path.join(tmp, "clean.wav")
        # 16 kHz mono 16-bit, normalised to -3 dBFS, 0.2 s of silence on both ends.
        run("sox", "-R", "-D", raw, "-r", "16000", "-b", "16", "-c", "1", clean, "norm", "-3", "pad", "0.2", "0.2")
        duration = float(subprocess.run(["soxi", "-D", clean], check=True, capture_output=True, text=True).stdout)
        for name, _, effects, noise in CLIPS:
            target = os.path.join(OUT, name)
            source = clean
            if noise is not None:
                noise_file = os.path.join(tmp, "noise.wav")
                run("sox", "-R", "-D", "-n", "-r", "16000", "-b", "16", "-c", "1", noise_file, "synth", f"{duration}",
                    "whitenoise", "vol", f"{noise}")
                mixed = os.path.join(tmp, "mixed.wav")
                run("sox", "-R", "-D", "-m", clean, noise_file, mixed)
                source = mixed
            # crushed.wav: +18 dB (hard clipping) written as 8-bit unsigned PCM (coarse quantisation).
            bits = ["-b", "8", "-e", "unsigned"] if name == "crushed.wav" else ["-b", "16"]
            run("sox", "-R", "-D", source, *bits, target, *effects)

    lines = []
    for name, mos, _, _ in CLIPS:
        stem = os.path.splitext(name)[0]
        lines.append({"id": f"mos-{stem}", "task": "pointwise", "template": "speech_mos", "instruction": QUESTION,
                      "media": [{"modality": "audio", "path": f"examples/audio/{name}"}], "label": mos})
    lines.append({"id": "pair-clean-vs-noisy", "task": "pairwise",
                  "instruction": "Which recording is the clearer, more natural speech? Recording 1 is the first audio, recording 2 the second.",
                  "media": [{"modality": "audio", "path": "examples/audio/clean.wav"},
                            {"modality": "audio", "path": "examples/audio/noise_medium.wav"}],
                  "candidates": ["Recording 1 is better.", "Recording 2 is better."], "label": "A"})
    lines.append({"id": "rank-three", "task": "ranking",
                  "instruction": "Rank the three recordings (in the order given) by speech quality.",
                  "media": [{"modality": "audio", "path": f"examples/audio/{n}"} for n in ("clean.wav", "lowpass_1k.flac", "crushed.wav")],
                  "candidates": ["Recording 1.", "Recording 2.", "Recording 3."], "label": "ABC"})
    lines.append({"id": "natural-crushed", "task": "binary", "aspect": "naturalness",
                  "instruction": "Does this speech sound natural and free of distortion?",
                  "media": [{"modality": "audio", "path": "examples/audio/crushed.wav"}], "label": "no"})
    with open(REQUESTS, "w") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    for name, mos, _, _ in CLIPS:
        print(f"{name:24s} MOS {mos}  {os.path.getsize(os.path.join(OUT, name)):6d} bytes")


if __name__ == "__main__":
    sys.exit(main())
