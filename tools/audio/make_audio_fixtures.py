#!/usr/bin/python3
"""Parity fixtures for the audio decoding, resampling and Whisper features in src/Modalities.Audio.

Makes small real recordings (speech from espeak-ng, tones, sweeps and noise from sox, compressed copies from
ffmpeg) plus a few broken files, and for each usable one computes what Qwen2.5-Omni's reference pipeline produces:

  qwen-omni-utils `process_audio_info`  ->  `librosa.load(path, sr=16000)` (librosa 0.10/0.11 `core/audio.py`):
      soundfile.read(dtype=float32, always_2d=False).T   (libsndfile; M4A falls back to audioread's ffmpeg backend)
      to_mono: np.mean(y, axis=0)
      resample(res_type="soxr_hq"): soxr.resample(y, sr, 16000, quality="HQ") then util.fix_length(ceil(n * ratio))
  Qwen2_5OmniProcessor -> WhisperFeatureExtractor(feature_size=128)(audio, sampling_rate=16000,
      padding="max_length", return_attention_mask=True)  (transformers `models/whisper/feature_extraction_whisper.py`,
      torch path `_torch_extract_fbank_features`; filters from `audio_utils.mel_filter_bank`)

librosa, python-soxr and transformers are not installable here (no PyPI), so the pieces are ported below, line by
line, from librosa `core/audio.py` (load, to_mono, resample), librosa `util/utils.py` (fix_length, buf_to_float),
python-soxr `src/soxr/__init__.py` + `src/soxr_ext.cpp` (`resample` -> `csoxr_divide_proc`), and transformers
`audio_utils.py` (hertz_to_mel, mel_to_hertz, _create_triangular_filter_bank, mel_filter_bank) and
`models/whisper/feature_extraction_whisper.py` / `feature_extraction_sequence_utils.py` (pad, truncation, the torch
fbank path) as of transformers v4.5x (2025). python-soxr is replaced by ctypes calls into the same libsoxr API it
wraps (Debian's libsoxr0 0.1.3; the PyPI wheel bundles its own build of libsoxr 0.1.3).

Runs with Debian's packages only:

    apt-get install -y python3-numpy python3-torch python3-soundfile libsoxr0 espeak-ng sox ffmpeg
    /usr/bin/python3 tools/audio/make_audio_fixtures.py

Output (committed): tests/Modalities.Audio.Tests/Fixtures/{audio/*, bad/*, expected/*.npz, manifest.json}.
"""

import ctypes
import hashlib
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import soundfile as sf
import torch

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "Modalities.Audio.Tests", "Fixtures")

SPEECH = "Please judge whether this answer is correct."
SAMPLE_RATE = 16000

# WhisperFeatureExtractor settings of Qwen2.5-Omni's preprocessor_config.json.
FEATURE_SIZE = 128
HOP_LENGTH = 160
N_FFT = 400
CHUNK_LENGTH = 30
N_SAMPLES = CHUNK_LENGTH * SAMPLE_RATE
NB_MAX_FRAMES = N_SAMPLES // HOP_LENGTH


# ---------------------------------------------------------------------------------------------------------------
# python-soxr, ported onto libsoxr through ctypes.
# ---------------------------------------------------------------------------------------------------------------

class SoxrIoSpec(ctypes.Structure):
    _fields_ = [("itype", ctypes.c_int), ("otype", ctypes.c_int), ("scale", ctypes.c_double),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]


class SoxrQualitySpec(ctypes.Structure):
    _fields_ = [("precision", ctypes.c_double), ("phase_response", ctypes.c_double),
                ("passband_end", ctypes.c_double), ("stopband_begin", ctypes.c_double),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]


SOXR = ctypes.CDLL("libsoxr.so.0")
SOXR.soxr_io_spec.restype = SoxrIoSpec
SOXR.soxr_io_spec.argtypes = [ctypes.c_int, ctypes.c_int]
SOXR.soxr_quality_spec.restype = SoxrQualitySpec
SOXR.soxr_quality_spec.argtypes = [ctypes.c_ulong, ctypes.c_ulong]
SOXR.soxr_create.restype = ctypes.c_void_p
SOXR.soxr_create.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_uint, ctypes.POINTER(ctypes.c_char_p),
                             ctypes.POINTER(SoxrIoSpec), ctypes.POINTER(SoxrQualitySpec), ctypes.c_void_p]
SOXR.soxr_process.restype = ctypes.c_char_p
SOXR.soxr_process.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
                              ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
SOXR.soxr_delete.argtypes = [ctypes.c_void_p]
SOXR.soxr_version.restype = ctypes.c_char_p
SOXR_FLOAT32_I = 0
SOXR_HQ = 4  # SOXR_20_BITQ


def csoxr_divide_proc_float32(in_rate, out_rate, x):
    """soxr_ext.cpp csoxr_divide_proc<float> for one channel (x: C-contiguous float32 [ilen])."""
    io_spec = SOXR.soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
    quality_spec = SOXR.soxr_quality_spec(SOXR_HQ, 0)
    err = ctypes.c_char_p()
    soxr = SOXR.soxr_create(in_rate, out_rate, 1, ctypes.byref(err), ctypes.byref(io_spec),
                            ctypes.byref(quality_spec), None)
    if err.value is not None:
        raise RuntimeError(err.value)
    ilen = x.shape[0]
    olen = int(ilen * out_rate / in_rate + 1)          # size_t olen = ilen * out_rate / in_rate + 1
    chunk_len = int(48000 * in_rate / out_rate)        # size_t chunk_len = 48000 * in_rate / out_rate
    y = np.zeros(olen, dtype=np.float32)
    out_pos = 0
    odone = ctypes.c_size_t(0)
    err = None
    for idx in range(0, ilen, chunk_len):
        n = min(chunk_len, ilen - idx)
        err = SOXR.soxr_process(soxr, x.ctypes.data + 4 * idx, n, None,
                                y.ctypes.data + 4 * out_pos, olen - out_pos, ctypes.byref(odone))
        out_pos += odone.value
    err = SOXR.soxr_process(soxr, None, 0, None, y.ctypes.data + 4 * out_pos, olen - out_pos, ctypes.byref(odone))
    out_pos += odone.value
    SOXR.soxr_delete(soxr)
    if err is not None:
        raise RuntimeError(err)
    return y[:out_pos]


def soxr_resample(x, in_rate, out_rate):
    """python-soxr `resample(x, in_rate, out_rate, quality='HQ')` for a 1-D float32 array."""
    x = np.ascontiguousarray(x)
    return csoxr_divide_proc_float32(float(in_rate), float(out_rate), x)


# ---------------------------------------------------------------------------------------------------------------
# librosa.load, ported.
# ---------------------------------------------------------------------------------------------------------------

def fix_length(data, size):
    """librosa.util.fix_length (axis=-1, zero padding)."""
    n = data.shape[-1]
    if n > size:
        return data[..., :size]
    if n < size:
        return np.pad(data, [(0, size - n)], mode="constant")
    return data


def resample(y, orig_sr, target_sr):
    """librosa.resample(y, orig_sr=..., target_sr=..., res_type="soxr_hq", fix=True, scale=False)."""
    if orig_sr == target_sr:
        return y
    ratio = float(target_sr) / orig_sr
    n_samples = int(np.ceil(y.shape[-1] * ratio))
    y_hat = np.apply_along_axis(soxr_resample, axis=-1, arr=y, in_rate=orig_sr, out_rate=target_sr)
    y_hat = fix_length(y_hat, size=n_samples)
    return np.asarray(y_hat, dtype=y.dtype)


def to_mono(y):
    """librosa.to_mono."""
    if y.ndim > 1:
        y = np.mean(y, axis=tuple(range(y.ndim - 1)))
    return y


def buf_to_float(x, n_bytes=2, dtype=np.float32):
    """librosa.util.buf_to_float."""
    scale = 1.0 / float(1 << ((8 * n_bytes) - 1))
    fmt = "<i{:d}".format(n_bytes)
    return scale * np.frombuffer(x, fmt).astype(dtype)


def audioread_ffmpeg_load(path, dtype=np.float32):
    """librosa __audioread_load over audioread's FFmpegAudioFile (ffmpeg -i PATH -f s16le -), whole file."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                            "stream=sample_rate,channels", "-of", "json", path], check=True, capture_output=True)
    stream = json.loads(probe.stdout)["streams"][0]
    sr_native, n_channels = int(stream["sample_rate"]), int(stream["channels"])
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-"],
                         check=True, capture_output=True).stdout
    y = buf_to_float(raw, dtype=dtype)
    if n_channels > 1:
        y = y.reshape((-1, n_channels)).T
    return y, sr_native


def librosa_load(path, sr=SAMPLE_RATE):
    """librosa.load(path, sr=16000): soundfile first, audioread (ffmpeg) when libsndfile cannot open the file."""
    try:
        with sf.SoundFile(path) as sf_desc:
            sr_native = sf_desc.samplerate
            y = sf_desc.read(frames=-1, dtype=np.float32, always_2d=False).T
        backend = "soundfile"
    except sf.SoundFileRuntimeError:
        y, sr_native = audioread_ffmpeg_load(path)
        backend = "audioread-ffmpeg"
    native = y
    y = to_mono(y)
    y = resample(y, orig_sr=sr_native, target_sr=sr)
    return y, sr_native, native, backend


# ---------------------------------------------------------------------------------------------------------------
# transformers WhisperFeatureExtractor (torch path) as Qwen2_5OmniProcessor calls it, ported.
# ---------------------------------------------------------------------------------------------------------------

def hertz_to_mel(freq):
    """audio_utils.hertz_to_mel(freq, mel_scale="slaney") for a scalar."""
    min_log_hertz = 1000.0
    min_log_mel = 15.0
    logstep = 27.0 / np.log(6.4)
    mels = 3.0 * freq / 200.0
    if freq >= min_log_hertz:
        mels = min_log_mel + np.log(freq / min_log_hertz) * logstep
    return mels


def mel_to_hertz(mels):
    """audio_utils.mel_to_hertz(mels, mel_scale="slaney") for an array."""
    min_log_hertz = 1000.0
    min_log_mel = 15.0
    logstep = np.log(6.4) / 27.0
    freq = 200.0 * mels / 3.0
    log_region = mels >= min_log_mel
    freq[log_region] = min_log_hertz * np.exp(logstep * (mels[log_region] - min_log_mel))
    return freq


def _create_triangular_filter_bank(fft_freqs, filter_freqs):
    filter_diff = np.diff(filter_freqs)
    slopes = np.expand_dims(filter_freqs, 0) - np.expand_dims(fft_freqs, 1)
    down_slopes = -slopes[:, :-2] / filter_diff[:-1]
    up_slopes = slopes[:, 2:] / filter_diff[1:]
    return np.maximum(np.zeros(1), np.minimum(down_slopes, up_slopes))


def mel_filter_bank(num_frequency_bins, num_mel_filters, min_frequency, max_frequency, sampling_rate):
    """audio_utils.mel_filter_bank(..., norm="slaney", mel_scale="slaney"), float64 [bins, mels]."""
    mel_min = hertz_to_mel(min_frequency)
    mel_max = hertz_to_mel(max_frequency)
    mel_freqs = np.linspace(mel_min, mel_max, num_mel_filters + 2)
    filter_freqs = mel_to_hertz(mel_freqs)
    fft_freqs = np.linspace(0, sampling_rate // 2, num_frequency_bins)
    mel_filters = _create_triangular_filter_bank(fft_freqs, filter_freqs)
    enorm = 2.0 / (filter_freqs[2: num_mel_filters + 2] - filter_freqs[:num_mel_filters])
    mel_filters *= np.expand_dims(enorm, 0)
    return mel_filters


MEL_FILTERS = mel_filter_bank(1 + N_FFT // 2, FEATURE_SIZE, 0.0, 8000.0, SAMPLE_RATE)


def pad(raw_speech):
    """SequenceFeatureExtractor.pad(padding="max_length", max_length=n_samples, truncation=True,
    return_attention_mask=True) for one float32 [n, 1] input."""
    x = raw_speech[:N_SAMPLES]
    n = x.shape[0]
    attention_mask = np.ones(n, dtype=np.int32)
    difference = N_SAMPLES - n
    attention_mask = np.pad(attention_mask, (0, difference))
    x = np.pad(x, ((0, difference), (0, 0)), "constant", constant_values=0.0)
    return x, attention_mask


def whisper_features(audio):
    """WhisperFeatureExtractor.__call__ for one mono float32 waveform, torch path; returns features, mask."""
    raw_speech = [np.asarray([audio]).T]                           # [n, 1]
    padded, attention_mask = pad(raw_speech[0])
    input_features = np.stack([padded]).transpose(2, 0, 1)          # [1, 1, n_samples]
    waveform = torch.from_numpy(input_features[0]).to("cpu", torch.float32)   # [1, n_samples]
    window = torch.hann_window(N_FFT, device="cpu")
    stft = torch.stft(waveform, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel_filters = torch.from_numpy(MEL_FILTERS).to("cpu", torch.float32)
    mel_spec = mel_filters.T @ magnitudes
    log_spec = torch.clamp(mel_spec, min=1e-10).log10()
    if waveform.dim() == 2:
        max_val = log_spec.max(dim=2, keepdim=True)[0].max(dim=1, keepdim=True)[0]
        log_spec = torch.maximum(log_spec, max_val - 8.0)
    else:
        log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    log_spec = (log_spec + 4.0) / 4.0
    features = log_spec.numpy()[0]                                  # [128, 3000]
    mask = attention_mask[::HOP_LENGTH]                             # rescale from sample to feature
    return features.astype(np.float32), mask.astype(np.int64)


# ---------------------------------------------------------------------------------------------------------------
# Test recordings.
# ---------------------------------------------------------------------------------------------------------------

def run(*args):
    subprocess.run(list(args), check=True, capture_output=True)


def make_recordings(tmp, audio_dir):
    """Writes the recordings; returns [(id, file name, kind)]."""
    speech = os.path.join(tmp, "speech.wav")                        # espeak-ng: 22050 Hz, 16-bit, mono
    run("espeak-ng", "-v", "en-us", "-s", "150", "-w", speech, SPEECH)
    sox = ["sox", "-R"]

    def out(name):
        return os.path.join(audio_dir, name)

    # PCM 16-bit at espeak's 22050 Hz: 22050 -> 16000 through soxr_hq.
    run(*sox, speech, out("speech_22050_s16.wav"), "trim", "0.3", "1.0")
    # Stereo 24-bit at 24 kHz (extensible header): speech left, a tone right; mono mix + 24000 -> 16000.
    run(*sox, speech, "-r", "24000", "-b", "24", os.path.join(tmp, "left.wav"), "trim", "0.6", "0.4")
    run(*sox, "-n", "-r", "24000", "-b", "24", "-c", "1", os.path.join(tmp, "right.wav"), "synth", "0.4", "sine", "1200", "vol", "0.3")
    run(*sox, "-M", os.path.join(tmp, "left.wav"), os.path.join(tmp, "right.wav"), "-b", "24", out("speech_tone_24000_s24_stereo.wav"))
    # float32 tone at 48 kHz.
    run(*sox, "-n", "-r", "48000", "-e", "floating-point", "-b", "32", "-c", "1", out("tone_48000_f32.wav"), "synth", "0.15", "sine", "440", "vol", "0.8")
    # 8-bit unsigned white noise at 8 kHz (upsampling 8000 -> 16000).
    run(*sox, "-n", "-r", "8000", "-e", "unsigned-integer", "-b", "8", "-c", "1", out("noise_8000_u8.wav"), "synth", "1", "whitenoise", "vol", "0.5")
    # 32-bit PCM sweep at 32 kHz.
    run(*sox, "-n", "-r", "32000", "-e", "signed-integer", "-b", "32", "-c", "1", out("sweep_32000_s32.wav"), "synth", "0.3", "sine", "100-7000", "vol", "0.7")
    # float64 at 11025 Hz: pink noise.
    run(*sox, "-n", "-r", "11025", "-e", "floating-point", "-b", "64", "-c", "1", out("pink_11025_f64.wav"), "synth", "0.4", "pinknoise", "vol", "0.4")
    # 6 channels, 16-bit, already 16 kHz (no resampling; WAVE_FORMAT_EXTENSIBLE): speech on 2, tones on the rest.
    run(*sox, speech, "-r", "16000", os.path.join(tmp, "s16k.wav"), "trim", "0.5", "0.15")
    run(*sox, "-n", "-r", "16000", "-b", "16", "-c", "1", os.path.join(tmp, "t1.wav"), "synth", "0.15", "sine", "300", "vol", "0.2")
    run(*sox, "-n", "-r", "16000", "-b", "16", "-c", "1", os.path.join(tmp, "t2.wav"), "synth", "0.15", "square", "800", "vol", "0.1")
    run(*sox, "-M", os.path.join(tmp, "s16k.wav"), os.path.join(tmp, "t1.wav"), os.path.join(tmp, "s16k.wav"),
        os.path.join(tmp, "t2.wav"), os.path.join(tmp, "t1.wav"), os.path.join(tmp, "t2.wav"), out("mix_16000_s16_6ch.wav"))
    # Compressed: FLAC at 16 kHz (no resampling), FLAC 24-bit stereo at 44.1 kHz, Ogg Vorbis, MP3, M4A (AAC).
    run(*sox, speech, "-r", "16000", out("speech_16000.flac"), "trim", "0.2", "1.2")
    run(*sox, "-n", "-r", "44100", "-b", "24", "-c", "2", out("chord_44100_s24_stereo.flac"), "synth", "0.3", "sine", "262", "sine", "330", "vol", "0.5")
    run("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", speech, "-t", "1.2", "-c:a", "libvorbis", "-q:a", "3", "-fflags", "+bitexact", out("speech_22050.ogg"))
    run("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", speech, "-t", "1.2", "-c:a", "libmp3lame", "-b:a", "48k", "-fflags", "+bitexact", out("speech_22050.mp3"))
    run("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", speech, "-t", "1.2", "-c:a", "aac", "-b:a", "48k", "-fflags", "+bitexact", "-flags:a", "+bitexact", out("speech_22050.m4a"))
    # Longer than the 30-s window: 34 s at 1 kHz, 8-bit (the processor keeps the first 30 s).
    run(*sox, "-n", "-r", "1000", "-e", "unsigned-integer", "-b", "8", "-c", "1", out("long_1000_u8_34s.wav"), "synth", "34", "sine", "20-480", "vol", "0.6")
    return [
        ("speech_22050_s16", "speech_22050_s16.wav", "wav"),
        ("speech_tone_24000_s24_stereo", "speech_tone_24000_s24_stereo.wav", "wav"),
        ("tone_48000_f32", "tone_48000_f32.wav", "wav"),
        ("noise_8000_u8", "noise_8000_u8.wav", "wav"),
        ("sweep_32000_s32", "sweep_32000_s32.wav", "wav"),
        ("pink_11025_f64", "pink_11025_f64.wav", "wav"),
        ("mix_16000_s16_6ch", "mix_16000_s16_6ch.wav", "wav"),
        ("speech_16000_flac", "speech_16000.flac", "flac"),
        ("chord_44100_s24_stereo_flac", "chord_44100_s24_stereo.flac", "flac"),
        ("speech_22050_ogg", "speech_22050.ogg", "ogg"),
        ("speech_22050_mp3", "speech_22050.mp3", "mp3"),
        ("speech_22050_m4a", "speech_22050.m4a", "m4a"),
        ("long_1000_u8_34s", "long_1000_u8_34s.wav", "wav"),
    ]


def wav_header(fmt_tag, channels, rate, bits, data_bytes, block_align=None):
    block_align = block_align if block_align is not None else channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block_align) % (1 << 32), block_align, bits)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data_bytes))


def make_bad_files(bad_dir):
    """Broken inputs; each must be refused with an InvalidMediaException naming the file."""
    pcm = struct.pack("<800h", *([1000, -1000] * 400))
    files = {
        "empty.wav": b"",
        "zero_samples.wav": wav_header(1, 1, 16000, 16, 0),
        "corrupt_header.wav": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + b"fmt " + struct.pack("<I", 6) + b"\x01\x00\x01\x00\x80\x3e",
        "no_fmt_chunk.wav": b"RIFF" + struct.pack("<I", 4 + 8 + len(pcm)) + b"WAVE" + b"data" + struct.pack("<I", len(pcm)) + pcm,
        "absurd_rate.wav": wav_header(1, 1, 4_000_000_000, 16, len(pcm)) + pcm,
        "zero_rate.wav": wav_header(1, 1, 0, 16, len(pcm)) + pcm,
        "bad_bits.wav": wav_header(1, 1, 16000, 40, len(pcm), block_align=5) + pcm,
        "unsupported_codec.wav": wav_header(0x7A7A, 1, 16000, 16, len(pcm)) + pcm,
        "not_audio.mp3": b"This is a text file, not an MP3 recording.\n" * 20,
    }
    for name, data in files.items():
        with open(os.path.join(bad_dir, name), "wb") as f:
            f.write(data)
    return sorted(files)


# ---------------------------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------------------------

def save_npz(path, arrays):
    """np.savez_compressed with fixed zip timestamps (deterministic bytes)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def main():
    audio_dir = os.path.join(OUT, "audio")
    bad_dir = os.path.join(OUT, "bad")
    exp_dir = os.path.join(OUT, "expected")
    for d in (audio_dir, bad_dir, exp_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    with tempfile.TemporaryDirectory() as tmp:
        cases = make_recordings(tmp, audio_dir)
    bad = make_bad_files(bad_dir)

    save_npz(os.path.join(exp_dir, "mel_filters.npz"), {"mel_filters": MEL_FILTERS.astype(np.float32),
                                                        "hann_window": torch.hann_window(N_FFT).numpy()})
    manifest = {"libsoxr": SOXR.soxr_version().decode(), "libsndfile": sf.__libsndfile_version__,
                "torch": torch.__version__, "numpy": np.__version__, "cases": [], "bad": bad}
    for case_id, name, fmt in cases:
        path = os.path.join(audio_dir, name)
        y, sr_native, native, backend = librosa_load(path)
        features, mask = whisper_features(y)
        channels = 1 if native.ndim == 1 else native.shape[0]
        frames = native.shape[-1]
        long = y.shape[0] > N_SAMPLES
        arrays = {"feature_attention_mask": mask, "waveform_head": y[:4000].astype(np.float32)}
        if long:
            # 1.5 MB of features would not compress: keep both ends of the window.
            arrays["input_features_head"] = features[:, :64]
            arrays["input_features_tail"] = features[:, -64:]
        else:
            # Columns past the audio (plus the 2 that still see it through the STFT window) hold one value, the
            # floor max - 8 mapped by (x + 4) / 4: keep the columns before and that value.
            kept = int(mask.sum()) + 4
            floor = features[0, -1]
            assert np.all(features[:, kept:] == floor), case_id
            arrays["input_features"] = features[:, :kept]
            arrays["padding_value"] = np.array([floor], dtype=np.float32)
        save_npz(os.path.join(exp_dir, case_id + ".npz"), arrays)
        manifest["cases"].append({
            "id": case_id,
            "file": "audio/" + name,
            "format": fmt,
            "backend": backend,
            "sample_rate": int(sr_native),
            "channels": int(channels),
            "frames": int(frames),
            "samples_16k": int(y.shape[0]),
            "waveform_sha256": hashlib.sha256(y.astype("<f4")[:N_SAMPLES].tobytes()).hexdigest(),
            "valid_frames": int(mask.sum()),
            "long": bool(long),
        })
        print(f"{case_id:32s} {backend:16s} {sr_native:6d} Hz x{channels} {frames:7d} frames -> {y.shape[0]:7d} samples,"
              f" {int(mask.sum())} valid frames")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(OUT) for n in ns)
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    sys.exit(main())
