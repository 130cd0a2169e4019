#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine of this project's kind:
#   1. Debian packages that are missing (PyTorch for the trainer, image codecs, OpenBLAS);
#   2. the .NET restore and build. ONNX Runtime comes from NuGet (Microsoft.ML.OnnxRuntime, or with
#      KPS_ORT=gpu Microsoft.ML.OnnxRuntime.Gpu.Linux built into bin/gpu: see README "Why these dependencies").
# Each step is skipped when already done. Options: --no-build, --no-python, --with-browser
# (Debian's Chromium for the landing page's browser test; only test.sh asks for it, so ./run.sh
# does not pull a browser onto a serving machine).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_PACKAGE="${KPS_ORT:-cpu}"
case "$ORT_PACKAGE" in
  cpu|gpu) ;;
  *) echo "setup.sh: KPS_ORT must be cpu or gpu, got '$ORT_PACKAGE'" >&2; exit 2 ;;
esac

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
  packages+=(python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-matplotlib python3-pytest python3-jsonschema python3-yaml)
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

# --- 2. .NET build ------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  log "building (Release, ONNX Runtime $ORT_PACKAGE package)"
  dotnet build KeypointService.sln -c Release -p:OnnxRuntimePackage="$ORT_PACKAGE" --nologo -v quiet -clp:ErrorsOnly
fi
