#!/usr/bin/env bash
# shuan's SM4-CTR, SM4-GCM, SM3 throughput and SM2 sign/verify rate beside OpenSSL's,
# measured in the same run on the same machine, with ratios.
#
#   bench/crypto-vs-openssl.sh [SECONDS_PER_TEST]      (default 3)
#
# In-memory rates are per second of CPU time on both sides (openssl speed without
# -elapsed, speed.rs via schedstat), so a busy machine does not skew them.
# shuan: crates/shuan-crypto/examples/speed.rs (1 MiB buffers, in memory) and the CLI
# (`shuan crypto enc -sm4-ctr` / `digest` on a 256 MiB file, like `openssl enc`/`dgst`).
# OpenSSL: `openssl speed -evp sm4-ctr|sm3` (16 KiB blocks), `openssl speed sm2`, and the
# same `openssl enc`/`dgst` commands on the same file. OpenSSL 3.0 has no SM4-GCM in
# `speed`, so GCM is compared with Python cryptography's (OpenSSL-backed) SM4-GCM.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

cargo build --release -q -p shuan-crypto --example speed
cargo build --release -q -p shuan-cli
SPEED="$CARGO_TARGET_DIR/release/examples/speed"
SHUAN="$CARGO_TARGET_DIR/release/shuan"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "openssl: $(openssl version)"
echo "shuan SM4 backend: ${SHUAN_SM4_PORTABLE:+portable (forced)}${SHUAN_SM4_PORTABLE:-auto (AVX-512+GFNI > AES-NI > portable)}"
echo

ours=$("$SPEED" "$SECS")
get() { echo "$ours" | awk -v k="$1" '$1==k {print $2}'; }

# openssl speed prints "... 16384 bytes" column last, in 1000s of bytes per second.
ossl_evp() { openssl speed -seconds "$SECS" -evp "$1" 2>/dev/null | awk -v n="$2" 'tolower($1)==tolower(n) {print $NF}' | sed 's/k$//' | awk '{printf "%.1f", $1/1000}'; }
o_ctr=$(ossl_evp sm4-ctr SM4-CTR)
o_sm3=$(ossl_evp sm3 sm3)
# Short messages: openssl speed -bytes 55 prints 1000s of bytes/s; as messages/s.
o_sm3_55=$(openssl speed -seconds "$SECS" -bytes 55 -evp sm3 2>/dev/null | awk 'tolower($1)=="sm3" {v=$NF; sub(/k$/,"",v); printf "%.0f", v*1000/55}')
read -r o_sign o_verify < <(openssl speed -seconds "$SECS" sm2 2>/dev/null | awk '/SM2 \(CurveSM2\)/ {print $(NF-1), $NF}')

o_gcm=$(python3 - "$SECS" <<'PY'
import sys, time
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
secs = float(sys.argv[1]); buf = bytes(1 << 20); n = 0; t0 = time.process_time()
while time.process_time() - t0 < secs:
    e = Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(12))).encryptor()
    e.update(buf); e.finalize(); n += 1
print(f"{n * len(buf) / 1e6 / (time.process_time() - t0):.1f}")
PY
)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf "%-22s %14s %14s %8s\n" "operation" "shuan" "peer" "ratio"
printf "%-22s %11s MB/s %11s MB/s %8s   (peer: openssl speed -evp sm4-ctr)\n" "SM4-CTR" "$(get sm4-ctr)" "$o_ctr" "$(ratio "$(get sm4-ctr)" "$o_ctr")"
printf "%-22s %11s MB/s %11s MB/s %8s   (peer: Python cryptography SM4-GCM, OpenSSL inside)\n" "SM4-GCM" "$(get sm4-gcm)" "$o_gcm" "$(ratio "$(get sm4-gcm)" "$o_gcm")"
printf "%-22s %11s MB/s %11s MB/s %8s   (peer: openssl speed -evp sm3)\n" "SM3" "$(get sm3)" "$o_sm3" "$(ratio "$(get sm3)" "$o_sm3")"
printf "%-22s %8s msgs/s %8s msgs/s %8s   (peer: openssl speed -bytes 55 -evp sm3; shuan digest_many, %s lanes)\n" "SM3 55-byte messages" "$(get sm3-55B-many)" "$o_sm3_55" "$(ratio "$(get sm3-55B-many)" "$o_sm3_55")" "${SHUAN_SM3_LANES:-auto}"
printf "%-22s %8s msgs/s %8s msgs/s %8s   (peer: shuan HmacSm3::mac one by one)\n" "HMAC-SM3 18-byte" "$(get hmac-18B-many)" "$(get hmac-18B-one-by-one)" "$(ratio "$(get hmac-18B-many)" "$(get hmac-18B-one-by-one)")"
printf "%-22s %10s ops/s %10s ops/s %8s   (peer: openssl speed sm2)\n" "SM2 sign" "$(get sm2-sign)" "$o_sign" "$(ratio "$(get sm2-sign)" "$o_sign")"
printf "%-22s %10s ops/s %10s ops/s %8s   (peer: openssl speed sm2)\n" "SM2 verify" "$(get sm2-verify)" "$o_verify" "$(ratio "$(get sm2-verify)" "$o_verify")"

# Whole-command comparison on a file (includes I/O, as a user would run it).
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
head -c $((256 << 20)) /dev/urandom > "$TMP/in"
K=0123456789abcdeffedcba9876543210; IV=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", 268.435456 / (e - s) }'; }
echo
echo "256 MiB file, whole command (MB/s):"
s_enc=$(t "$SHUAN" crypto enc --cipher sm4-ctr -K $K --iv $IV --in "$TMP/in" --out "$TMP/out.s")
o_enc=$(t openssl enc -sm4-ctr -K $K -iv $IV -in "$TMP/in" -out "$TMP/out.o")
cmp -s "$TMP/out.s" "$TMP/out.o" && same=identical || same=DIFFERENT
printf "%-22s %11s MB/s %11s MB/s %8s   (outputs %s)\n" "enc -sm4-ctr" "$s_enc" "$o_enc" "$(ratio "$s_enc" "$o_enc")" "$same"
s_dg=$(t "$SHUAN" crypto digest --alg sm3 "$TMP/in")
o_dg=$(t openssl dgst -sm3 "$TMP/in")
printf "%-22s %11s MB/s %11s MB/s %8s\n" "dgst -sm3" "$s_dg" "$o_dg" "$(ratio "$s_dg" "$o_dg")"
