#!/usr/bin/env bash
# Installs the Debian packages JudgeHost needs at run and test time, only those missing:
#   ffmpeg (ffmpeg + ffprobe): video decoding in src/Modalities.Video, compressed audio in src/Modalities.Audio.
#   libsoxr0: resampling to 16 kHz in src/Modalities.Audio (librosa's soxr_hq; ffmpeg's libswresample pulls it in too).
#   librdkit-dev + libboost-dev (RDKit's C++ headers and libraries, which include Boost's headers): the molecule
#   plugin's native shim (src/Modalities.Molecule/native) is compiled against them by the plugin's build and loads
#   librdkit1 at run time.
#   chromium: the headless browser the web viewer's tests drive (tests/JudgeHost.Tests/Service/ViewerBrowserTests.cs,
#   over the DevTools protocol); they fail, naming this script, when it is missing.
# Needs root or password-less sudo when something is missing; prints what it installs.
set -euo pipefail
need=()
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || need+=(ffmpeg)
# grep reads all of ldconfig's output (no -q): an early exit would kill ldconfig with SIGPIPE, and pipefail would call it missing.
{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep 'libsoxr\.so\.0 ' >/dev/null || need+=(libsoxr0)
[ -f /usr/include/rdkit/GraphMol/GraphMol.h ] || need+=(librdkit-dev)
[ -f /usr/include/boost/version.hpp ] || need+=(libboost-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]} == 0)); then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "JudgeHost needs the Debian packages: ${need[*]}. Install them as root: apt-get install -y ${need[*]}" >&2
    exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
