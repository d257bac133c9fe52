#!/usr/bin/python3
"""Parity fixtures for the Qwen2-VL image preprocessing in src/Modalities.Image.

Writes small synthetic image files (PNG, JPEG, WebP, BMP, GIF) and, for each, what Hugging Face's *slow*
`Qwen2VLImageProcessor` (PIL + numpy path, `use_fast=False`) produces from it: the RGB pixels PIL decodes,
the PIL BICUBIC resize, `pixel_values [N, 1176]` float32 and `image_grid_thw`.

transformers is not installable here, so the slow path is ported below, function by function, from
transformers' `models/qwen2_vl/image_processing_qwen2_vl.py` (`smart_resize`, `_preprocess`) and
`image_transforms.py` (`convert_to_rgb`, `resize`/`to_pil_image`, `rescale`, `normalize`). Only PIL and numpy
are used, so the script runs with Debian's packages:

    apt-get install -y python3-pil python3-numpy
    /usr/bin/python3 tools/vision/make_image_fixtures.py

Output is deterministic (seeded content, fixed zip timestamps). See tools/vision/README.md.
"""

import argparse
import hashlib
import io
import json
import math
import os
import struct
import zipfile

import numpy as np
import PIL
from PIL import Image, ImageOps

# transformers.image_utils.OPENAI_CLIP_MEAN / OPENAI_CLIP_STD (the checkpoint's image_mean / image_std).
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# Qwen2-VL / Qwen2.5-VL checkpoint preprocessor_config.json values.
CHECKPOINT_MIN_PIXELS = 3136
CHECKPOINT_MAX_PIXELS = 12845056
PATCH_SIZE = 14
TEMPORAL_PATCH_SIZE = 2
MERGE_SIZE = 2

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "Modalities.Image.Tests", "Fixtures")


# ---------------------------------------------------------------------------------------------------------------
# The HF slow path, ported.
# ---------------------------------------------------------------------------------------------------------------

def smart_resize(height, width, factor=28, min_pixels=56 * 56, max_pixels=14 * 14 * 4 * 1280):
    """transformers `smart_resize` (current version: no `< factor` check, `max(factor, .)` guard when shrinking)."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(
            f"absolute aspect ratio must be smaller than 200, got {max(height, width) / min(height, width)}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def convert_to_rgb(image):
    """image_transforms.convert_to_rgb: PIL `convert("RGB")` (alpha dropped, not composited)."""
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


def pil_resize(image, size):
    """image_transforms.resize on a uint8 HWC array: to_pil_image (no rescale for uint8), PIL resize, np.array."""
    height, width = size
    pil = Image.fromarray(image.astype(np.uint8))
    resized = pil.resize((width, height), resample=Image.BICUBIC, reducing_gap=None)
    return np.array(resized)


def rescale(image, scale):
    """image_transforms.rescale: upcast to float64, multiply, downcast to float32."""
    return (image.astype(np.float64) * scale).astype(np.float32)


def normalize(image, mean, std):
    """image_transforms.normalize, channels-last: mean and std are cast to the image dtype (float32) first."""
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    mean = np.array(mean, dtype=image.dtype)
    std = np.array(std, dtype=image.dtype)
    return (image - mean) / std


def preprocess(image, min_pixels, max_pixels, patch_size=PATCH_SIZE, temporal_patch_size=TEMPORAL_PATCH_SIZE,
               merge_size=MERGE_SIZE, mean=OPENAI_CLIP_MEAN, std=OPENAI_CLIP_STD, rescale_factor=1 / 255):
    """Qwen2VLImageProcessor._preprocess for one PIL image. Returns (resized uint8 HWC, pixel_values, grid_thw)."""
    image = convert_to_rgb(image)
    image = np.array(image)  # to_numpy_array; HWC uint8 (channels-last inferred for H, W not in {1, 3})
    height, width = image.shape[:2]
    resized_height, resized_width = smart_resize(
        height, width, factor=patch_size * merge_size, min_pixels=min_pixels, max_pixels=max_pixels)
    resized = pil_resize(image, (resized_height, resized_width))
    x = rescale(resized, rescale_factor)
    x = normalize(x, mean, std)
    x = x.transpose(2, 0, 1)  # to_channel_dimension_format(FIRST)

    patches = np.array([x])  # [F=1, C, H, W]
    if patches.shape[0] % temporal_patch_size != 0:
        repeats = np.repeat(patches[-1][np.newaxis], temporal_patch_size - 1, axis=0)
        patches = np.concatenate([patches, repeats], axis=0)
    channel = patches.shape[1]
    grid_t = patches.shape[0] // temporal_patch_size
    grid_h, grid_w = resized_height // patch_size, resized_width // patch_size
    patches = patches.reshape(
        grid_t, temporal_patch_size, channel,
        grid_h // merge_size, merge_size, patch_size,
        grid_w // merge_size, merge_size, patch_size,
    )
    patches = patches.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    flatten_patches = patches.reshape(
        grid_t * grid_h * grid_w, channel * temporal_patch_size * patch_size * patch_size)
    assert flatten_patches.dtype == np.float32
    return resized, np.ascontiguousarray(flatten_patches), (grid_t, grid_h, grid_w)


# ---------------------------------------------------------------------------------------------------------------
# Deterministic synthetic content.
# ---------------------------------------------------------------------------------------------------------------

def synth_rgb(width, height, seed, noise_box=True):
    """Gradients, a sinusoid, hard-edged shapes, a 1-px checkerboard and a patch of seeded noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    r = xx / max(width - 1, 1) * 255.0
    g = yy / max(height - 1, 1) * 255.0
    b = 128.0 + 127.0 * np.sin(xx / 7.0 + yy / 11.0 + seed)
    img = np.stack([r, g, b], axis=-1)
    cx, cy, rad = width * 0.62, height * 0.4, min(width, height) * 0.22
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < rad ** 2] = [250.0, 20.0, 40.0]
    img[height // 8: max(height // 3, height // 8 + 1), width // 10: max(width // 4, width // 10 + 1)] = [4.0, 4.0, 4.0]
    img[height * 2 // 3: height * 2 // 3 + max(height // 12, 1), :] = [255.0, 255.0, 255.0]
    # 1-px checkerboard: the hardest case for the filter (overshoot clipped at 0 and 255).
    y0, y1 = height * 3 // 4, height * 3 // 4 + max(height // 8, 1)
    x0, x1 = width * 5 // 8, width * 5 // 8 + max(width // 8, 1)
    checker = ((yy[y0:y1, x0:x1] + xx[y0:y1, x0:x1]) % 2) * 255.0
    img[y0:y1, x0:x1] = checker[..., None]
    if noise_box:
        ny0, ny1 = height // 2, height // 2 + max(height // 6, 1)
        nx0, nx1 = width // 3, width // 3 + max(width // 6, 1)
        img[ny0:ny1, nx0:nx1] = rng.integers(0, 256, size=(ny1 - ny0, nx1 - nx0, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make_rgba(width, height, seed):
    rgb = synth_rgb(width, height, seed)
    yy, xx = np.mgrid[0:height, 0:width]
    alpha = (xx * 255 // max(width - 1, 1)).astype(np.uint8)
    alpha[: height // 4, :] = 0  # fully transparent band whose colour PIL keeps (convert("RGB") drops alpha)
    alpha[height // 4: height // 2, : width // 3] = 255
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def make_palette_frames(width, height, seed):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, size=(256, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    idx0 = ((xx // 4 + yy // 3 * 7 + (xx * yy) // 50) % 256).astype(np.uint8)
    idx1 = ((idx0.astype(np.int32) + 97) % 256).astype(np.uint8)
    frames = []
    for idx in (idx0, idx1):
        im = Image.fromarray(idx, "P")
        im.putpalette(palette.reshape(-1).tolist())
        frames.append(im)
    return frames


def make_palette_trns(width, height, seed):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, size=(16, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    idx = ((xx // 6 + yy // 5) % 16).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(palette.reshape(-1).tolist())
    # Index 3 fully transparent, 5 half transparent: convert("RGB") still uses the palette colours.
    trns = bytes([255, 255, 255, 0, 255, 128] + [255] * 10)
    return im, trns


# ---------------------------------------------------------------------------------------------------------------
# Files.
# ---------------------------------------------------------------------------------------------------------------

def write_images(img_dir):
    """Writes the image files; returns [(file, format, lossy)] in a fixed order."""
    os.makedirs(img_dir, exist_ok=True)
    files = []

    def save(im, name, fmt, lossy=False, **kw):
        im.save(os.path.join(img_dir, name), fmt, **kw)
        files.append((name, fmt, lossy))

    save(Image.fromarray(synth_rgb(448, 448, 1)), "rgb_448x448.png", "PNG")
    save(Image.fromarray(synth_rgb(644, 476, 2)), "rgb_644x476.png", "PNG")
    save(Image.fromarray(synth_rgb(30, 1000, 3)), "thin_30x1000.png", "PNG")
    save(Image.fromarray(synth_rgb(1000, 30, 4)), "wide_1000x30.png", "PNG")
    save(Image.fromarray(synth_rgb(57, 91, 5)), "odd_57x91.png", "PNG")
    save(Image.fromarray(synth_rgb(1500, 1100, 6, noise_box=False)), "large_1500x1100.png", "PNG")
    save(Image.fromarray(synth_rgb(40, 30, 7)), "tiny_40x30.png", "PNG")
    save(Image.fromarray(synth_rgb(200, 150, 8)).convert("L"), "gray_200x150.png", "PNG")
    la = Image.merge("LA", (Image.fromarray(synth_rgb(80, 80, 9)).convert("L"),
                            make_rgba(80, 80, 9).getchannel("A")))
    save(la, "gray_alpha_80x80.png", "PNG")
    save(make_rgba(160, 120, 10), "rgba_160x120.png", "PNG")
    pal, trns = make_palette_trns(90, 60, 11)
    save(pal, "palette_trns_90x60.png", "PNG", transparency=trns)
    frames = make_palette_frames(120, 90, 12)
    save(frames[0], "palette_2frames_120x90.gif", "GIF", save_all=True, append_images=frames[1:],
         duration=100, loop=0)
    # Transparent GIF pixels: PIL maps the transparent index through the palette; Skia leaves them colourless.
    gif = make_palette_frames(64, 48, 20)[0]
    save(gif, "gif_trns_64x48.gif", "GIF", transparency=5)
    # A first frame smaller than the logical screen: PIL fills the rest with the transparency index (or index 0).
    for name, trns in (("gif_small_frame_trns_80x60.gif", 5), ("gif_small_frame_80x60.gif", None)):
        buf = io.BytesIO()
        gif.save(buf, "GIF", **({} if trns is None else {"transparency": trns}))
        data = bytearray(buf.getvalue())
        data[6:10] = struct.pack("<HH", 80, 60)  # enlarge the logical screen; the 64x48 frame stays at (0, 0)
        with open(os.path.join(img_dir, name), "wb") as f:
            f.write(data)
        files.append((name, "GIF", False))
    save(Image.fromarray(synth_rgb(320, 240, 13)), "photo_q90_320x240.jpg", "JPEG", lossy=True, quality=90)
    save(Image.fromarray(synth_rgb(200, 200, 14)), "lossless_200x200.webp", "WEBP", lossless=True)
    save(Image.fromarray(synth_rgb(200, 200, 15)), "lossy_q80_200x200.webp", "WEBP", lossy=True, quality=80)
    save(Image.fromarray(synth_rgb(130, 70, 16)), "bmp24_130x70.bmp", "BMP")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored image must be rotated 90 degrees clockwise to display.
    save(Image.fromarray(synth_rgb(96, 64, 17)), "exif_orient6_96x64.jpg", "JPEG", lossy=True, quality=92,
         exif=exif.tobytes())

    bad_dir = os.path.join(img_dir, "bad")
    os.makedirs(bad_dir, exist_ok=True)
    # 500x2: aspect ratio 250 > 200, which smart_resize rejects.
    Image.fromarray(synth_rgb(500, 2, 18, noise_box=False)).save(os.path.join(bad_dir, "aspect_500x2.png"), "PNG")
    # A valid TIFF: a real image in a format the plugin does not accept.
    Image.fromarray(synth_rgb(32, 32, 19)).save(os.path.join(bad_dir, "unsupported_32x32.tif"), "TIFF")
    return files


# (id, file, min_pixels, max_pixels, apply_exif_orientation, why)
CASES = [
    ("rgb_448x448", "rgb_448x448.png", None, None, False, "already a multiple of 28: PIL's same-size copy path"),
    ("rgb_644x476", "rgb_644x476.png", None, None, False, "grid 34x46, merged 17x23 (not a multiple of 4)"),
    ("thin_30x1000", "thin_30x1000.png", None, None, False, "tall and thin: width rounds to a single 28"),
    ("wide_1000x30", "wide_1000x30.png", None, None, False, "wide and flat"),
    ("odd_57x91", "odd_57x91.png", None, None, False, "odd sizes, both passes downscale slightly"),
    ("odd_57x91_min50176", "odd_57x91.png", 50176, None, False, "min_pixels override: upscale path (ceil)"),
    ("large_1500x1100_max50176", "large_1500x1100.png", None, 50176, False,
     "max_pixels override: strong downscale (support widened by the scale)"),
    ("tiny_40x30", "tiny_40x30.png", None, None, False, "below min_pixels 3136: upscaled"),
    ("gray_200x150", "gray_200x150.png", None, None, False, "mode L expanded to RGB"),
    ("gray_alpha_80x80", "gray_alpha_80x80.png", None, None, False, "mode LA: alpha dropped, L expanded"),
    ("rgba_160x120", "rgba_160x120.png", None, None, False, "RGBA: alpha dropped, colour under alpha 0 kept"),
    ("palette_trns_90x60", "palette_trns_90x60.png", None, None, False, "mode P with tRNS: palette colours"),
    ("palette_2frames_120x90", "palette_2frames_120x90.gif", None, None, False, "GIF: first frame only"),
    ("gif_trns_64x48", "gif_trns_64x48.gif", None, None, False, "GIF transparency index: palette colour kept"),
    ("gif_small_frame_trns_80x60", "gif_small_frame_trns_80x60.gif", None, None, False,
     "GIF frame smaller than the screen, with transparency"),
    ("gif_small_frame_80x60", "gif_small_frame_80x60.gif", None, None, False,
     "GIF frame smaller than the screen, no transparency (filled with index 0)"),
    ("photo_q90_320x240", "photo_q90_320x240.jpg", None, None, False, "JPEG quality 90, 4:2:0"),
    ("lossless_200x200", "lossless_200x200.webp", None, None, False, "WebP lossless"),
    ("lossy_q80_200x200", "lossy_q80_200x200.webp", None, None, False, "WebP lossy quality 80"),
    ("bmp24_130x70", "bmp24_130x70.bmp", None, None, False, "height 70/28 = 2.5 rounds half-to-even to 2"),
    ("exif_orient6_96x64", "exif_orient6_96x64.jpg", None, None, False,
     "EXIF orientation 6 NOT applied (HF and qwen_vl_utils do not transpose)"),
    ("exif_orient6_96x64_transposed", "exif_orient6_96x64.jpg", None, None, True,
     "same file with ImageOps.exif_transpose (ApplyExifOrientation = true)"),
]


def npz_bytes(arrays):
    """np.savez_compressed with fixed zip timestamps, so reruns are byte-identical."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data.getvalue(), compresslevel=9)
    return buf.getvalue()


def orientation_arrays():
    """PIL's ImageOps.exif_transpose of one small RGB image for each EXIF orientation 1..8."""
    src = np.random.default_rng(20).integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
    out = {"source": src}
    for k in range(1, 9):
        im = Image.fromarray(src)
        im.getexif()[0x0112] = k
        out[f"orientation_{k}"] = np.array(ImageOps.exif_transpose(im))
    return out


def smart_resize_cases():
    """(height, width, min_pixels, max_pixels) -> result or error, from the ported smart_resize."""
    cases = []
    sizes = [(70, 70), (42, 98), (98, 126), (126, 42), (14, 14), (13, 700), (28, 28), (720, 1280), (1280, 720),
             (1, 150), (5, 1000), (30, 1000), (1000, 30), (91, 57), (476, 644), (1100, 1500), (2000, 3000),
             (4000, 6000), (10, 2000), (11, 2000), (99, 19800), (100, 20000), (100, 20001), (3, 3), (27, 29),
             (1079, 1921), (2160, 3840), (7, 1400), (50, 9999)]
    budgets = [(3136, 12845056), (56 * 56, 28 * 28 * 1280), (3136, 50176), (50176, 12845056), (200704, 200704),
               (3136, 784), (3136, 3136)]
    for h, w in sizes:
        for mn, mx in budgets:
            entry = {"height": h, "width": w, "min_pixels": mn, "max_pixels": mx}
            try:
                rh, rw = smart_resize(h, w, 28, mn, mx)
                entry.update(resized_height=rh, resized_width=rw)
            except ValueError as e:
                entry["error"] = str(e)
            cases.append(entry)
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixture folder (default: %(default)s)")
    args = ap.parse_args()

    img_dir = os.path.join(args.out, "images")
    exp_dir = os.path.join(args.out, "expected")
    os.makedirs(exp_dir, exist_ok=True)
    files = {name: (fmt, lossy) for name, fmt, lossy in write_images(img_dir)}

    entries = []
    for case_id, file, min_px, max_px, transpose, why in CASES:
        fmt, lossy = files[file]
        min_pixels = CHECKPOINT_MIN_PIXELS if min_px is None else min_px
        max_pixels = CHECKPOINT_MAX_PIXELS if max_px is None else max_px
        # qwen_vl_utils.fetch_image / a plain Image.open: first frame, no EXIF transpose.
        with Image.open(os.path.join(img_dir, file)) as im:
            im.load()
            mode = im.mode
            if transpose:
                im = ImageOps.exif_transpose(im)
            decoded = np.array(im.convert("RGB"))
            resized, pixel_values, grid = preprocess(im, min_pixels, max_pixels)
        arrays = {"resized": resized, "pixel_values": pixel_values, "grid_thw": np.array(grid, dtype=np.int64)}
        if lossy:
            # Decoders may differ on lossy formats: the parity test then runs the preprocessing on these pixels.
            arrays = {"decoded": decoded, **arrays}
        data = npz_bytes(arrays)
        with open(os.path.join(exp_dir, case_id + ".npz"), "wb") as f:
            f.write(data)
        entries.append({
            "id": case_id,
            "file": "images/" + file,
            "format": fmt,
            "lossy": lossy,
            "pil_mode": mode,
            "why": why,
            "min_pixels": min_pixels,
            "max_pixels": max_pixels,
            "apply_exif_orientation": transpose,
            "decoded_height": int(decoded.shape[0]),
            "decoded_width": int(decoded.shape[1]),
            "decoded_sha256": hashlib.sha256(np.ascontiguousarray(decoded).tobytes()).hexdigest(),
            "resized_height": int(resized.shape[0]),
            "resized_width": int(resized.shape[1]),
            "grid_thw": [int(v) for v in grid],
            "rows": int(pixel_values.shape[0]),
            "expected": "expected/" + case_id + ".npz",
        })
        print(f"{case_id:32s} {decoded.shape[1]:5d}x{decoded.shape[0]:<5d} -> {resized.shape[1]}x{resized.shape[0]}"
              f"  grid {grid}  rows {pixel_values.shape[0]}")

    with open(os.path.join(exp_dir, "orientation.npz"), "wb") as f:
        f.write(npz_bytes(orientation_arrays()))

    manifest = {
        "generator": "tools/vision/make_image_fixtures.py",
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "patch_size": PATCH_SIZE,
        "temporal_patch_size": TEMPORAL_PATCH_SIZE,
        "merge_size": MERGE_SIZE,
        "image_mean": OPENAI_CLIP_MEAN,
        "image_std": OPENAI_CLIP_STD,
        "rescale_factor": 1 / 255,
        "cases": entries,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "smart_resize_cases.json"), "w") as f:
        json.dump(smart_resize_cases(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
