#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine of this project's kind:
#   1. Debian packages that are missing (PyTorch for the trainer, image codecs, OpenBLAS);
#   2. the ONNX Runtime 1.30.0 native library, taken from the onnxruntime-node npm tarball,
#      sha256-checked and cached outside git (no NuGet package for ONNX Runtime restores here);
#   3. the .NET restore and build.
# Each step is skipped when already done. Options: --no-build, --no-python, --with-browser
# (Debian's Chromium for the landing page's browser test; only test.sh asks for it, so ./run.sh
# does not pull a browser onto a serving machine).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.30.0
ORT_TARBALL_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIBRARY_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
CACHE_DIR="${KPS_CACHE_DIR:-$HOME/.cache/keypointservice}"
ORT_LIBRARY="$CACHE_DIR/onnxruntime/$ORT_VERSION/libonnxruntime.so.1"

build=1; python=1; browser=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-python) python=0 ;;
    --with-browser) browser=1 ;;
    *) echo "setup.sh: unknown option '$arg' (known: --no-build, --no-python, --with-browser)" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. Debian packages ---------------------------------------------------------------
packages=(libpng16-16 libturbojpeg0 libopenblas0-pthread)
if [ "$python" = 1 ]; then
  packages+=(python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-matplotlib python3-pytest python3-jsonschema)
fi
# Playwright drives this Chromium (ExecutablePath /usr/bin/chromium): its own browser download
# cannot reach its CDN from these machines.
if [ "$browser" = 1 ]; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# --- 2. ONNX Runtime native library -----------------------------------------------------
verify() { echo "$2  $1" | sha256sum --check --status; }
if [ -f "$ORT_LIBRARY" ] && verify "$ORT_LIBRARY" "$ORT_LIBRARY_SHA256"; then
  log "ONNX Runtime $ORT_VERSION present at $ORT_LIBRARY"
else
  log "fetching ONNX Runtime $ORT_VERSION (onnxruntime-node npm tarball, ~113 MB)"
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  tarball="$work/onnxruntime-node-$ORT_VERSION.tgz"
  verify "$tarball" "$ORT_TARBALL_SHA256" || { log "checksum mismatch for $tarball: refusing to use it"; exit 1; }
  tar -xzf "$tarball" -C "$work" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  verify "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIBRARY_SHA256" || { log "checksum mismatch for libonnxruntime.so.1"; exit 1; }
  mkdir -p "$(dirname "$ORT_LIBRARY")"
  install -m 0644 "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIBRARY.tmp"
  mv "$ORT_LIBRARY.tmp" "$ORT_LIBRARY"
  log "ONNX Runtime cached at $ORT_LIBRARY"
fi

# --- 3. .NET build ------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  log "building (Release)"
  dotnet build KeypointService.sln -c Release --nologo -v quiet -clp:ErrorsOnly
fi
