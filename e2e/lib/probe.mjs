// Running the probe (lib/probe.sh) in a container and normalising what it prints.
//
// Normalisations (the only differences allowed between runc and runts for the same bundle):
//  1. the container id is replaced with <ID> everywhere (cgroup paths, hook state, hostnames);
//  2. cgroup paths: only the last component is kept (runc nests a container without
//     linux.cgroupsPath under the caller's own cgroup, runts under /runts/<id>; both end in <id>);
//  3. namespaces: the ns inode becomes "host" when equal to the host's (the test process's),
//     "netns:<name>" for a named netns, else "private";
//  4. mountinfo: no mount ids, major:minor, root or source (the probe drops them); peer group
//     numbers dropped (shared/master kept); lines stable-sorted by mount point (the order of
//     mounts on *different* mount points is not compared, the stacking order on one is);
//  5. /dev: no dates, link counts or sizes (the probe drops them);
//  6. hook state: pid > 0 becomes "<PID>", the id "<ID>".
import { readFileSync, readlinkSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { show } from './runtime.mjs';

/** The test process's own namespaces: { net: 'net:[4026...]', ... }. */
export function hostNamespaces() {
  const out = {};
  for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
    try {
      out[ns] = readlinkSync(`/proc/self/ns/${ns}`);
    } catch {
      /* kernel without it */
    }
  }
  return out;
}

/** Named netns: { 'net:[ino]': 'netns:<name>' }. */
function namedNetns() {
  const out = {};
  if (!existsSync('/run/netns')) return out;
  for (const n of readdirSync('/run/netns')) {
    try {
      const { ino } = statSync(join('/run/netns', n));
      out[`net:[${ino}]`] = `netns:${n}`;
    } catch {
      /* not a netns */
    }
  }
  return out;
}

/** Parses probe output into { key: value | [values] } (mountinfo and dev are lists). */
export function parseProbe(text) {
  const out = { mountinfo: [], dev: [] };
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (k === 'mountinfo' || k === 'dev') out[k].push(v);
    else out[k] = v;
  }
  return out;
}

/** Normalises parsed probe output (see the list at the top of this file). */
export function normaliseProbe(p, { id }) {
  const host = hostNamespaces();
  const named = namedNetns();
  const idRe = new RegExp(id.replace(/[.+]/g, '\\$&'), 'g');
  const out = {};
  for (const [k, v] of Object.entries(p)) {
    if (Array.isArray(v)) {
      out[k] = v.map((x) => x.replace(idRe, '<ID>'));
      continue;
    }
    let val = v.replace(idRe, '<ID>');
    if (k.startsWith('ns.')) {
      const ns = k.slice(3);
      if (val === host[ns]) val = 'host';
      else if (named[val]) val = named[val];
      else if (/^[a-z_]+:\[\d+\]$/.test(val)) val = 'private';
    }
    if (k.startsWith('cgroup.')) val = val.split('/').pop();
    out[k] = val;
  }
  // stable sort by mount point (JS sort is stable)
  out.mountinfo = [...out.mountinfo].sort((a, b) => {
      const ma = a.split(' ')[0];
      const mb = b.split(' ')[0];
      return ma < mb ? -1 : ma > mb ? 1 : 0;
    });
  return out;
}

/** Polls until the pid has exited (gone, or a zombie), or the deadline. */
export async function waitPidExit(pid, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Polls `state` until the status is `status`. */
export async function waitStatus(rt, id, status, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await rt.stateJson(id);
    if (last?.status === status) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${rt.name}: ${id} did not become ${status}; last state ${JSON.stringify(last)}`);
}

/**
 * Runs the bundle's process (the probe, normally) through the full lifecycle:
 * create (output to <bundle>/<id>.out), start, wait for it to stop, state, delete.
 * Returns { raw, parsed, normalised, states: {created, stopped}, results: {create, start, delete} }.
 * The container is deleted with --force even if a step fails (and then the error is thrown).
 */
export async function runProbe(rt, bundle, id) {
  const outFile = join(bundle.dir, `${id}.out`);
  const results = {};
  const states = {};
  try {
    results.create = await rt.create(id, { bundle: bundle.dir }, { stdout: outFile, stderr: outFile });
    if (results.create.code !== 0) throw new Error(`create failed:\n${show(results.create)}\n${readSafe(outFile)}`);
    states.created = await rt.stateJson(id);
    results.start = await rt.start(id);
    if (results.start.code !== 0) throw new Error(`start failed:\n${show(results.start)}`);
    if (!(await waitPidExit(states.created.pid))) throw new Error(`${id}: the container process did not exit`);
    states.stopped = await waitStatus(rt, id, 'stopped');
    results.delete = await rt.delete(id);
    if (results.delete.code !== 0) throw new Error(`delete failed:\n${show(results.delete)}`);
  } finally {
    if (!results.delete || results.delete.code !== 0) await rt.forceDelete(id);
  }
  const raw = readSafe(outFile);
  const parsed = parseProbe(raw);
  return { raw, parsed, normalised: normaliseProbe(parsed, { id }), states, results };
}

function readSafe(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
