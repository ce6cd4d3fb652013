// The D-Bus client of the systemd cgroup driver (dist/dbus-native.cjs of every package that ships
// it, loaded only on that driver's path): built with stand-ins for the builtins it requires at its
// top level but calls only on other paths (assert, child_process, crypto: ~4 ms of every load on
// Node 20), each requiring its builtin at its first call. Against a private dbus-daemon (no
// systemd here: the guest lane runs the driver itself), the way @runts/cgroups talks to systemd
// (EXTERNAL authentication, a method call) loads neither child_process nor crypto, and cookie
// authentication (DBUS_COOKIE_SHA1: crypto's createHash and randomBytes, through the stand-in)
// works as with the builtin itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUN_DIR, NODE, cleanEnv } from '../lib/index.mjs';

let dir;
let daemon;
let address;
before(async () => {
  dir = mkdtempSync(join(RUN_DIR, 'dbus-'));
  // a bus that takes EXTERNAL and DBUS_COOKIE_SHA1, on a socket of its own
  writeFileSync(join(dir, 'bus.conf'), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${join(dir, 'bus.sock')}</listen>
  <auth>EXTERNAL</auth>
  <auth>DBUS_COOKIE_SHA1</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`);
  daemon = spawn('dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...cleanEnv(), HOME: dir } });
  address = await new Promise((resolve, reject) => {
    let out = '';
    daemon.on('error', reject);
    daemon.on('exit', (c) => reject(new Error(`dbus-daemon exited (${c}) before it listened`)));
    daemon.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0].trim());
    });
  });
});
after(() => {
  daemon?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// a Node that loads the client from `dist`, connects with `auth`, asks the bus for its id and lists
// the builtins that loading and that call brought in
const CLIENT = `
const base = new Set(process.moduleLoadList);
const dbus = require(process.argv[2] + '/dbus-native.cjs');
const loaded = () => process.moduleLoadList.filter((m) => !base.has(m) && /^NativeModule (assert|child_process|crypto)$/.test(m)).map((m) => m.split(' ')[1]);
const atLoad = loaded();
const bus = dbus.createClient({ busAddress: process.argv[3], authMethods: [process.argv[4]] });
bus.on('error', (err) => { console.log(JSON.stringify({ error: String(err) })); process.exit(1); });
bus.invoke({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetId' }, (err, id) => {
  console.log(JSON.stringify({ error: err ? String(err) : null, id, atLoad, atCall: loaded() }));
  bus.connection.end();
});
`;
function client(dist, auth) {
  // a file, not -e: node -e has crypto loaded before the script runs
  const file = join(dir, 'client.cjs');
  if (!existsSync(file)) writeFileSync(file, CLIENT);
  const r = spawnSync(NODE, [file, dist, address, auth], { encoding: 'utf8', timeout: 30_000, env: { ...cleanEnv(), HOME: dir } });
  assert.equal(r.status, 0, `${dist} ${auth}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

const dists = readdirSync(join(REPO, 'packages'))
  .map((p) => join(REPO, 'packages', p, 'dist'))
  .filter((d) => existsSync(join(d, 'dbus-native.cjs')));

test('the packages that ship the D-Bus client', () => {
  // runts and the verbs whose systemd path talks to systemd (create, run, update, delete, kill...)
  assert.ok(dists.some((d) => d.endsWith('/runts/dist')), dists.join(' '));
  for (const d of dists) assert.match(readFileSync(join(d, 'dbus-native.cjs'), 'latin1'), /real \?\?= require\("node:crypto"\)/, `${d}: crypto stands in`);
});

for (const dist of dists) {
  const name = dist.split('/').at(-2);
  test(`${name}: EXTERNAL, as the systemd driver connects: no child_process, no crypto`, () => {
    const r = client(dist, 'EXTERNAL');
    assert.equal(r.error, null);
    assert.match(r.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(r.atLoad, [], 'none of the three loaded with the client');
    assert.ok(!r.atCall.includes('crypto') && !r.atCall.includes('child_process'), `after the call: ${r.atCall}`);
  });
  test(`${name}: DBUS_COOKIE_SHA1 (crypto through its stand-in)`, () => {
    const r = client(dist, 'DBUS_COOKIE_SHA1');
    assert.equal(r.error, null);
    assert.match(r.id, /^[0-9a-f]{32}$/);
    assert.ok(r.atCall.includes('crypto'), `crypto loaded at its first call: ${r.atCall}`);
  });
}
