#!/usr/bin/env node
// run.mjs: boots the runts guest (a Debian 12 with systemd on pure cgroup v2, made by build-image.sh)
// with qemu-system-x86_64, runs one command inside as root (or as the unprivileged user `rootless`),
// streams its stdout and stderr here, exits with its exit code, and powers the guest off.
//
//   tools/guest/run.sh [options] [--] CMD [ARG...]
//     --user rootless     run CMD as the unprivileged user (a transient unit of its user systemd,
//                         Delegate=yes, with XDG_RUNTIME_DIR and the session bus set)
//     --cwd DIR           working directory in the guest (default: this checkout's root)
//     --timeout S         kill the guest after S seconds of running (default 3600): exit 124
//     --boot-timeout S    how long a boot may take before "guest: cannot boot" (default 240 under
//                         TCG, 60 under KVM before falling back to TCG)
//     --cpus N --mem MiB  the guest's size (default 2 vCPUs, 3072 MiB)
//   env: RUNTS_GUEST_ACCEL=kvm|tcg (skip the probe), RUNTS_GUEST_CACHE (image cache dir),
//        RUNTS_GUEST_CONSOLE=FILE (keep the guest's serial console log there)
//
// In the guest: the checkout is mounted (9p) at the same path as here, the host's node binary is
// /usr/local/bin/node, /tmp is a tmpfs, E2E_WORK_DIR=/var/tmp/runts-e2e (the guest's own disk)
// and RUNTS_GUEST=1. The guest's disk is a throwaway snapshot: nothing it writes outside the
// checkout survives the run. Exit codes: CMD's, 124 on timeout, 125 when the guest cannot boot.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, openSync, readSync, closeSync, fstatSync, statSync, rmSync, realpathSync, accessSync, constants, copyFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { release } from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const CACHE = process.env.RUNTS_GUEST_CACHE ?? '/var/cache/runts-guest';

function die(msg, code = 125) {
  process.stderr.write(`guest: ${msg}\n`);
  process.exit(code);
}

// ---- arguments
const opts = { user: 'root', cwd: REPO, timeout: 3600, bootTimeout: undefined, cpus: 2, mem: 3072 };
const argv = process.argv.slice(2);
let cmd = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) die(`${a} needs a value`, 2);
    return argv[++i];
  };
  if (a === '--') {
    cmd = argv.slice(i + 1);
    break;
  } else if (a === '--user') opts.user = val();
  else if (a === '--cwd') opts.cwd = resolve(val());
  else if (a === '--timeout') opts.timeout = Number(val());
  else if (a === '--boot-timeout') opts.bootTimeout = Number(val());
  else if (a === '--cpus') opts.cpus = Number(val());
  else if (a === '--mem') opts.mem = Number(val());
  else if (a === '-h' || a === '--help') {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    process.exit(0);
  } else if (a.startsWith('-')) die(`unknown option ${a}`, 2);
  else {
    cmd = argv.slice(i);
    break;
  }
}
if (cmd.length === 0) die('no command given (usage: tools/guest/run.sh [options] CMD...)', 2);
if (!['root', 'rootless'].includes(opts.user)) die(`--user ${opts.user}: the guest has root and rootless`, 2);
for (const k of ['timeout', 'cpus', 'mem']) if (!(opts[k] > 0)) die(`--${k}: expected a positive number`, 2);
if (process.getuid() !== 0) die('must run as root (qemu shares the checkout with security_model=none)', 2);
try {
  execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
} catch {
  die('cannot boot: qemu-system-x86_64 is missing (apt-get install qemu-system-x86)');
}

// ---- the image (built once per set of inputs, cached)
let image;
try {
  image = execFileSync('bash', [join(HERE, 'build-image.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }).trim().split('\n').pop();
} catch (e) {
  die(`cannot boot: the image could not be built (tools/guest/build-image.sh exited ${e.status})`);
}
for (const f of ['vmlinuz', 'initrd.img', 'rootfs.img']) if (!existsSync(join(image, f))) die(`cannot boot: ${join(image, f)} is missing`);

// ---- the control share: the job script in, the output and the exit code out
const ctl = mkdtempSync('/tmp/runts-guest-');
const nodeDir = dirname(realpathSync(process.execPath));
const q = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;
const mount9p = (tag, dir, extra = '') =>
  `mkdir -p ${q(dir)} && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144${extra} ${tag} ${q(dir)}`;
const asUser = opts.user === 'rootless' ? `sh ${q(join(REPO, 'tools/guest/as-rootless.sh'))} ` : '';
writeFileSync(
  join(ctl, 'job.sh'),
  `# written by tools/guest/run.mjs
cut -d' ' -f1 /proc/uptime > /run/ctl/booted.tmp && mv /run/ctl/booted.tmp /run/ctl/booted
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
${mount9p('repo', REPO, ',cache=loose')} || { echo 'guest: cannot mount the checkout' > /run/ctl/err; echo 125 > /run/ctl/rc; systemctl poweroff -ff; }
${mount9p('node', '/opt/host-node', ',cache=loose,ro')} && ln -sf /opt/host-node/node /usr/local/bin/node
mkdir -p /var/tmp/runts-e2e && chmod 1777 /var/tmp/runts-e2e
export RUNTS_GUEST=1 E2E_WORK_DIR=/var/tmp/runts-e2e
# a heartbeat every 30 s, for a run that times out: was the guest alive, and what was it running
(while :; do { echo "at $(cut -d' ' -f1 /proc/uptime) s of uptime; load $(cut -d' ' -f1-4 /proc/loadavg); $(grep MemAvailable /proc/meminfo)"; ps -N --ppid 2 -o pid,ppid,stat,etimes,time,rss,args --sort=etimes | cut -c1-160 | head -n 16; dmesg 2>/dev/null | tail -n 5; } > /run/ctl/heartbeat.tmp 2>&1 && mv /run/ctl/heartbeat.tmp /run/ctl/heartbeat; sleep 30; done) &
cd ${q(opts.cwd)} && ${asUser}${cmd.map(q).join(' ')} > /run/ctl/out 2> /run/ctl/err < /dev/null
echo $? > /run/ctl/rc.tmp && mv /run/ctl/rc.tmp /run/ctl/rc
sync
systemctl poweroff -ff
`,
);
writeFileSync(join(ctl, 'out'), '');
writeFileSync(join(ctl, 'err'), '');

// ---- the accelerator: KVM when it boots here (probed once per host kernel, remembered), else TCG
const accelFile = join(CACHE, 'accel');
const hostKey = `${release()} ${execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`;
function rememberedAccel() {
  if (process.env.RUNTS_GUEST_ACCEL) return process.env.RUNTS_GUEST_ACCEL;
  try {
    const [accel, ...key] = readFileSync(accelFile, 'utf8').trim().split(' ');
    if (key.join(' ') === hostKey) return accel;
  } catch {}
  return undefined;
}
function kvmUsable() {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function qemuArgs(accel) {
  const kvm = accel === 'kvm';
  return [
    '-name', 'runts-guest', '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-machine', 'q35', ...(kvm ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-smp', String(opts.cpus), '-m', String(opts.mem),
    '-kernel', join(image, 'vmlinuz'), '-initrd', join(image, 'initrd.img'),
    '-append', 'root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=0 panic=-1 mitigations=off',
    '-drive', `file=${join(image, 'rootfs.img')},if=virtio,format=raw,snapshot=on,cache=unsafe`,
    '-device', 'virtio-rng-pci',
    '-virtfs', `local,path=${ctl},mount_tag=ctl,security_model=none,id=ctl`,
    '-virtfs', `local,path=${REPO},mount_tag=repo,security_model=none,id=repo`,
    '-virtfs', `local,path=${nodeDir},mount_tag=node,security_model=none,readonly=on,id=node`,
    '-serial', `file:${join(ctl, 'console.log')}`,
  ];
}

// ---- run
let qemu;
let stopping = false;
const offsets = { out: 0, err: 0 };
function pump() {
  for (const [name, stream] of [['out', process.stdout], ['err', process.stderr]]) {
    let fd;
    try {
      fd = openSync(join(ctl, name), 'r');
    } catch {
      continue;
    }
    try {
      const size = fstatSync(fd).size;
      if (size > offsets[name]) {
        const buf = Buffer.alloc(size - offsets[name]);
        const n = readSync(fd, buf, 0, buf.length, offsets[name]);
        offsets[name] += n;
        stream.write(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The guest's last heartbeat (job.sh writes one every 30 s: uptime, load, memory, the newest
 *  processes, the kernel's last lines) and how long ago it came: after a timeout, it tells a guest
 *  that stopped answering from a command that hung in a live guest. */
function lastHeartbeat() {
  try {
    const f = join(ctl, 'heartbeat');
    const age = ((Date.now() - statSync(f).mtimeMs) / 1000).toFixed(0);
    return `the guest's last heartbeat, ${age} s ago:\n${readFileSync(f, 'utf8').trimEnd()}`;
  } catch {
    return 'no heartbeat from the guest';
  }
}
function consoleTail() {
  try {
    const text = readFileSync(join(ctl, 'console.log'), 'utf8').trim();
    return text === '' ? '(no console output yet)' : text.split('\n').slice(-15).join('\n');
  } catch {
    return '(no console output)';
  }
}
function cleanup() {
  if (process.env.RUNTS_GUEST_CONSOLE) {
    try {
      copyFileSync(join(ctl, 'console.log'), process.env.RUNTS_GUEST_CONSOLE);
    } catch {}
  }
  rmSync(ctl, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopping = true;
    qemu?.kill('SIGKILL');
    cleanup();
    process.exit(130);
  });
}

/** One boot with `accel`: 'booted' | {failed: reason}. Leaves qemu running when booted. */
async function boot(accel, limitS) {
  const t0 = Date.now();
  const tmpdir = join(CACHE, 'tmp'); // qemu's snapshot overlay: on disk, not in /tmp
  mkdirSync(tmpdir, { recursive: true });
  qemu = spawn('qemu-system-x86_64', qemuArgs(accel), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmpdir } });
  let qemuErr = '';
  let exited = null;
  qemu.stderr.on('data', (d) => (qemuErr += d));
  qemu.on('exit', (c, s) => (exited = s ?? c));
  qemu.on('error', (e) => (exited = e.message));
  while (Date.now() - t0 < limitS * 1000) {
    if (existsSync(join(ctl, 'booted'))) {
      const up = readFileSync(join(ctl, 'booted'), 'utf8').trim();
      process.stderr.write(`guest: booted (${accel}) in ${((Date.now() - t0) / 1000).toFixed(1)} s (guest uptime ${up} s)\n`);
      return { qemuErr: () => qemuErr, exited: () => exited };
    }
    if (exited !== null) return { failed: `qemu (${accel}) exited (${exited}) before the guest booted: ${qemuErr.trim() || consoleTail()}` };
    await sleep(250);
  }
  qemu.kill('SIGKILL');
  await new Promise((r) => (exited !== null ? r() : qemu.on('exit', r)));
  return { failed: `no boot within ${limitS} s under ${accel}; last console lines:\n${consoleTail()}` };
}

let accel = rememberedAccel();
let booted;
if (accel === undefined && kvmUsable()) {
  process.stderr.write('guest: probing KVM (once per host kernel)\n');
  booted = await boot('kvm', opts.bootTimeout ?? 60);
  accel = booted.failed ? 'tcg' : 'kvm';
  if (booted.failed) process.stderr.write(`guest: KVM cannot boot this guest (${booted.failed.split('\n')[0]}); using TCG\n`);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(accelFile, `${accel} ${hostKey}\n`);
  if (booted.failed) {
    rmSync(join(ctl, 'console.log'), { force: true });
    booted = undefined;
  }
}
accel ??= 'tcg';
if (!['kvm', 'tcg'].includes(accel)) die(`RUNTS_GUEST_ACCEL=${accel}: expected kvm or tcg`, 2);
booted ??= await boot(accel, opts.bootTimeout ?? (accel === 'kvm' ? 60 : 240));
if (booted.failed) {
  cleanup();
  die(`cannot boot: ${booted.failed}`);
}

const tRun = Date.now();
let rc;
while (true) {
  pump();
  if (existsSync(join(ctl, 'rc'))) {
    rc = Number(readFileSync(join(ctl, 'rc'), 'utf8').trim());
    break;
  }
  if (booted.exited() !== null) {
    pump();
    // read before cleanup() removes the control dir they are in
    const why = `the guest stopped (${booted.exited()}) before the command finished; ${lastHeartbeat()}\nlast console lines:\n${consoleTail()}`;
    cleanup();
    die(why, 125);
  }
  if (Date.now() - tRun > opts.timeout * 1000) {
    pump();
    process.stderr.write(`guest: timeout: the command ran longer than ${opts.timeout} s; killing the guest\n${lastHeartbeat()}\nlast console lines:\n${consoleTail()}\n`);
    qemu.kill('SIGKILL');
    cleanup();
    process.exit(124);
  }
  await sleep(200);
}
pump();
// The guest powers itself off; give it a moment, then make sure.
for (let i = 0; i < 50 && booted.exited() === null; i++) await sleep(100);
if (booted.exited() === null) qemu.kill('SIGKILL');
process.stderr.write(`guest: command exited ${rc} after ${((Date.now() - tRun) / 1000).toFixed(1)} s\n`);
cleanup();
process.exit(Number.isInteger(rc) ? rc : 125);
