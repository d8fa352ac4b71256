#!/usr/bin/env bash
# gRPC-Web next to native gRPC on the same server: the sample jar (access log on, in-memory
# repository) pinned to the last CPU, h2load pinned to the first, GetUser on one stored user,
# 64 calls in flight: native gRPC over HTTP/2 (4 connections x 16 streams), gRPC-Web
# (application/grpc-web+proto) over HTTP/2 with prior knowledge (the same), and gRPC-Web over
# HTTP/1.1 (64 connections, one call each at a time). Prints calls/s per round, then medians.
#
#   benchmarks/grpc-web.sh [rounds=5] [calls-per-round=60000]
#
# Needs JDK 17+, taskset (util-linux), h2load (Debian nghttp2-client), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
calls=${2:-60000}

jar=sample-user-service/target/sample-user-service.jar
if [ ! -f "$jar" ]; then
  ./mvnw -B -q -DskipTests package
fi
work=$(mktemp -d)
last=$(($(nproc) - 1))
CHASSIS_GRPC_PORT=0 CHASSIS_ADMIN_PORT=-1 CHASSIS_GRPC_WEB_PORT=0 \
  taskset -c "$last" java -jar "$jar" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do
  grep -q 'started user-service' "$work/server.log" && break
  sleep 0.5
done
ports=$(grep -o 'gRPC on [^:]*:[0-9]*, admin [^,]*, gRPC-Web on port [0-9]*' "$work/server.log")
grpc=$(sed -E 's/gRPC on [^:]*:([0-9]+),.*/\1/' <<<"$ports")
web=$(sed -E 's/.*gRPC-Web on port ([0-9]+)/\1/' <<<"$ports")

# One user, created over gRPC-Web itself; GetUser's request frame carries its id.
python3 - "$work" <<'EOF'
import struct, sys
def frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message
def field(number, text):
    data = text.encode()
    return bytes([number << 3 | 2, len(data)]) + data
work = sys.argv[1]
open(work + "/create.bin", "wb").write(frame(field(1, "Bench User") + field(2, "bench@example.com")))
EOF
curl -s --http2-prior-knowledge -H 'content-type: application/grpc-web+proto' \
  --data-binary @"$work/create.bin" -o "$work/created.bin" \
  "http://127.0.0.1:$web/user.v1.UserService/CreateUser"
python3 - "$work" <<'EOF'
import struct, sys
work = sys.argv[1]
body = open(work + "/created.bin", "rb").read()
user = body[5:5 + struct.unpack(">I", body[1:5])[0]]
assert user[0] == 0x0a, "CreateUser did not answer a user"
user_id = user[2:2 + user[1]]
message = bytes([0x0a, len(user_id)]) + user_id
open(work + "/get.bin", "wb").write(b"\x00" + struct.pack(">I", len(message)) + message)
EOF

load() {
  taskset -c 0 h2load "$@" -d "$work/get.bin" 2>&1 |
    awk '/^finished/ {rate=$4} /^requests:/ {ok=$8} END {if (ok == "") ok = 0; print rate, ok}'
}
native=() h2c=() h1=()
run_round() {
  native+=("$(load -n "$calls" -c 4 -m 16 -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$grpc/user.v1.UserService/GetUser")")
  h2c+=("$(load -n "$calls" -c 4 -m 16 -H 'content-type: application/grpc-web+proto' \
    "http://127.0.0.1:$web/user.v1.UserService/GetUser")")
  h1+=("$(load --h1 -n "$calls" -c 64 -H 'content-type: application/grpc-web+proto' \
    "http://127.0.0.1:$web/user.v1.UserService/GetUser")")
}
run_round # warm-up (JIT), not reported
run_round
native=() h2c=() h1=()
for round in $(seq 1 "$rounds"); do
  run_round
  echo "round $round: native ${native[-1]% *}/s, gRPC-Web h2c ${h2c[-1]% *}/s, gRPC-Web HTTP/1.1 ${h1[-1]% *}/s"
done
python3 - "${native[@]}" -- "${h2c[@]}" -- "${h1[@]}" "$calls" <<'EOF'
import statistics, sys
args = sys.argv[1:]
calls = int(args.pop())
groups, current = [], []
for arg in args:
    if arg == "--":
        groups.append(current)
        current = []
    else:
        current.append(arg)
groups.append(current)
names = ["native gRPC, HTTP/2", "gRPC-Web, HTTP/2 (h2c)", "gRPC-Web, HTTP/1.1"]
base = None
print("| path | calls/s (median) | vs native | calls answered |")
print("| --- | --- | --- | --- |")
for name, group in zip(names, groups):
    rates = [float(g.split()[0]) for g in group]
    answered = min(int(g.split()[1]) for g in group)
    median = statistics.median(rates)
    base = base or median
    print(f"| {name} | {median:,.0f} | {median / base:.2f}x | {answered:,} of {calls:,} per round |")
EOF
