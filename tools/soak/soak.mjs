#!/usr/bin/env node
// Soak: create/start/exec/kill/delete cycles, several in parallel, with random interruptions
// (the runtime SIGKILLed mid-create, delete --force racing start on the same id). Afterwards
// nothing may be left: no mounts, cgroups, processes or state dirs of the run, no stray fds in
// the containers that survive, and every container whose create reported success is running or
// cleanly gone. Prints the counts. Root only (real containers); not part of the default test run.
//
//   node tools/soak/soak.mjs [--cycles 1000] [--parallel 4] [--runtime runts|runc|oci] [--seed N]
//
// e2e/tests/14-soak.test.mjs runs a short version (40 cycles) in the default e2e suite.
import { readdirSync, readlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runtime, makeBundle, newId, cgroupsOf, processesOf, mountsUnder, PREFIX, TAG } from '../../e2e/lib/index.mjs';

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed with its seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the soak; returns { counts, leaks, problems }. leaks and problems are empty when all is well.
 * opts: cycles, parallel, runtime (name), seed, keepRunning (fraction of cycles left running until
 * the end, to check that they are), log (function for progress lines).
 */
export async function soak({ cycles = 1000, parallel = 4, runtime: name = 'runts', seed = Date.now() & 0xffffffff, keepRunning = 0.02, log = () => {} } = {}) {
  const rt = runtime(name);
  const random = rng(seed);
  const bundle = await makeBundle({ name: 'soak', args: ['sleep', '1000'] });
  const counts = { cycles: 0, created: 0, createFailed: 0, createKilled: 0, started: 0, startLostRace: 0, execOk: 0, killed: 0, deleted: 0, deleteRaced: 0, keptRunning: 0 };
  const problems = [];
  /** ids whose create reported success */
  const reported = new Set();
  const kept = [];
  const ids = [];
  let next = 0;

  async function waitStatus(id, want, ms = 10_000) {
    const end = Date.now() + ms;
    for (;;) {
      const s = await rt.stateJson(id);
      if ((s?.status ?? 'gone') === want || (want === 'gone' && !s)) return true;
      if (Date.now() > end) return false;
      await sleep(20);
    }
  }

  async function cycle(n) {
    const id = newId(`soak${n}`);
    ids.push(id);
    const r = random();
    if (r < 0.1) {
      // SIGKILL the runtime mid-create, then delete --force undoes what it left
      let child;
      const p = rt.create(id, { bundle: bundle.dir }, { onSpawn: (c) => (child = c) });
      await sleep(5 + Math.floor(random() * 120));
      child?.kill('SIGKILL');
      const res = await p;
      if (res.code === 0) {
        reported.add(id);
        counts.created++;
      } else counts.createKilled++;
      const d = await rt.delete(id, { force: true });
      if (d.code !== 0) problems.push(`${id}: delete --force after a killed create: ${d.error}`);
      else counts.deleted++;
      return;
    }
    const c = await rt.create(id, { bundle: bundle.dir });
    if (c.code !== 0) {
      counts.createFailed++;
      problems.push(`${id}: create failed: ${c.error}`);
      return;
    }
    reported.add(id);
    counts.created++;
    if (r < 0.2) {
      // delete --force racing start on the same id
      const [s, d] = await Promise.all([rt.start(id), sleep(Math.floor(random() * 30)).then(() => rt.delete(id, { force: true }))]);
      if (s.code === 0) counts.started++;
      else counts.startLostRace++;
      if (d.code === 0) counts.deleteRaced++;
      else {
        const d2 = await rt.delete(id, { force: true });
        if (d2.code !== 0) problems.push(`${id}: delete after the race: ${d2.error}`);
      }
      if (existsSync(join(rt.root, id))) problems.push(`${id}: state dir left after delete --force`);
      return;
    }
    const s = await rt.start(id);
    if (s.code !== 0) {
      problems.push(`${id}: start failed: ${s.error}`);
      await rt.delete(id, { force: true });
      return;
    }
    counts.started++;
    const e = await rt.exec(id, ['true']);
    if (e.code === 0) counts.execOk++;
    else problems.push(`${id}: exec failed (${e.code}): ${e.error}`);
    if (r > 1 - keepRunning) {
      kept.push(id);
      counts.keptRunning++;
      return;
    }
    const k = await rt.kill(id, 'KILL');
    if (k.code === 0) counts.killed++;
    else problems.push(`${id}: kill failed: ${k.error}`);
    if (!(await waitStatus(id, 'stopped'))) problems.push(`${id}: not stopped after kill`);
    const d = await rt.delete(id);
    if (d.code === 0) counts.deleted++;
    else problems.push(`${id}: delete failed: ${d.error}`);
  }

  const started = Date.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (;;) {
        const n = next++;
        if (n >= cycles) return;
        try {
          await cycle(n);
        } catch (err) {
          problems.push(`cycle ${n}: ${err.stack ?? err}`);
        }
        counts.cycles++;
        if (counts.cycles % 50 === 0) log(`${counts.cycles}/${cycles} cycles, ${Math.round((Date.now() - started) / 1000)} s`);
      }
    }),
  );

  // every container that create reported is running (the kept ones) or cleanly gone
  const fds = {};
  for (const id of reported) {
    const st = await rt.stateJson(id);
    if (kept.includes(id)) {
      if (st?.status !== 'running') problems.push(`${id}: kept running, but is ${st?.status ?? 'gone'}`);
      else {
        const extra = readdirSync(`/proc/${st.pid}/fd`).filter((f) => !['0', '1', '2'].includes(f));
        if (extra.length > 0) fds[id] = extra.map((f) => `${f} -> ${safeReadlink(`/proc/${st.pid}/fd/${f}`)}`);
      }
    } else if (st) problems.push(`${id}: reported created, neither running nor gone: ${st.status}`);
  }
  for (const id of kept) {
    const d = await rt.delete(id, { force: true });
    if (d.code !== 0) problems.push(`${id}: final delete --force: ${d.error}`);
  }
  await sleep(200);
  const prefix = `${PREFIX}${TAG}-soak`;
  const leaks = {};
  const mounts = [...mountsUnder(bundle.dir), ...mountsUnder(rt.root)];
  if (mounts.length) leaks.mounts = mounts;
  const cg = ids.flatMap((id) => cgroupsOf(id));
  if (cg.length) leaks.cgroups = cg;
  const procs = processesOf({ dirs: [bundle.dir], idPrefix: prefix });
  if (procs.length) leaks.processes = procs.map((p) => `${p.pid} ${p.cmd ?? ''} (${p.why ?? ''})`);
  const dirs = readdirSync(rt.root).filter((n) => ids.includes(n) || n.includes('soak'));
  if (dirs.length) leaks.stateDirs = dirs;
  if (Object.keys(fds).length) leaks.fds = fds;
  bundle.cleanup();
  return { seed, ms: Date.now() - started, counts, leaks, problems };
}

function safeReadlink(p) {
  try {
    return readlinkSync(p);
  } catch {
    return '?';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const result = await soak({
    cycles: Number(opt('cycles', 1000)),
    parallel: Number(opt('parallel', 4)),
    runtime: opt('runtime', 'runts'),
    seed: Number(opt('seed', Date.now() & 0xffffffff)),
    log: (l) => console.error(l),
  });
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.problems.length === 0 && Object.keys(result.leaks).length === 0 ? 0 : 1;
}
