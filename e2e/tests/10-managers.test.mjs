// Real container managers with runts as their runtime, the way users plug it in: Podman (conmon),
// containerd (ctr, shim v2) and Docker (dockerd, a `runtimes` entry in daemon.json) each run a
// busybox image made by tools/make-rootfs: run, detached run, exec with an exit code, pause/resume,
// stop/kill, remove, and their everyday options (--read-only, --tmpfs, --device, --ulimit, --memory,
// --cpus, --pids-limit, --user, --cap-add/--cap-drop, --init, exec -it, update, stats, inspect,
// restart, events), each also with runc as the runtime, and the two compared. Each gets its own
// storage and, for containerd and dockerd, its own daemon, all removed at the end. Podman asks for RLIMIT_NOFILE above this
// host's hard limit, so the tests pass --ulimit; Podman's own default seccomp profile is used.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUN_DIR, MAKE_ROOTFS, cleanEnv, newId, safeRemove, RUNTS_COMMAND } from '../lib/index.mjs';
import { dockerArchive as dockerArchiveOf, dockerdConfig } from '../lib/docker.mjs';

const dir = join(RUN_DIR, `managers-${process.pid}`);
const wrapper = join(dir, 'runts'); // what the managers call: runts, without the CA bundle env
const image = 'localhost/rte2e-busybox:latest';
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
/** The runtimes each option case runs with: runts (the wrapper) and runc, compared. */
const RUNTIMES = () => [['runts', wrapper], ['runc', 'runc']];

// One container, many options: what it prints is compared between runts and runc.
// the limits from cgroup v1 files, or v2's (the guest lane runs this file too)
const CG = {
  memory: 'm=/sys/fs/cgroup/memory/memory.limit_in_bytes; [ -f $m ] || m=/sys/fs/cgroup/memory.max; echo memory $(cat $m)',
  pids: 'p=/sys/fs/cgroup/pids/pids.max; [ -f $p ] || p=/sys/fs/cgroup/pids.max; echo pids $(cat $p)',
  quota: 'q=/sys/fs/cgroup/cpu/cpu.cfs_quota_us; [ -f $q ] || q=/sys/fs/cgroup/cpu.max; echo quota $(cut -d" " -f1 $q)',
};
const OPTIONS_SCRIPT = [
  'echo user $(id -u):$(id -g)',
  'grep CapEff /proc/self/status',
  'echo nofile $(ulimit -n)',
  CG.memory,
  CG.pids,
  CG.quota,
  'echo init $(tr "\\0" " " < /proc/1/cmdline | cut -d" " -f1)',
].join('; ');
const OPTIONS_OUT = (init, capEff) => `user 1000:1000\nCapEff:\t${capEff}\nnofile 1234\nmemory 67108864\npids 50\nquota 50000\ninit ${init}\n`;

/** Runs `cmd` under a pty (script(1)): for `exec -it`. */
const underPty = (argv) => sh(['script', '-qec', argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' '), '/dev/null']);

const dockerArchive = () => dockerArchiveOf(join(dir, 'busybox.tar'), dir, image);

function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: cleanEnv(), timeout: 60_000, ...opts });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', text: `$ ${argv.join(' ')}\n-> ${r.status}\n${r.stdout}\n${r.stderr}` };
}

before(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(wrapper, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec ${RUNTS_COMMAND.join(' ')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const rootfs = join(dir, 'rootfs');
  assert.equal(sh(['bash', MAKE_ROOTFS, rootfs]).code, 0);
  assert.equal(sh(['tar', '-C', rootfs, '-cf', join(dir, 'busybox.tar'), '.']).code, 0);
});
after(() => safeRemove(dir));

describe('podman with runts', { skip: have('podman') ? false : 'podman is not installed (tools/setup.sh installs it)' }, () => {
  const store = () => ['--root', join(dir, 'podman-root'), '--runroot', join(dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--runtime', wrapper];
  const opts = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=1000:1000'];
  const podman = (...a) => sh(['podman', ...store(), ...a]);
  before(() => {
    const r = podman('import', join(dir, 'busybox.tar'), image);
    assert.equal(r.code, 0, r.text);
  });
  after(() => {
    podman('rm', '--all', '--force', '--time', '0');
    sh(['podman', ...store(), 'system', 'reset', '--force']);
  });

  test('podman run: output, exit code, the container sees its own namespaces', () => {
    const r = podman('run', '--rm', ...opts, image, 'sh', '-c', 'echo hello; test "$$" = 1 && echo pid1; grep "^Seccomp:" /proc/self/status; exit 5');
    assert.equal(r.code, 5, r.text);
    assert.equal(r.stdout, 'hello\npid1\nSeccomp:\t2\n', 'with podman\'s default seccomp profile');
  });

  test('podman run --read-only --tmpfs (Podman adds tmpcopyup, runc\'s EXT_COPYUP)', () => {
    // (each with runts and with runc; /etc's files are copied up into the tmpfs over it)
    for (const [label, rt] of RUNTIMES()) {
      const r = sh(['podman', ...store().slice(0, -2), '--runtime', rt, 'run', '--rm', '--read-only', '--tmpfs', '/etc/x', '--tmpfs', '/etc', ...opts, image, 'sh', '-c', 'touch /etc/x/a && echo tmpfs-ok; test -s /etc/passwd && echo copyup-ok; touch /bin/x 2>/dev/null || echo ro-ok; touch /tmp/t && echo tmp-ok']);
      assert.equal(r.code, 0, `${label}: ${r.text}`);
      assert.equal(r.stdout, 'tmpfs-ok\ncopyup-ok\nro-ok\ntmp-ok\n', `${label}: ${r.text}`);
    }
  });

  test('podman run -d, exec, top, pause/unpause, stop, rm', () => {
    const name = newId('pm');
    const d = podman('run', '-d', '--name', name, ...opts, image, 'sleep', '1000');
    assert.equal(d.code, 0, d.text);
    try {
      const e = podman('exec', name, 'sh', '-c', 'echo exec-ok; exit 3');
      assert.equal(e.code, 3, e.text);
      assert.equal(e.stdout, 'exec-ok\n');
      assert.match(podman('top', name).stdout, /sleep 1000/);
      assert.equal(podman('pause', name).code, 0);
      assert.match(podman('inspect', '--format', '{{.State.Status}}', name).stdout, /paused/);
      assert.equal(podman('unpause', name).code, 0);
      const s = podman('stop', '-t', '1', name);
      assert.equal(s.code, 0, s.text);
      assert.match(podman('inspect', '--format', '{{.State.Status}}', name).stdout, /exited/);
    } finally {
      assert.equal(podman('rm', '--force', name).code, 0);
    }
  });
  test('podman run --memory --cpus --pids-limit --user --cap-drop/--cap-add --init --ulimit: runts as runc', () => {
    const out = {};
    for (const [name, rt] of RUNTIMES()) {
      const r = sh(['podman', ...store().slice(0, -2), '--runtime', rt, 'run', '--rm', '--ulimit', 'nofile=1234:1234', '--ulimit', 'nproc=1000:1000', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', '--user', '1000:1000', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--init', image, 'sh', '-c', OPTIONS_SCRIPT]);
      assert.equal(r.code, 0, `${name}: ${r.text}`);
      out[name] = r.stdout;
    }
    assert.equal(out.runc, OPTIONS_OUT('/run/podman-init', '0000000000001000'));
    assert.equal(out.runts, out.runc);
  });

  test('podman exec -it, update, stats, inspect, restart, events: runts as runc', () => {
    for (const [label, rt] of RUNTIMES()) {
      const p = (...a) => sh(['podman', ...store().slice(0, -2), '--runtime', rt, ...a]);
      const name = newId(`pmo${label}`);
      const d = p('run', '-d', '--name', name, ...opts, image, 'sleep', '1000');
      assert.equal(d.code, 0, `${label}: ${d.text}`);
      try {
        const it = underPty(['podman', ...store().slice(0, -2), '--runtime', rt, 'exec', '-it', name, 'sh', '-c', 'tty; exit 4']);
        assert.equal(it.code, 4, `${label}: ${it.text}`);
        assert.match(it.stdout, /\/dev\/pts\/\d+/, label);
        const u = p('update', '--memory', '128m', '--cpus', '1', name);
        assert.equal(u.code, 0, `${label}: ${u.text}`);
        assert.equal(p('exec', name, 'sh', '-c', `${CG.memory}; ${CG.quota}`).stdout, 'memory 134217728\nquota 100000\n', label);
        const st = p('stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', name);
        assert.equal(st.code, 0, `${label}: ${st.text}`);
        // (podman 4.3 shows the host's memory as the limit here, with runc too)
        assert.match(st.stdout, /^[\d.]+[kMG]?B \/ [\d.]+[kMG]?B 1\n$/, `${label}: ${st.stdout}`);
        assert.equal(p('inspect', '--format', '{{.State.Status}} {{.OCIRuntime}}', name).stdout, `running ${rt}\n`, label);
        const pid1 = p('inspect', '--format', '{{.State.Pid}}', name).stdout;
        const r = p('restart', '-t', '1', name);
        assert.equal(r.code, 0, `${label}: ${r.text}`);
        assert.equal(p('inspect', '--format', '{{.State.Status}}', name).stdout, 'running\n', label);
        assert.notEqual(p('inspect', '--format', '{{.State.Pid}}', name).stdout, pid1, `${label}: a new init`);
        const ev = p('events', '--stream=false', '--since', '5m', '--filter', `container=${name}`, '--format', '{{.Status}}');
        assert.equal(ev.code, 0, `${label}: ${ev.text}`);
        for (const e of ['start', 'exec', 'restart']) assert.match(ev.stdout, new RegExp(`^${e}$`, 'm'), `${label}: ${ev.stdout}`);
      } finally {
        assert.equal(p('rm', '--force', '--time', '0', name).code, 0);
      }
    }
  });
});

describe('containerd (ctr) with runts', { skip: have('containerd') && have('ctr') ? false : 'containerd is not installed (tools/setup.sh installs it)' }, () => {
  const addr = join(dir, 'containerd.sock');
  let daemon;
  const ctr = (...a) => sh(['ctr', '--address', addr, ...a]);
  before(async () => {
    mkdirSync(join(dir, 'containerd'), { recursive: true });
    writeFileSync(join(dir, 'containerd.toml'), `version = 2\nroot = "${join(dir, 'containerd', 'root')}"\nstate = "${join(dir, 'containerd', 'state')}"\n[grpc]\n  address = "${addr}"\n[ttrpc]\n  address = "${addr}.ttrpc"\n`);
    daemon = spawn('containerd', ['--config', join(dir, 'containerd.toml')], { stdio: 'ignore', env: cleanEnv() });
    for (let i = 0; i < 100 && !existsSync(addr); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(addr), 'containerd is up');
    const r = ctr('images', 'import', dockerArchive());
    assert.equal(r.code, 0, r.text);
  });
  after(async () => {
    for (const t of ctr('tasks', 'ls', '-q').stdout.split('\n').filter(Boolean)) ctr('tasks', 'kill', '-s', 'SIGKILL', t);
    await new Promise((r) => setTimeout(r, 300));
    for (const c of ctr('containers', 'ls', '-q').stdout.split('\n').filter(Boolean)) {
      ctr('tasks', 'delete', '-f', c);
      ctr('containers', 'delete', c);
    }
    daemon?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
  });

  test('ctr run: output and exit code through the shim', () => {
    const r = ctr('run', '--rm', '--runc-binary', wrapper, image, newId('ctr'), 'sh', '-c', 'echo hello from ctr; exit 4');
    assert.equal(r.code, 4, r.text);
    assert.equal(r.stdout, 'hello from ctr\n');
  });

  test('ctr run -d, task exec, pause/resume, kill, delete', async () => {
    const id = newId('ctrd');
    const d = ctr('run', '-d', '--runc-binary', wrapper, image, id, 'sleep', '1000');
    assert.equal(d.code, 0, d.text);
    const e = ctr('tasks', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo exec-ok; exit 3');
    assert.equal(e.code, 3, e.text);
    assert.equal(e.stdout, 'exec-ok\n');
    assert.equal(ctr('tasks', 'pause', id).code, 0);
    assert.match(ctr('tasks', 'ls').stdout, new RegExp(`${id}\\s+\\d+\\s+PAUSED`));
    assert.equal(ctr('tasks', 'resume', id).code, 0);
    assert.equal(ctr('tasks', 'kill', '-s', 'SIGKILL', id).code, 0);
    for (let i = 0; i < 50 && !/STOPPED/.test(ctr('tasks', 'ls').stdout); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(ctr('tasks', 'ls').stdout, new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
    assert.equal(ctr('tasks', 'delete', id).code, 0);
    assert.equal(ctr('containers', 'delete', id).code, 0);
  });

  test('ctr run --read-only --mount tmpfs --device --memory-limit --cpus --cap-drop, tasks metrics: runts as runc', async () => {
    const out = {};
    // (ctr mounts no /sys/fs/cgroup: the limits are read through tasks metrics below)
    const script = 'touch /ro 2>/dev/null || echo ro; touch /x/a && echo tmpfs; test -c /dev/fuse && echo fuse; grep CapEff /proc/self/status';
    for (const [label, rt] of RUNTIMES()) {
      const r = ctr('run', '--rm', '--runc-binary', rt, '--read-only', '--mount', 'type=tmpfs,src=tmpfs,dst=/x,options=rw:nosuid', '--device', '/dev/fuse', '--memory-limit', '67108864', '--cpus', '0.5', '--cap-drop', 'CAP_CHOWN', image, newId(`ctro${label}`), 'sh', '-c', script);
      assert.equal(r.code, 0, `${label}: ${r.text}`);
      out[label] = r.stdout;
      const id = newId(`ctrm${label}`);
      assert.equal(ctr('run', '-d', '--runc-binary', rt, '--memory-limit', '67108864', image, id, 'sleep', '1000').code, 0);
      try {
        const m = ctr('tasks', 'metrics', id);
        assert.equal(m.code, 0, `${label}: ${m.text}`);
        assert.match(m.stdout, /memory\.limit_in_bytes\s+67108864|67108864/, `${label}: ${m.stdout}`);
      } finally {
        ctr('tasks', 'kill', '-s', 'SIGKILL', id);
        for (let i = 0; i < 50 && !new RegExp(`${id}\\s+\\d+\\s+STOPPED`).test(ctr('tasks', 'ls').stdout); i++) await new Promise((res) => setTimeout(res, 100));
        ctr('tasks', 'delete', id);
        ctr('containers', 'delete', id);
      }
    }
    assert.equal(out.runc, 'ro\ntmpfs\nfuse\nCapEff:\t00000000a80425fa\n');
    assert.equal(out.runts, out.runc);
  });
});

describe('docker (dockerd) with runts', { skip: have('dockerd') && existsSync('/usr/bin/docker') ? false : 'dockerd is not installed (tools/setup.sh installs docker.io)' }, () => {
  // dockerd with its own data root, exec root and socket, no bridge and no iptables rules (the host's
  // network is left alone), runts and runc as named runtimes in its daemon.json
  const sock = join(dir, 'docker.sock');
  let daemon;
  const docker = (...a) => sh(['/usr/bin/docker', '-H', `unix://${sock}`, ...a]);
  before(async () => {
    const conf = dockerdConfig(join(dir, 'docker'), sock, { runts: wrapper });
    mkdirSync(join(dir, 'docker'), { recursive: true });
    writeFileSync(join(dir, 'docker', 'daemon.json'), JSON.stringify(conf));
    daemon = spawn('dockerd', ['--config-file', join(dir, 'docker', 'daemon.json')], { stdio: ['ignore', 'ignore', 'ignore'], env: cleanEnv() });
    for (let i = 0; i < 200 && docker('version').code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(docker('version').code, 0, 'dockerd is up');
    const r = docker('load', '-i', dockerArchive());
    assert.equal(r.code, 0, r.text);
  });
  after(async () => {
    const ids = docker('ps', '-aq').stdout.split('\n').filter(Boolean);
    if (ids.length > 0) docker('rm', '-f', ...ids);
    if (daemon) {
      daemon.kill('SIGTERM');
      await new Promise((r) => (daemon.exitCode !== null ? r() : daemon.once('exit', r)));
    }
  });
  const run = (rt, ...a) => docker('run', '--rm', '--runtime', rt === 'runc' ? 'runc' : 'runts', '--network', 'none', ...a);

  test('docker run: output and exit code', () => {
    for (const [label] of RUNTIMES()) {
      const r = run(label, image, 'sh', '-c', 'echo hello from docker; exit 6');
      assert.equal(r.code, 6, `${label}: ${r.text}`);
      assert.equal(r.stdout, 'hello from docker\n');
    }
  });

  test('docker run --read-only --tmpfs --device: runts as runc', () => {
    const out = {};
    for (const [label] of RUNTIMES()) {
      const r = run(label, '--read-only', '--tmpfs', '/x', '--device', '/dev/fuse', image, 'sh', '-c', 'touch /ro 2>/dev/null || echo ro; touch /x/a && echo tmpfs; ls -l /dev/fuse | cut -c1-10');
      assert.equal(r.code, 0, `${label}: ${r.text}`);
      out[label] = r.stdout;
    }
    assert.equal(out.runc, 'ro\ntmpfs\ncrw-------\n');
    assert.equal(out.runts, out.runc);
  });

  test('docker run --memory --cpus --pids-limit --user --cap-drop/--cap-add --init --ulimit: runts as runc', () => {
    const out = {};
    for (const [label] of RUNTIMES()) {
      const r = run(label, '--ulimit', 'nofile=1234:1234', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', '--user', '1000:1000', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--init', image, 'sh', '-c', OPTIONS_SCRIPT);
      assert.equal(r.code, 0, `${label}: ${r.text}`);
      out[label] = r.stdout;
    }
    assert.equal(out.runc, OPTIONS_OUT('/sbin/docker-init', '0000000000000000'));
    assert.equal(out.runts, out.runc);
  });

  test('docker exec -it, update, stats, inspect, restart, pause, events: runts as runc', () => {
    for (const [label] of RUNTIMES()) {
      const name = newId(`dk${label}`);
      const d = docker('run', '-d', '--name', name, '--runtime', label, '--network', 'none', image, 'sleep', '1000');
      assert.equal(d.code, 0, `${label}: ${d.text}`);
      try {
        const it = underPty(['/usr/bin/docker', '-H', `unix://${sock}`, 'exec', '-it', name, 'sh', '-c', 'tty; exit 4']);
        assert.equal(it.code, 4, `${label}: ${it.text}`);
        assert.match(it.stdout, /\/dev\/pts\/\d+/, label);
        const u = docker('update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '77', name);
        assert.equal(u.code, 0, `${label}: ${u.text}`);
        assert.equal(docker('exec', name, 'sh', '-c', `${CG.memory}; ${CG.pids}`).stdout, 'memory 134217728\npids 77\n', label);
        const st = docker('stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', name);
        assert.equal(st.code, 0, `${label}: ${st.text}`);
        assert.match(st.stdout, / \/ 128MiB 1\n$/, `${label}: ${st.stdout}`);
        assert.equal(docker('inspect', '--format', '{{.State.Status}} {{.HostConfig.Runtime}}', name).stdout, `running ${label}\n`);
        const pid1 = docker('inspect', '--format', '{{.State.Pid}}', name).stdout;
        assert.equal(docker('restart', '-t', '1', name).code, 0, label);
        assert.equal(docker('inspect', '--format', '{{.State.Status}}', name).stdout, 'running\n', label);
        assert.notEqual(docker('inspect', '--format', '{{.State.Pid}}', name).stdout, pid1, `${label}: a new init`);
        assert.equal(docker('pause', name).code, 0, label);
        assert.equal(docker('inspect', '--format', '{{.State.Status}}', name).stdout, 'paused\n', label);
        assert.equal(docker('unpause', name).code, 0, label);
        // (--until a second ahead: the last events are in)
        const ev = docker('events', '--since', '5m', '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{.Action}}');
        assert.equal(ev.code, 0, `${label}: ${ev.text}`);
        for (const e of ['create', 'start', 'update', 'kill', 'die', 'stop', 'restart', 'pause', 'unpause']) assert.match(ev.stdout, new RegExp(`^${e}$`, 'm'), `${label}: ${ev.stdout}`);
      } finally {
        docker('rm', '-f', name);
      }
    }
  });
});
