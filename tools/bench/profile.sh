#!/usr/bin/env bash
# Where does runts spend its time? Profiles, for the same busybox bundle as the benchmark:
#   1. node --cpu-prof of `runts create` (and of `runts state`, `runts run`), summarised by
#      tools/bench/cpuprofile-top.mjs (self time per file and per function);
#   2. strace -f -c of `run` of `true` (syscall counts and time), for runts, runc and crun;
#   3. strace -f -r of runts' `run` (a timeline: gaps between syscalls are user-space time);
#   4. a phase split of `runts create`: node start floor vs --version vs create.
# usage: tools/bench/profile.sh [OUTDIR]   (default tools/bench/results/profile; git-ignored)
# Needs root, strace, and packages/runts/dist/cli.js (build runts first).
set -euo pipefail
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS

# Run under a child subreaper (as bench.mjs does): orphaned container inits are then reaped at
# once instead of by this VM's pid 1, every ~1.4 s.
if [ -z "${RUNTS_PROFILE_SUBREAPER:-}" ] && command -v python3 >/dev/null; then
  export RUNTS_PROFILE_SUBREAPER=1
  exec python3 -c '
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    p, st = os.wait()
    if p == pid:
        sys.exit(os.waitstatus_to_exitcode(st) % 256)
' bash "$0" "$@"
fi

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$(realpath -m "${1:-$HERE/results/profile}")
RUNTS=${RUNTS_BIN:-$REPO/packages/runts/dist/launch.cjs}
NODE=$(command -v node)

if [ ! -e "$REPO/packages/runts/dist/cli.js" ] && [ -z "${RUNTS_BIN:-}" ]; then
  echo "profile: packages/runts/dist/cli.js does not exist: build runts first (pnpm build)" >&2
  exit 1
fi
command -v strace >/dev/null || { echo "profile: strace missing (apt-get install strace)" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/cpuprof"
WORK=$(mktemp -d /run/runts-profile-XXXXXX)
ROOT="$WORK/root"
ID=prof$$
cleanup() {
  for rt in runts runc crun; do
    for id in "$ID" "$ID-run" "$ID-state"; do
      case $rt in
        runts) "$NODE" "$RUNTS" --root "$ROOT/runts" delete --force "$id" >/dev/null 2>&1 || true ;;
        runc) runc --root "$ROOT/runc" delete --force "$id" >/dev/null 2>&1 || true ;;
        crun) crun_ --root "$ROOT/crun" delete --force "$id" >/dev/null 2>&1 || true ;;
      esac
    done
  done
  rm -rf "$WORK"
}
crun_() { unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"' crun "$@"; }
trap cleanup EXIT

"$NODE" "$HERE/bench.mjs" --make-bundle "$WORK/bundle" >/dev/null
B="$WORK/bundle"

echo "== cpu profiles (node --cpu-prof, 100 µs sampling) -> $OUT/cpuprof"
prof() { # name, node-args...
  local name=$1; shift
  "$NODE" --cpu-prof --cpu-prof-interval 100 --cpu-prof-dir "$OUT/cpuprof" --cpu-prof-name "$name.cpuprofile" \
    "$RUNTS" --root "$ROOT/runts" "$@" </dev/null >"$OUT/cpuprof/$name.out" 2>&1 ||
    echo "  runts $1 failed (exit $?): $(tail -1 "$OUT/cpuprof/$name.out")"
}
prof version --version
prof create create --bundle "$B/sleep" "$ID"
prof state state "$ID"
prof start start "$ID"
prof delete delete --force "$ID"
prof run run --bundle "$B/true" "$ID-run"
for p in version create state start delete run; do
  [ -e "$OUT/cpuprof/$p.cpuprofile" ] &&
    "$NODE" "$HERE/cpuprofile-top.mjs" "$OUT/cpuprof/$p.cpuprofile" 20 >"$OUT/cpuprof/$p.top.txt"
done
sed -n '1,30p' "$OUT/cpuprof/create.top.txt"
echo "--version (startup + module loading only):"; sed -n '1,12p' "$OUT/cpuprof/version.top.txt"

echo
echo "== strace -f -c of run \`true\` -> $OUT/strace-run-*.txt"
strace -f -c -o "$OUT/strace-run-runts.txt" "$NODE" "$RUNTS" --root "$ROOT/runts" run --bundle "$B/true" "$ID-run" </dev/null >/dev/null 2>&1 || true
strace -f -c -o "$OUT/strace-run-runc.txt" runc --root "$ROOT/runc" run --bundle "$B/true" "$ID-run" </dev/null >/dev/null 2>&1 || true
strace -f -c -o "$OUT/strace-run-crun.txt" unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"' crun --root "$ROOT/crun" run --bundle "$B/true" "$ID-run" </dev/null >/dev/null 2>&1 || true
for rt in runts runc crun; do
  printf '%-6s ' "$rt"; tail -1 "$OUT/strace-run-$rt.txt"
done
echo "runts, top syscalls by time:"; sed -n '1,14p' "$OUT/strace-run-runts.txt"

echo
echo "== strace -f -r timeline of runts run -> $OUT/strace-run-runts.timeline"
strace -f -r -T -o "$OUT/strace-run-runts.timeline" "$NODE" "$RUNTS" --root "$ROOT/runts" run --bundle "$B/true" "$ID-run" </dev/null >/dev/null 2>&1 || true
echo "largest gaps between syscalls (user-space time), ms:"
awk '{ if ($2+0 > 0.002) printf "  %7.2f  %s\n", $2*1000, substr($0, index($0,$3), 110) }' "$OUT/strace-run-runts.timeline" | sort -rn | head -12

echo
echo "== phases (median of 11, ms): node -e 0, runts --version, runts state, runts create"
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t() { local s e; s=$(date +%s%N); "$@" </dev/null >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
for what in node-e-0 version state create; do
  for i in $(seq 11); do
    case $what in
      node-e-0) t "$NODE" -e 0 ;;
      version) t "$NODE" "$RUNTS" --version ;;
      state)
        "$NODE" "$RUNTS" --root "$ROOT/runts" create --bundle "$B/sleep" "$ID-state" </dev/null >/dev/null 2>&1 || true
        t "$NODE" "$RUNTS" --root "$ROOT/runts" state "$ID-state"
        "$NODE" "$RUNTS" --root "$ROOT/runts" delete --force "$ID-state" >/dev/null 2>&1 || true ;;
      create)
        t "$NODE" "$RUNTS" --root "$ROOT/runts" create --bundle "$B/sleep" "$ID"
        "$NODE" "$RUNTS" --root "$ROOT/runts" delete --force "$ID" >/dev/null 2>&1 || true ;;
    esac
  done | med | awk -v w="$what" '{ printf "  %-10s %8.2f\n", w, $1/1000 }'
done | tee "$OUT/phases.txt"

echo
echo "wrote $OUT"
