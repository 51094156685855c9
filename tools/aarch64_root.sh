#!/usr/bin/env bash
# Builds an arm64 (aarch64) Debian root in which an edgegnn bundle's runner can run under
# user-mode emulation, without binfmt_misc or chroot:
#   qemu-aarch64-static -L ROOT ROOT/usr/bin/python3 run_bundle.py
# Contents: Debian bookworm arm64 files (debootstrap --foreign: unpack only, nothing runs),
# plus numpy and ai-edge-litert aarch64 wheels installed into ROOT/opt/site.
#   tools/aarch64_root.sh ROOT          (as root; idempotent: a finished ROOT is kept)
set -euo pipefail
root="${1:?usage: $0 ROOT}"
if [ -f "$root/.edgegnn-ready" ]; then exit 0; fi
need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing ${need[*]}: as root, apt-get install -y ${need[*]}" >&2; exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
if [ ! -x "$root/usr/bin/python3.11" ]; then
  rm -rf "$root"
  debootstrap --arch=arm64 --foreign --variant=minbase \
    --include=python3.11-minimal,libpython3.11-stdlib,zlib1g,libffi8,libstdc++6,libgcc-s1 \
    bookworm "$root" http://deb.debian.org/debian >/dev/null
  # --foreign leaves the .debs unpacked only for the base set; unpack every fetched .deb.
  for deb in "$root"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
  ln -sf python3.11 "$root/usr/bin/python3"
fi
plats=(); for v in 17 24 27 28 31 34 35 36; do plats+=(--platform "manylinux_2_${v}_aarch64"); done
python3 -m pip install --quiet --no-deps --only-binary=:all: --platform manylinux2014_aarch64 \
  "${plats[@]}" --python-version 3.11 --implementation cp \
  --target "$root/opt/site" --upgrade numpy==1.26.4 "ai-edge-litert==2.3.0" ml_dtypes==0.3.2 \
  protobuf==4.25.9 flatbuffers typing-extensions tqdm backports.strenum
# qemu-user (7.2) shows the emulated process the host's x86 /proc/cpuinfo, and LiteRT's
# CPU detection crashes on it (segfault while creating the Interpreter). With `-L ROOT`
# qemu resolves paths inside ROOT first, so an arm64 cpuinfo (4 x Cortex-A72, as on a
# Raspberry Pi 4) placed there is what the process reads.
mkdir -p "$root/proc" "$root/sys/devices/system/cpu"
: > "$root/proc/cpuinfo"
for i in 0 1 2 3; do
  printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n' "$i" >> "$root/proc/cpuinfo"
done
for f in possible present online; do echo 0-3 > "$root/sys/devices/system/cpu/$f"; done
touch "$root/.edgegnn-ready"
