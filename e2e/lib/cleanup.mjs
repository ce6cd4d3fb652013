// Finding and removing what containers leave behind: mounts, processes, cgroups, netns, state
// dirs. Used by the leak check (the last test) and by run.mjs's sweep before and after a run.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, existsSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PREFIX, cleanEnv, setRunDirRemover } from './env.mjs';

/** Unescapes a mountinfo path (\040 for space and so on). */
function unescape(p) {
  return p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points (host mount namespace) equal to or under dir, deepest first. */
export function mountsUnder(dir) {
  const d = dir.replace(/\/+$/, '');
  const out = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = unescape(f[4]);
    if (mp === d || mp.startsWith(d + '/')) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Removes dir without ever crossing into a mount: unmounts (lazily) everything under it first. */
export function safeRemove(dir) {
  if (!existsSync(dir)) return;
  for (let i = 0; i < 5; i++) {
    const m = mountsUnder(dir);
    if (m.length === 0) break;
    for (const mp of m) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
  spawnSync('rm', ['-rf', '--one-file-system', dir], { stdio: 'ignore' });
}

/** Pids whose root, cwd or cgroup points at something of this suite (dir prefixes, id prefix). */
export function processesOf({ dirs = [], idPrefix = PREFIX } = {}) {
  const found = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    let why = '';
    for (const link of ['root', 'cwd']) {
      try {
        const t = readlinkSync(`/proc/${p}/${link}`);
        if (dirs.some((d) => t === d || t.startsWith(d + '/'))) why = `${link} ${t}`;
      } catch {
        /* gone, or a zombie */
      }
    }
    try {
      const cg = readFileSync(`/proc/${p}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => l.split('/').some((c) => c.startsWith(idPrefix)))) why ||= `cgroup ${cg.trim().split('\n')[0]}`;
    } catch {
      /* gone */
    }
    if (!why) continue;
    let stat = '';
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z') continue; // already dead; the host's init reaps it
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      /* gone */
    }
    found.push({ pid: Number(p), why, cmd });
  }
  return found;
}

/** Cgroup directories named with the prefix, under every hierarchy of /sys/fs/cgroup (deepest first). */
export function cgroupsOf(idPrefix = PREFIX) {
  const found = [];
  const walk = (d, depth) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (e.name.startsWith(idPrefix)) found.push(p);
      if (depth < 6) walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found.sort((a, b) => b.length - a.length);
}

/** Network namespaces (ip netns) named with the prefix. */
export function netnsOf(idPrefix = PREFIX) {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(idPrefix));
}

/** Non-empty state roots: { root: [ids] } for every root-* dir of a run dir. */
export function stateDirsIn(runDir) {
  const out = {};
  if (!existsSync(runDir)) return out;
  for (const e of readdirSync(runDir)) {
    if (!e.startsWith('root-')) continue;
    // runts's cache of compiled seccomp filters (<root>/@cache/seccomp) stays by design, as crun's
    // .cache does; a temp file left in it is a leak
    const ids = readdirSync(join(runDir, e)).filter((n) => n !== '@cache');
    const cache = join(runDir, e, '@cache', 'seccomp');
    if (existsSync(cache)) ids.push(...readdirSync(cache).filter((n) => n.startsWith('.')).map((n) => `@cache/seccomp/${n}`));
    if (ids.length) out[join(runDir, e)] = ids;
  }
  return out;
}

/**
 * Removes everything of this suite, best effort: containers in the run dirs' state roots
 * (with runc, which reads its own state; runts state dirs are removed with the dir), processes,
 * mounts, netns, cgroups, and the run dirs. Returns what it found, for reporting.
 */
export function sweep({ runDirs = [], idPrefix = PREFIX } = {}) {
  const report = [];
  for (const runDir of runDirs) {
    for (const [root, ids] of Object.entries(stateDirsIn(runDir))) {
      for (const id of ids) {
        report.push(`state ${root}/${id}`);
        if (root.endsWith('root-runc')) spawnSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore', env: cleanEnv(), timeout: 20_000 });
      }
    }
  }
  for (let i = 0; i < 3; i++) {
    const procs = processesOf({ dirs: runDirs, idPrefix });
    if (!procs.length) break;
    for (const p of procs) {
      if (i === 0) report.push(`process ${p.pid} (${p.why}): ${p.cmd}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('sleep', ['0.2']);
  }
  for (const n of netnsOf(idPrefix)) {
    report.push(`netns ${n}`);
    spawnSync('ip', ['netns', 'delete', n], { stdio: 'ignore' });
  }
  for (const runDir of runDirs) {
    for (const m of mountsUnder(runDir)) report.push(`mount ${m}`);
    safeRemove(runDir);
  }
  for (const cg of cgroupsOf(idPrefix)) {
    report.push(`cgroup ${cg}`);
    // children first (the list is deepest first); rmdir fails while processes are inside
    try {
      rmdirSync(cg);
    } catch {
      /* still busy: reported */
    }
  }
  return report;
}

/** Run dirs of earlier runs that are no longer in use (their owner pid is gone). */
export function staleRunDirs(runDirPrefix) {
  const base = runDirPrefix.slice(0, runDirPrefix.lastIndexOf('/')) || '/';
  const name = runDirPrefix.slice(runDirPrefix.lastIndexOf('/') + 1);
  const out = [];
  for (const e of readdirSync(base)) {
    if (!e.startsWith(name)) continue;
    const d = join(base, e);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(d, 'owner.pid'), 'utf8'));
    } catch {
      /* no owner file */
    }
    if (owner && existsSync(`/proc/${owner}`)) continue;
    try {
      if (statSync(d).isDirectory()) out.push(d);
    } catch {
      /* gone */
    }
  }
  return out;
}

setRunDirRemover((dir) => safeRemove(dir));
