#!/usr/bin/env bash
# Build a python3 base image without any image registry: debootstrap Debian bookworm
# into a folder and `docker import` it. Used where `python:*-slim` cannot be pulled.
#
#   docker/build-offline-base.sh [TAG]        (default tag: grader-base:bookworm)
#
# The image is rebuilt only when it does not exist yet; GRADER_REBUILD_BASE=1 forces it.
set -euo pipefail

tag="${1:-grader-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache_dir="${GRADER_CACHE_DIR:-/var/cache/grader}"

if [[ "${GRADER_REBUILD_BASE:-0}" != 1 ]] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "offline base $tag already present"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
mkdir -p "$cache_dir/debootstrap-debs"
rootfs=$(mktemp -d /tmp/grader-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,ca-certificates \
  --cache-dir="$cache_dir/debootstrap-debs" \
  bookworm "$rootfs" "$mirror"

# Same layout as the official python image: `python` and `pip` on PATH.
ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb

tar -C "$rootfs" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$tag"
echo "built offline base $tag"
