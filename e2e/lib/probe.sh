#!/bin/sh
# The e2e probe: run inside a container (busybox sh), prints what the container sees as
# key=value lines. Everything printed must be the same under runc and runts for the same bundle;
# host-specific details are normalised afterwards by lib/probe.mjs (see there for the list).
# Extra checks come from the environment:
#   PROBE_WRITE="p1 p2"  paths tested for writability (dirs: create+remove a file; files: open for append)
#   PROBE_READ="p1 p2"   paths read (files: byte count or error; dirs: entry count or error)
#   PROBE_LS="p1 p2"     paths listed with ls -ldn (mode owner group)
# Reads this shell's own /proc/$$ entries: a child (grep, cat) would have other credentials.

self=$$
kv() { printf '%s=%s\n' "$1" "$2"; }
err() { # the error text of a failed command, without the applet/shell prefix
  sed 's/.*: //' | head -n1
}

kv uid "$(id -u)"
kv gid "$(id -g)"
kv groups "$(id -G)"
kv hostname "$(hostname)"
kv domainname "$(cat /proc/sys/kernel/domainname)"
while IFS=$(printf '\t') read -r k v; do
  case "$k" in
    CapBnd:|CapEff:|CapPrm:|CapInh:|CapAmb:|NoNewPrivs:|Seccomp:|Uid:|Gid:|Groups:|SigIgn:|SigBlk:)
      kv "status.${k%:}" "$(echo $v)" ;;
  esac
done </proc/$self/status
kv umask "$(umask)"
kv pwd "$(pwd)"
kv pid "$self"
kv pid1.cmdline "$(tr '\0' ' ' </proc/1/cmdline)"
kv oom_score_adj "$(cat /proc/$self/oom_score_adj)"
kv ip_forward "$(cat /proc/sys/net/ipv4/ip_forward 2>&1 | err)"
kv netdevs "$(ls /sys/class/net 2>/dev/null | sort | tr '\n' ' ')"
kv lo.flags "$(cat /sys/class/net/lo/flags 2>/dev/null || echo none)"

# Limits: "Max open files  1024  1024  files" -> limit.max_open_files=1024 1024
# (/proc/<pid>/limits has fixed columns: the name is the first 25 characters)
tail -n +2 /proc/$self/limits | while IFS= read -r line; do
  name=$(echo "$line" | cut -c1-25 | sed 's/ *$//' | tr ' A-Z' '_a-z')
  kv "limit.$name" "$(echo "$line" | cut -c26- | awk '{print $1, $2}')"
done

# The environment exactly as the runtime passed it (the shell adds nothing to /proc/$$/environ).
tr '\0' '\n' </proc/$self/environ | sort | while IFS= read -r e; do
  kv "env.${e%%=*}" "${e#*=}"
done

for ns in cgroup ipc mnt net pid time user uts; do
  kv "ns.$ns" "$(readlink /proc/$self/ns/$ns 2>&1)"
done

# cgroup membership, one line per hierarchy: cgroup.<hierarchy-id>:<controllers>=<path>
while IFS= read -r l; do
  h=${l%%:*}; rest=${l#*:}; ctl=$(echo "${rest%%:*}" | tr = _); path=${rest#*:}
  kv "cgroup.$h:$ctl" "$path"
done </proc/$self/cgroup

# Mounts: "mountinfo=<mount point> <fstype> <mount options> <super options> <propagation>"
# (no ids, no major:minor, no root and no source: those are host-specific).
while read -r id parent dev root mp opts rest; do
  prop=""
  set -- $rest
  while [ "$1" != "-" ]; do prop="$prop ${1%%:*}"; shift; done
  shift
  fstype=$1; super=$3
  kv mountinfo "$mp $fstype $opts $super${prop:+ [${prop# }]}"
done </proc/$self/mountinfo

# /dev: type+mode, owner, group, device numbers or link target, name (no dates, sizes, link counts)
ls -ln /dev | tail -n +2 | while read -r mode links uid gid a b rest; do
  set -- $rest
  case "$mode" in
    c*|b*) kv dev "$4 $mode $uid $gid ${a}${b}" ;;
    l*) kv dev "$3 $mode $uid $gid -> $5" ;;
    *) kv dev "$3 $mode $uid $gid" ;;
  esac
done

# Masked paths read as empty (files) or empty dirs; the default list of runc spec plus PROBE_READ.
for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /proc/scsi /sys/firmware /proc/asound /proc/latency_stats /proc/timer_stats /proc/sched_debug /sys/devices/virtual/powercap $PROBE_READ; do
  if [ -d "$p" ]; then
    if out=$(ls -A "$p" 2>&1); then kv "read.$p" "dir entries=$(printf '%s' "$out" | grep -c .)"; else kv "read.$p" "error $(echo "$out" | err)"; fi
  elif [ -e "$p" ]; then
    out=$( (head -c 64 "$p" >/dev/null) 2>&1 )
    if [ -z "$out" ]; then kv "read.$p" "file bytes=$(head -c 64 "$p" | wc -c)"; else kv "read.$p" "error $(echo "$out" | err)"; fi
  else
    kv "read.$p" "missing"
  fi
done 2>/dev/null

# Writability: read-only paths (default runc list), the rootfs, /tmp, /dev/shm, plus PROBE_WRITE.
for p in / /tmp /dev /dev/shm /proc/sys /proc/sys/kernel/domainname /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs /sys /sys/fs/cgroup $PROBE_WRITE; do
  if [ -d "$p" ]; then
    f="$p/.probe-write-$self"
    if out=$( (: >"$f") 2>&1); then rm -f "$f"; kv "write.$p" ok; else kv "write.$p" "error $(echo "$out" | err)"; fi
  elif [ -e "$p" ]; then
    if out=$( (: >>"$p") 2>&1); then kv "write.$p" ok; else kv "write.$p" "error $(echo "$out" | err)"; fi
  else
    kv "write.$p" missing
  fi
done

for p in $PROBE_LS; do
  kv "ls.$p" "$(ls -ldn "$p" 2>&1 | awk '{print $1, $3, $4}')"
done
for p in $PROBE_CAT; do
  kv "cat.$p" "$(cat "$p" 2>&1 | tr '\n' ' ')"
done
echo probe=done
