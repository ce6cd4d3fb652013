import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// the built module (tests run after the build): tsx, which runs these tests, makes stdout non-blocking
const here = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
// the child writes 3 MiB of 'a' lines, then "end\n", with writeOut, and says whether it built
// process.stdout itself (it must not, unless a write could not go through at once)
const child = `
const { writeOut, handedOverFds } = await import(${JSON.stringify(here)});
const chunk = 'a'.repeat(1023) + '\\n';
for (let i = 0; i < 3072; i++) writeOut(chunk);
writeOut('end\\n');
process.stderr.write('handed over: ' + handedOverFds().join(',') + '\\n');
`;

// python gives the child a pipe as stdout (non-blocking if asked) and reads it, after a pause if
// asked (so that writes hit EAGAIN); it exits 0 if the child did and every byte came in order
const harness = `
import os, subprocess, sys, time, fcntl
nonblock, pause = sys.argv[1] == '1', float(sys.argv[2])
r, w = os.pipe()
if nonblock:
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[3:], stdout=w, stderr=subprocess.PIPE)
os.close(w)
time.sleep(pause)
data = b''
while True:
    b = os.read(r, 1 << 16)
    if not b: break
    data += b
err = p.stderr.read().decode()
sys.stderr.write(err)
sys.exit(0 if p.wait() == 0 and data == (b'a' * 1023 + b'\\n') * 3072 + b'end\\n' else 1)
`;
const viaPipe = (nonblock: boolean, pause: number) => spawnSync('python3', ['-c', harness, nonblock ? '1' : '0', String(pause), process.execPath, '--input-type=module', '-e', child], { env });

test('writeOut: all of a large output through a blocking pipe, in order, with write(2) alone', () => {
  const r = viaPipe(false, 0.2);
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(String(r.stderr), 'handed over: \n');
});

test('writeOut: a full non-blocking pipe (EAGAIN) hands the rest to process.stdout, nothing lost or reordered', () => {
  const r = viaPipe(true, 0.5);
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(String(r.stderr), 'handed over: 1\n');
});

test('writeOut: a closed reader (EPIPE) drops the output without an exception', () => {
  const r = spawnSync('sh', ['-c', `"$0" --input-type=module -e "$1" | true`, process.execPath, child], { env });
  assert.equal(r.status, 0, String(r.stderr));
});
