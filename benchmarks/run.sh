#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md in one go on this machine and writes the tables to
# benchmarks/target/results/results.md (raw figures in raw.jsonl, logs under logs/).
#
#   benchmarks/run.sh             # the full run (about 25 minutes on 2 cores)
#   benchmarks/run.sh --quick     # a few minutes: checks that everything works, figures not comparable
#   benchmarks/run.sh --help      # every flag (steps, repeats, durations, CPUs)
#
# Builds the project, then starts the suite pinned to the first CPU (the load generator runs in
# it); servers run pinned to the last CPU. Needs JDK 17+, taskset (util-linux) for pinning, and
# h2load (Debian nghttp2-client) for the cross-check.
set -euo pipefail
cd "$(dirname "$0")/.."

./mvnw -B -q -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
cp="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
# The suite (the load generator) runs without OpenTelemetry's gRPC instrumentation, whose
# ContextStorageOverride would change grpc's Context handling in the client; the servers and JMH it
# starts get the whole classpath.
client_cp=$(tr ':' '\n' <<<"$cp" | grep -v '/opentelemetry-grpc-' | paste -sd: -)

pin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  pin=(taskset -c 0)
fi
exec "${pin[@]}" java -Xms1g -Xmx1g -Dbenchmarks.classpath="$cp" -cp "$client_cp" \
  dev.chassis.benchmarks.suite.BenchmarkSuite "$@"
