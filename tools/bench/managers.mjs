// `run --rm true` through the container managers (Podman, containerd's ctr, and Docker: a dockerd
// of its own), with runc and with runts, alternating, and how many runtime calls each run makes:
// the runtime is called through a logging wrapper (one line per call; the same wrapper for both).
// Issue 11's goal: runts takes no longer than runc plus one `node -e 0` per call.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, chmodSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { dockerArchive, dockerdConfig } from '../../e2e/lib/docker.mjs';

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const lines = (f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);

export async function figManagers({ runts, runc, nodeFloor, env, n, work, repo }) {
  console.log('\n[managers] `run --rm true` through podman, ctr and docker, with runc and with runts (calls counted by a logging wrapper)');
  const dir = path.join(work, 'managers');
  mkdirSync(dir, { recursive: true });
  const sh = (argv, opts = {}) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, timeout: 120_000, ...opts });
  const wrappers = {};
  for (const [name, cmd] of [['runc', [runc]], ['runts', runts]]) {
    const log = path.join(dir, `${name}.calls`);
    const w = path.join(dir, `${name}-wrapper`);
    writeFileSync(w, `#!/bin/sh\necho "$*" >> ${log}\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec ${cmd.join(' ')} "$@"\n`);
    chmodSync(w, 0o755);
    wrappers[name] = { path: w, log };
  }
  const rootfs = path.join(dir, 'rootfs');
  if (sh(['bash', path.join(repo, 'tools/make-rootfs/make-rootfs.sh'), rootfs]).status !== 0) return [{ manager: 'all', error: 'make-rootfs failed' }];
  sh(['tar', '-C', rootfs, '-cf', path.join(dir, 'busybox.tar'), '.']);
  const image = 'localhost/runts-bench-busybox:latest';
  const results = [];

  /** Alternates runc and runts, n timed runs each after one warm-up; `cmd(wrapper)` is one run. */
  const measure = (manager, cmd) => {
    const t = { runc: [], runts: [] };
    const calls = { runc: [], runts: [] };
    for (let i = 0; i < n + 1; i++) {
      for (const rt of i % 2 ? ['runts', 'runc'] : ['runc', 'runts']) {
        const before = lines(wrappers[rt].log);
        const t0 = process.hrtime.bigint();
        const r = cmd(wrappers[rt].path, `rb-${manager}-${rt}-${i}`);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) return { manager, error: `${rt}: exit ${r.status}: ${(r.stderr || '').trim().split('\n').at(-1)}` };
        if (i > 0) {
          t[rt].push(ms);
          calls[rt].push(lines(wrappers[rt].log) - before);
        }
      }
    }
    const out = { manager, runc: median(t.runc), runts: median(t.runts), calls: median(calls.runts), callsRunc: median(calls.runc), nodeFloor, n };
    console.log(`  ${manager.padEnd(8)} runc ${out.runc.toFixed(1)} ms   runts ${out.runts.toFixed(1)} ms   runtime calls per run: ${out.calls} (runc ${out.callsRunc}); runc + calls × node -e 0 = ${(out.runc + out.calls * nodeFloor).toFixed(1)} ms`);
    return out;
  };

  if (have('podman')) {
    const store = ['--root', path.join(dir, 'podman-root'), '--runroot', path.join(dir, 'podman-run'), '--cgroup-manager', 'cgroupfs'];
    if (sh(['podman', ...store, 'import', path.join(dir, 'busybox.tar'), image]).status === 0) {
      results.push(measure('podman', (w) => sh(['podman', ...store, '--runtime', w, 'run', '--rm', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=1000:1000', image, 'true'])));
    } else results.push({ manager: 'podman', error: 'podman import failed' });
    sh(['podman', ...store, 'rm', '--all', '--force', '--time', '0']);
    sh(['podman', ...store, 'system', 'reset', '--force']);
  } else results.push({ manager: 'podman', error: 'not installed' });

  if (have('containerd') && have('ctr')) {
    const addr = path.join(dir, 'containerd.sock');
    writeFileSync(path.join(dir, 'containerd.toml'), `version = 2\nroot = "${path.join(dir, 'ctd', 'root')}"\nstate = "${path.join(dir, 'ctd', 'state')}"\n[grpc]\n  address = "${addr}"\n[ttrpc]\n  address = "${addr}.ttrpc"\n`);
    const daemon = spawn('containerd', ['--config', path.join(dir, 'containerd.toml')], { stdio: 'ignore', env });
    try {
      for (let i = 0; i < 100 && !existsSync(addr); i++) await sleep(100);
      const ctr = (...a) => sh(['ctr', '--address', addr, ...a]);
      const tar = dockerArchive(path.join(dir, 'busybox.tar'), dir, image);
      if (ctr('images', 'import', tar).status === 0) results.push(measure('ctr', (w, id) => ctr('run', '--rm', '--runc-binary', w, image, id, 'true')));
      else results.push({ manager: 'ctr', error: 'ctr images import failed' });
    } finally {
      daemon.kill('SIGTERM');
      await sleep(300);
    }
  } else results.push({ manager: 'ctr', error: 'not installed' });

  if (have('dockerd') && have('docker')) results.push(await measureDocker(dir, env, sh, wrappers, image, measure));
  else results.push({ manager: 'docker', error: 'dockerd is not installed (tools/setup.sh installs docker.io)' });
  for (const r of results) if (r.error) console.log(`  ${r.manager.padEnd(8)} not measured: ${r.error}`);
  rmSync(rootfs, { recursive: true, force: true });
  return results;
}

/** Docker: a dockerd of the bench's own (e2e/lib/docker.mjs: its own data root, exec root and
 *  socket, no bridge or iptables rules; the host's network and any other dockerd are left alone),
 *  with both wrappers as named runtimes in its daemon.json (`runc` is Docker's own name, so
 *  `bench-runc` and `bench-runts`), as e2e/tests/10-managers runs it. */
async function measureDocker(dir, env, sh, wrappers, image, measure) {
  const root = path.join(dir, 'docker');
  const sock = path.join(root, 'docker.sock');
  mkdirSync(root, { recursive: true });
  const conf = dockerdConfig(root, sock, { 'bench-runc': wrappers.runc.path, 'bench-runts': wrappers.runts.path });
  writeFileSync(path.join(root, 'daemon.json'), JSON.stringify(conf));
  const daemon = spawn('dockerd', ['--config-file', path.join(root, 'daemon.json')], { stdio: 'ignore', env });
  const exited = new Promise((r) => daemon.once('exit', r));
  const docker = (...a) => sh(['docker', '-H', `unix://${sock}`, ...a]);
  try {
    let up = false;
    for (let i = 0; i < 300 && !up && daemon.exitCode === null; i++) {
      up = docker('version').status === 0;
      if (!up) await sleep(100);
    }
    if (!up) return { manager: 'docker', error: `dockerd did not start (${daemon.exitCode === null ? 'no answer in 30 s' : `exit ${daemon.exitCode}`})` };
    const r = docker('load', '-i', dockerArchive(path.join(dir, 'busybox.tar'), dir, image));
    if (r.status !== 0) return { manager: 'docker', error: `docker load failed: ${(r.stderr || '').trim().split('\n').at(-1)}` };
    return measure('docker', (w) => docker('run', '--rm', '--runtime', w === wrappers.runc.path ? 'bench-runc' : 'bench-runts', '--network', 'none', image, 'true'));
  } finally {
    const ids = docker('ps', '-aq').stdout?.split('\n').filter(Boolean) ?? [];
    if (ids.length > 0) docker('rm', '-f', ...ids);
    daemon.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}
