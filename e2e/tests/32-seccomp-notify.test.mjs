// seccomp notify (SCMP_ACT_NOTIFY, linux.seccomp.listenerPath, listenerMetadata): the runtime sends
// the listener fd with the container process state to an agent (e2e/lib/seccomp-agent.py, which
// answers every notified syscall with a chosen errno), for run, create and exec; an agent that
// dies leaves the notified syscalls failing with ENOSYS; a missing agent fails create clearly and
// leaves nothing behind. Beside runc 1.1.5 on the same bundles.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runtime, makeBundle, newId, show, E2E_DIR, processesOf } from '../lib/index.mjs';

const rt = runtime();
const runc = runtime('runc');
const tmp = mkdtempSync(join(tmpdir(), 'runts-notify-'));
const bundles = [];
const agents = [];
after(() => {
  for (const a of agents) a.kill('SIGKILL');
  for (const b of bundles) b.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ENOMSG = 42; // "No message of desired type": only the agent answers that

let n = 0;
/** Starts an agent; resolves once it listens. */
async function agent() {
  const sock = join(tmp, `agent-${++n}.sock`);
  const states = join(tmp, `states-${n}.jsonl`);
  const child = spawn('python3', [join(E2E_DIR, 'lib/seccomp-agent.py'), sock, states, String(ENOMSG)], { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.push(child);
  await new Promise((res, rej) => {
    child.stdout.once('data', res);
    child.once('exit', () => rej(new Error('the agent exited')));
  });
  return { sock, child, states: () => (existsSync(states) ? readFileSync(states, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []) };
}

const profile = (sock) => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  listenerPath: sock,
  listenerMetadata: 'runts-e2e metadata',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
});

async function bundle(name, sock, args) {
  const b = await makeBundle({
    name,
    args,
    readonly: false,
    edit(c) {
      c.linux.seccomp = profile(sock);
    },
  });
  bundles.push(b);
  return b;
}

/** Waits until path holds text matching re. */
async function waitFile(path, re, ms = 20_000) {
  for (let i = 0; i < ms / 50; i++) {
    if (existsSync(path) && re.test(readFileSync(path, 'utf8'))) return readFileSync(path, 'utf8');
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${re} in ${path}: ${existsSync(path) ? readFileSync(path, 'utf8') : '(none)'}`);
}

describe(`seccomp notify (${rt.name}; runc 1.1.5 beside it)`, () => {
  for (const r of [rt, runc]) {
    test(`${r.name}: run: the agent gets the listener and the state, answers mkdir; killed mid-way, mkdir then gets ENOSYS`, async (t) => {
      const a = await agent();
      const script = 'mkdir /tmp/a 2>&1; echo first=$?; while [ ! -e /go ]; do sleep 0.05; done; mkdir /tmp/b 2>&1; echo second=$?';
      const b = await bundle(`notify-${r.name}`, a.sock, ['sh', '-c', script]);
      const id = newId(`notify-${r.name}`);
      t.after(() => r.forceDelete(id));
      const out = join(tmp, `out-${r.name}-${n}`);
      const running = r.run(id, { bundle: b.dir }, { stdout: out, stderr: `${out}.err` });
      await waitFile(out, /first=/);
      a.child.kill('SIGKILL');
      await new Promise((res) => a.child.once('exit', res));
      writeFileSync(join(b.rootfs, 'go'), '');
      const res = await running;
      assert.equal(res.code, 0, show(res));
      const text = readFileSync(out, 'utf8');
      assert.match(text, /mkdir: can't create directory '\/tmp\/a': No message of desired type\nfirst=1\n/, text);
      assert.match(text, /mkdir: can't create directory '\/tmp\/b': Function not implemented\nsecond=1\n$/, text);
      const [s] = a.states();
      assert.ok(s, 'the agent got the state');
      assert.deepEqual(s.fds, ['seccompFd']);
      assert.equal(s.metadata, 'runts-e2e metadata');
      assert.equal(typeof s.pid, 'number');
      assert.equal(s.state.id, id);
      assert.equal(s.state.status, 'creating');
      assert.equal(s.state.pid, s.pid);
      assert.equal(s.state.bundle, b.dir);
      t.diagnostic(`${r.name}: ${JSON.stringify({ ...s, pid: 'N', state: { ...s.state, pid: 'N' } })}`);
    });
  }

  for (const r of [rt, runc]) {
    test(`${r.name}: create + start, then exec: each process's listener reaches the agent`, async (t) => {
      const a = await agent();
      const b = await bundle(`notifyx-${r.name}`, a.sock, ['sleep', '1000']);
      const id = newId(`notifyx-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.create(id, { bundle: b.dir });
      assert.equal(c.code, 0, show(c));
      const s = await r.start(id);
      assert.equal(s.code, 0, show(s));
      const e = await r.exec(id, ['sh', '-c', 'mkdir /tmp/x 2>&1; echo rc=$?']);
      assert.equal(e.code, 0, show(e));
      assert.match(e.stdout, /No message of desired type\nrc=1\n$/, show(e));
      const states = a.states();
      assert.equal(states.length, 2, JSON.stringify(states));
      assert.equal(states[0].state.status, 'creating');
      assert.equal(states[1].state.status, 'running');
      assert.notEqual(states[1].pid, states[0].pid, "the exec'd process's own pid");
    });
  }

  test(`${rt.name}: no agent on listenerPath: create fails naming it, nothing is left behind (runc 1.1.5 too)`, async (t) => {
    const sock = join(tmp, 'nobody.sock');
    const b = await bundle('notify-none', sock, ['true']);
    for (const r of [rt, runc]) {
      const id = newId(`notify-none-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.create(id, { bundle: b.dir });
      assert.notEqual(c.code, 0, show(c));
      if (r === rt) assert.match(c.error, /linux\.seccomp\.listenerPath \(.*nobody\.sock\): connect .*nobody\.sock: No such file or directory/, show(c));
      else t.diagnostic(`runc 1.1.5: exit ${c.code}: ${c.error.trim()}`);
      const st = await r.state(id);
      assert.notEqual(st.code, 0, `no container: ${show(st)}`);
      assert.deepEqual(processesOf({ dirs: [b.dir], idPrefix: id }), [], 'no process left');
    }
  });

  test(`${rt.name}: SCMP_ACT_NOTIFY for write is refused with runc's reason (runc 1.1.5 refuses it too)`, async (t) => {
    const b = await makeBundle({
      name: 'notify-write',
      args: ['true'],
      edit(c) {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: join(tmp, 'x.sock'), syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] };
      },
    });
    bundles.push(b);
    for (const r of [rt, runc]) {
      const id = newId(`notify-write-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.run(id, { bundle: b.dir });
      assert.notEqual(c.code, 0, show(c));
      assert.match(c.error, /SCMP_ACT_NOTIFY cannot be used for the write syscall/, show(c));
    }
  });
});
