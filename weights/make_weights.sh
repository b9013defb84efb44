#!/bin/sh
# make_weights.sh — re-creates weights/*.tkw from MediaPipe's npm package with takt's own
# converter (`takt weights import-tflite`). Run from the repository root after building
# build/takt (the Makefile's `weights` target does both):
#
#   sh weights/make_weights.sh [TAKT_BINARY]
#
# Steps: `npm pack @mediapipe/pose@0.5.1675469404` into a temporary folder, extract the four
# .tflite models (the detector is the whole of package/pose_solution_packed_assets.data, see
# ../shared/pose/models/MODELS.md), check their sha256 (against ../shared/pose/models/MODELS.md
# when that folder is present, else against the values recorded below), convert each to
# float16 .tkw. pose_landmark_heavy.tkw (27 MB) is written but not committed (.gitignore).
set -eu

TAKT=${1:-build/takt}
PACKAGE=@mediapipe/pose@0.5.1675469404
OUT=weights

[ -x "$TAKT" ] || { echo "make_weights.sh: $TAKT not found; run make first" >&2; exit 1; }
command -v npm >/dev/null || { echo "make_weights.sh: npm not found (apt-get install npm)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

(cd "$TMP" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$TMP"/mediapipe-pose-0.5.1675469404.tgz -C "$TMP"
PKG="$TMP/package"
# The packed-assets loader lists one file at bytes [0, 2962288): the detector, whole.
cp "$PKG/pose_solution_packed_assets.data" "$TMP/pose_detection.tflite"
for m in lite full heavy; do
    cp "$PKG/pose_landmark_$m.tflite" "$TMP/"
done

# sha256s as recorded in ../shared/pose/models/MODELS.md on 2026-11-21.
expected() {
    case $1 in
    pose_detection.tflite)      echo a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85 ;;
    pose_landmark_lite.tflite)  echo f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61 ;;
    pose_landmark_full.tflite)  echo e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f ;;
    pose_landmark_heavy.tflite) echo 59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe ;;
    esac
}

MODELS_MD=${TAKT_SHARED:-../shared}/pose/models/MODELS.md
for f in pose_detection.tflite pose_landmark_lite.tflite pose_landmark_full.tflite pose_landmark_heavy.tflite; do
    want=$(expected "$f")
    if [ -r "$MODELS_MD" ]; then
        want=$(grep "^| \`$f\`" "$MODELS_MD" | grep -o '[0-9a-f]\{64\}' | head -n 1)
        [ -n "$want" ] || { echo "make_weights.sh: no sha256 for $f in $MODELS_MD" >&2; exit 1; }
    fi
    got=$(sha256sum "$TMP/$f" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        echo "make_weights.sh: $f: sha256 $got, expected $want" >&2
        exit 1
    fi
    echo "  $f  sha256 ok"
done

for f in pose_detection pose_landmark_lite pose_landmark_full pose_landmark_heavy; do
    "$TAKT" weights import-tflite "$TMP/$f.tflite" "$OUT/$f.tkw"
    echo "  $OUT/$f.tkw"
done
