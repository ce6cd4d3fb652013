#!/usr/bin/env python3
# An A/B of two or more builds of one verb, for a change worth a few tenths of a millisecond (the
# full bench, `pnpm bench`, compares runtimes; this compares builds): the commands run in turn,
# their order reversed every iteration, 3 warm-up iterations discarded, each timed from fork to
# wait4 with wait4's rusage; prints the medians of wall time, CPU (user + sys), peak RSS and minor
# faults, and each one's difference from the first command's.
# (Peak RSS is never below this python's own, ~11 MB: a forked child counts it until its exec.)
#
#   BUNDLE=/path/to/bundle python3 tools/bench/ab.py VERB N 'CMD A' 'CMD B' ...
#
# VERB: create (create, then delete --force, untimed), state (of one created container), delete
# (of a killed container), run, or cmd (the command itself, e.g. 'node -e 0'). Each CMD is the
# runtime's command before its arguments ('/run/x/runts', 'node26 --flag dist/launch.cjs'); each
# gets its own --root under /run/runts-ab. Run binaries from fresh copies written in pieces
# (tools/build/pieces.mjs): one that was read whole (by perf report, cp of a large file, sea.mjs)
# stays in large folios and measures ~2 ms slower (tools/bench/README, 2026-12-05).
import os, sys, time, shlex, statistics, subprocess, json
verb, n = sys.argv[1], int(sys.argv[2])
cmds = [shlex.split(c) for c in sys.argv[3:]]
bundle = os.environ.get('BUNDLE', '')
if verb not in ('cmd',) and not bundle: raise SystemExit('ab.py: set BUNDLE to a bundle dir')
env = {k: v for k, v in os.environ.items() if k not in ('NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS')}
def run(argv, quiet=True):
    t = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1); os.dup2(fd, 2)
        try: os.execvpe(argv[0], argv, env)
        finally: os._exit(127)
    _, st, ru = os.wait4(pid, 0)
    w = time.monotonic() - t
    if os.waitstatus_to_exitcode(st) != 0: raise SystemExit(f'failed: {argv} {st}')
    return w * 1000, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024, ru.ru_minflt
res = [[] for _ in cmds]
root = '/run/runts-ab'
os.makedirs(root, exist_ok=True)
for it in range(n + 3):
    order = list(range(len(cmds)))
    if it % 2: order.reverse()
    for i in order:
        c = cmds[i]
        r = f'--root={root}/{i}'
        cid = f'ab{i}'
        if verb == 'cmd':
            m = run(c)
        elif verb == 'create':
            m = run(c + [r, 'create', '--bundle', bundle, cid])
            run(c + [r, 'delete', '--force', cid])
        elif verb == 'state':
            if it == 0: run(c + [r, 'create', '--bundle', bundle, cid])
            m = run(c + [r, 'state', cid])
        elif verb == 'delete':
            run(c + [r, 'create', '--bundle', bundle, cid]); run(c + [r, 'kill', cid, 'KILL']); time.sleep(0.05)
            m = run(c + [r, 'delete', cid])
        elif verb == 'run':
            m = run(c + [r, 'run', '--bundle', bundle, cid])
        if it >= 3: res[i].append(m)
if verb == 'state':
    for i, c in enumerate(cmds): run(c + [f'--root={root}/{i}', 'delete', '--force', f'ab{i}'])
base = None
for i, c in enumerate(cmds):
    cols = list(zip(*res[i]))
    med = [statistics.median(x) for x in cols]
    if base is None: base = med
    print(f'{" ".join(c)[-60:]:>60}  wall {med[0]:7.2f} ({med[0]-base[0]:+.2f})  cpu {med[1]:7.2f} ({med[1]-base[1]:+.2f})  rss {med[2]:6.1f}  minflt {med[3]:6.0f}')
