#!/usr/bin/python3
"""Parity fixtures for the Qwen2.5-VL video preprocessing in src/Modalities.Video.

Makes small real video files with ffmpeg (H.264/MP4, VP9/WebM without a frame count in the container,
MJPEG/AVI in portrait, MPEG-4/MKV at a fractional frame rate) plus bad files, and for each good one writes what the
reference pipeline produces:

  qwen-vl-utils `fetch_video` (v0.0.8-era, MODEL_SPEC 3.3), ported below:
    * smart_nframes: nframes = total / video_fps * fps, clamped to [ceil2(min_frames), floor2(min(max_frames, total))],
      round_by_factor(., 2) (Python round: half to even)
    * indices = torch.linspace(0, total - 1, nframes).round().long()            (torch, float32)
    * max_pixels = max(min(VIDEO_MAX_PIXELS, total_pixels / nframes * 2), int(min_pixels * 1.05)); smart_resize(28)
    * torchvision.transforms.functional.resize(video uint8 TCHW, [h, w], BICUBIC, antialias=True).float()
  then transformers' Qwen2VLImageProcessor (slow path) on the video frames: rescale (float64 * 1/255 -> float32),
  normalize (float32), channels first, frames grouped by temporal_patch_size 2, the patchify reshape/transpose
  -> pixel_values_videos [N, 1176], video_grid_thw [1, 3]; Qwen2_5_VLProcessor: second_per_grid_ts = 2 / sample_fps,
  sample_fps = nframes / max(total, 1e-6) * video_fps.

Frames are decoded by the same ffmpeg command line the plugin uses (rgb24, -noautorotate, -fps_mode passthrough,
-sws_flags bilinear), so the fixture pins sampling, resize, normalization and patchify; the YUV->RGB decode itself is
ffmpeg's (decord and PyAV wrap the same libavcodec/libswscale).

The resize runs in Debian's torch 1.13 / torchvision 0.14; the plugin runs libtorch 2.10's kernel, whose float
arithmetic differs by ~1e-4 before rounding (a handful of 1-LSB differences per million bytes) -- the tests report
and bound that.

Also writes torch.linspace(...).round() index tables for many (total, n) pairs.

    apt-get install -y ffmpeg python3-torch python3-torchvision python3-numpy
    /usr/bin/python3 tools/video/make_video_fixtures.py
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vision"))
from make_image_fixtures import npz_bytes  # noqa: E402  (np.savez_compressed with fixed zip timestamps)

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "Modalities.Video.Tests", "Fixtures")

IMAGE_FACTOR = 28
FRAME_FACTOR = 2
FPS = 2.0
FPS_MIN_FRAMES = 4
FPS_MAX_FRAMES = 768
VIDEO_MIN_PIXELS = 128 * 28 * 28
VIDEO_MAX_PIXELS = 768 * 28 * 28
VIDEO_TOTAL_PIXELS = int(float(128000 * 28 * 28 * 0.9))
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
PATCH, TEMPORAL, MERGE = 14, 2, 2

# (file, ffmpeg source + encoding args, per-item options)
VIDEOS = [
    ("h264_320x240_30fps_3s.mp4",
     "-f lavfi -i testsrc2=size=320x240:rate=30:duration=3 -c:v libx264 -pix_fmt yuv420p -preset veryfast -crf 28", {}),
    ("vp9_256x144_24fps_2s.webm",
     "-f lavfi -i mandelbrot=size=256x144:rate=24 -t 2 -c:v libvpx-vp9 -b:v 200k -deadline realtime -cpu-used 8", {}),
    ("mjpeg_144x256_25fps_1.2s.avi",
     "-f lavfi -i testsrc=size=144x256:rate=25:duration=1.2 -c:v mjpeg -q:v 24", {}),
    ("mpeg4_200x112_29.97fps_4s.mkv",
     "-f lavfi -i smptehdbars=size=200x112:rate=30000/1001:duration=4 -vf noise=alls=12:allf=t -c:v mpeg4 -q:v 20", {}),
]
# Per-request variations on the first file (the C# test applies the same attributes).
VARIANTS = [
    ("h264_fps1", "h264_320x240_30fps_3s.mp4", {"fps": 1.0}),
    ("h264_nframes10", "h264_320x240_30fps_3s.mp4", {"nframes": 10}),
    ("h264_small", "h264_320x240_30fps_3s.mp4", {"min_pixels": 3136, "max_pixels": 12544}),
]
# Cases whose pixel_values_videos are stored too (small frames; the others store the resized uint8 frames, which
# with the committed image-processor parity pin everything downstream).
PIXEL_VALUE_CASES = {"h264_small"}
BAD = [
    ("one_frame.mp4", "-f lavfi -i testsrc2=size=64x48:rate=1:duration=1 -frames:v 1 -c:v libx264 -pix_fmt yuv420p"),
    ("audio_only.m4a", "-f lavfi -i sine=frequency=440:duration=1 -c:a aac -b:a 32k"),
]


def run(cmd):
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_files(video_dir):
    os.makedirs(video_dir, exist_ok=True)
    for name, args, _ in VIDEOS:
        run(f"ffmpeg -y -nostdin -loglevel error {args} -an -map_metadata -1 -fflags +bitexact -flags:v +bitexact {os.path.join(video_dir, name)}")
    for name, args in BAD:
        run(f"ffmpeg -y -nostdin -loglevel error {args} -map_metadata -1 -fflags +bitexact {os.path.join(video_dir, name)}")
    good = os.path.join(video_dir, VIDEOS[0][0])
    data = open(good, "rb").read()
    open(os.path.join(video_dir, "truncated.mp4"), "wb").write(data[: len(data) // 3])
    open(os.path.join(video_dir, "not_a_video.mp4"), "wb").write(b"This is a text file, not a video.\n" * 20)
    open(os.path.join(video_dir, "empty.mp4"), "wb").write(b"")


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate",
         "-of", "json", path], check=True, capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    num, den = s["avg_frame_rate"].split("/")
    return int(s["width"]), int(s["height"]), float(num) / float(den)


def decode(path, width, height):
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-noautorotate", "-i", path, "-map", "0:v:0", "-an", "-sn", "-dn",
         "-fps_mode", "passthrough", "-sws_flags", "bilinear", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"],
        check=True, capture_output=True).stdout
    frame = width * height * 3
    assert len(raw) % frame == 0
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)


def round_by_factor(number, factor):
    return round(number / factor) * factor


def ceil_by_factor(number, factor):
    return math.ceil(number / factor) * factor


def floor_by_factor(number, factor):
    return math.floor(number / factor) * factor


def smart_nframes(ele, total_frames, video_fps):
    assert not ("fps" in ele and "nframes" in ele)
    if "nframes" in ele:
        nframes = round_by_factor(ele["nframes"], FRAME_FACTOR)
    else:
        fps = ele.get("fps", FPS)
        min_frames = ceil_by_factor(ele.get("min_frames", FPS_MIN_FRAMES), FRAME_FACTOR)
        max_frames = floor_by_factor(ele.get("max_frames", min(FPS_MAX_FRAMES, total_frames)), FRAME_FACTOR)
        nframes = total_frames / video_fps * fps
        nframes = min(max(nframes, min_frames), max_frames)
        nframes = round_by_factor(nframes, FRAME_FACTOR)
    if not (FRAME_FACTOR <= nframes and nframes <= total_frames):
        raise ValueError(f"nframes should in interval [{FRAME_FACTOR}, {total_frames}], but got {nframes}.")
    return nframes


def smart_resize(height, width, factor, min_pixels, max_pixels):
    """transformers / qwen-vl-utils smart_resize (current version with the max(factor, .) guard)."""
    h_bar = max(factor, round_by_factor(height, factor))
    w_bar = max(factor, round_by_factor(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, floor_by_factor(height / beta, factor))
        w_bar = max(factor, floor_by_factor(width / beta, factor))
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = ceil_by_factor(height * beta, factor)
        w_bar = ceil_by_factor(width * beta, factor)
    return h_bar, w_bar


def fetch_video(ele, frames_all, video_fps):
    total_frames = frames_all.shape[0]
    nframes = smart_nframes(ele, total_frames, video_fps)
    idx = torch.linspace(0, total_frames - 1, nframes).round().long()
    sample_fps = nframes / max(total_frames, 1e-6) * video_fps
    video = torch.from_numpy(frames_all.copy()).permute(0, 3, 1, 2)[idx]  # TCHW uint8
    _, _, height, width = video.shape
    min_pixels = ele.get("min_pixels", VIDEO_MIN_PIXELS)
    total_pixels = ele.get("total_pixels", VIDEO_TOTAL_PIXELS)
    max_pixels = max(min(VIDEO_MAX_PIXELS, total_pixels / nframes * FRAME_FACTOR), int(min_pixels * 1.05))
    max_pixels = min(ele.get("max_pixels", max_pixels), max_pixels)
    resized_height, resized_width = smart_resize(height, width, IMAGE_FACTOR, min_pixels, max_pixels)
    video = TF.resize(video, [resized_height, resized_width], interpolation=InterpolationMode.BICUBIC, antialias=True)
    return video, idx.tolist(), sample_fps, total_frames


def processor(video_uint8):
    """Qwen2VLImageProcessor._preprocess on video frames (float 0..255 after .float(), integers, so the no-op resize
    and to_pil_image round-trip keep them): rescale, normalize, patchify."""
    x = video_uint8.numpy().transpose(0, 2, 3, 1)  # T H W C
    x = (x.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(OPENAI_CLIP_MEAN, dtype=np.float32)) / np.array(OPENAI_CLIP_STD, dtype=np.float32)
    patches = x.transpose(0, 3, 1, 2)  # T C H W
    if patches.shape[0] % TEMPORAL != 0:
        patches = np.concatenate([patches, np.repeat(patches[-1:], TEMPORAL - patches.shape[0] % TEMPORAL, 0)], 0)
    t, c, h, w = patches.shape
    gt, gh, gw = t // TEMPORAL, h // PATCH, w // PATCH
    p = patches.reshape(gt, TEMPORAL, c, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gt * gh * gw, c * TEMPORAL * PATCH * PATCH)
    return np.ascontiguousarray(p, dtype=np.float32), (gt, gh, gw)


def main():
    torch.set_num_threads(1)
    video_dir = os.path.join(OUT, "videos")
    expected_dir = os.path.join(OUT, "expected")
    os.makedirs(expected_dir, exist_ok=True)
    make_files(video_dir)
    cases = [(name, name, opts) for name, _, opts in VIDEOS] + VARIANTS
    manifest = []
    for case_id, name, ele in cases:
        path = os.path.join(video_dir, name)
        width, height, video_fps = probe(path)
        frames_all = decode(path, width, height)
        video, idx, sample_fps, total = fetch_video(ele, frames_all, video_fps)
        pixel_values, grid = processor(video)
        second_per_grid = TEMPORAL / sample_fps
        arrays = {
            "resized_frames": video.permute(0, 2, 3, 1).contiguous().numpy(),  # T H W C uint8
            "video_grid_thw": np.array([list(grid)], dtype=np.int64),
            "second_per_grid_ts": np.array([second_per_grid], dtype=np.float32),
        }
        if case_id in PIXEL_VALUE_CASES:
            arrays["pixel_values_videos"] = pixel_values
        with open(os.path.join(expected_dir, case_id + ".npz"), "wb") as f:
            f.write(npz_bytes(arrays))
        manifest.append({
            "id": case_id, "file": name, "attributes": {k: str(v) for k, v in ele.items()},
            "width": width, "height": height, "video_fps": video_fps, "total_frames": total, "indices": idx,
            "resized_height": int(video.shape[2]), "resized_width": int(video.shape[3]),
            "grid_thw": list(grid), "sample_fps": sample_fps, "second_per_grid_ts": second_per_grid,
            "expected": "expected/" + case_id + ".npz",
        })
        print(f"{case_id}: {width}x{height} {video_fps:.3f} fps, {total} frames -> {len(idx)} frames "
              f"{video.shape[3]}x{video.shape[2]}, grid {grid}, {second_per_grid:.4f} s/step")

    linspace = []
    for total in [2, 3, 5, 7, 10, 25, 90, 101, 119, 240, 1001, 4801]:
        for n in sorted({2, 4, 6, 8, 10, 16, 30, 64, 100, 768} | {total - total % 2}):
            if 2 <= n <= total:
                linspace.append({"total": total, "n": n,
                                 "indices": torch.linspace(0, total - 1, n).round().long().tolist()})
    nframes_cases = []
    for total, fps, ele in [(90, 30.0, {}), (48, 24.0, {}), (40, 25.0, {}), (120, 29.97002997, {}), (5, 30.0, {}),
                            (3, 30.0, {}), (2, 30.0, {}), (1000, 25.0, {"fps": 0.5}), (9000, 30.0, {}),
                            (7, 1.0, {"min_frames": 3}), (33, 10.0, {"nframes": 9}), (61, 30.0, {"fps": 3.0}),
                            (250, 25.0, {"max_frames": 13})]:
        try:
            n = smart_nframes(ele, total, fps)
        except ValueError:
            n = None
        nframes_cases.append({"total": total, "video_fps": fps, "attributes": {k: str(v) for k, v in ele.items()},
                              "nframes": n})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": manifest, "linspace": linspace, "nframes": nframes_cases},
                  f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
