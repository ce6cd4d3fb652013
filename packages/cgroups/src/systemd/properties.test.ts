import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseProperties, resourceProperties, rangeToBits, deviceProperties, emulateDevices, deviceGroup, annotationProperties, parseVariant, type UnitProperty } from './properties.ts';
import { deviceRules } from '../devices.ts';
import { busAddress, hostUid } from './dbus.ts';
import { blame } from '../driver.ts';

const show = (ps: UnitProperty[]) => ps.map((p) => `${p.name}=${p.sig}:${JSON.stringify(p.value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);

test('the base properties of runc Apply: description, slice, Delegate, the pid, accounting, DefaultDependencies=no', () => {
  assert.deepEqual(show(baseProperties({ name: 'c1', slice: 'machine.slice', unit: 'libpod-c1.scope', pid: 42 })), [
    'Description=s:"libcontainer container c1"',
    'Slice=s:"machine.slice"',
    'Delegate=b:true',
    'PIDs=au:[42]',
    'MemoryAccounting=b:true',
    'CPUAccounting=b:true',
    'IOAccounting=b:true',
    'TasksAccounting=b:true',
    'DefaultDependencies=b:false',
  ]);
  // a slice unit: Wants= its parent, no Delegate
  assert.deepEqual(show(baseProperties({ name: 'p.slice', slice: 'system.slice', unit: 'p.slice', pid: 0 })).slice(0, 2), ['Description=s:"libcontainer container p.slice"', 'Wants=as:["system.slice"]']);
});

test('v2 resource properties as runc genV2ResourcesProperties', () => {
  const ps = resourceProperties(
    { memory: { limit: 104857600, reservation: 52428800, swap: 209715200 }, cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' }, pids: { limit: 64 } },
    { v2: true, systemdVersion: 252 },
  );
  assert.deepEqual(show(ps), [
    'MemoryMax=t:"104857600n"',
    'MemoryLow=t:"52428800n"',
    'MemorySwapMax=t:"104857600n"',
    'CPUWeight=t:"39n"',
    'CPUQuotaPeriodUSec=t:"100000n"',
    'CPUQuotaPerSecUSec=t:"500000n"',
    'TasksMax=t:"64n"',
    'AllowedCPUs=ay:[3]',
    'AllowedMemoryNodes=ay:[1]',
  ]);
  // -1: infinity (uint64 max; swap follows an unlimited memory, as runc's ConvertMemorySwapToCgroupV2Value);
  // a quota without a period uses 100 ms; fractions round up to 1 %
  assert.deepEqual(show(resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: 12345 } }, { v2: true, systemdVersion: 252 })), [
    'MemoryMax=t:"18446744073709551615n"',
    'MemorySwapMax=t:"18446744073709551615n"',
    'CPUQuotaPerSecUSec=t:"130000n"',
    'TasksMax=t:"18446744073709551615n"',
  ]);
  // quota -1 with a period: unlimited; old systemd: no period property, no cpuset properties
  assert.deepEqual(show(resourceProperties({ cpu: { quota: -1, period: 50000, cpus: '1' } }, { v2: true, systemdVersion: 240 })), ['CPUQuotaPerSecUSec=t:"18446744073709551615n"']);
  assert.throws(() => resourceProperties({ memory: { swap: 100 } }, { v2: true, systemdVersion: 252 }), /linux\.resources\.memory\.swap: unable to set swap limit without memory limit/);
});

test('v1 resource properties as runc genV1ResourcesProperties', () => {
  assert.deepEqual(show(resourceProperties({ memory: { limit: 1000000 }, cpu: { shares: 512 }, blockIO: { weight: 300 }, pids: { limit: 10 } }, { v2: false, systemdVersion: 252 })), [
    'MemoryLimit=t:"1000000n"',
    'CPUShares=t:"512n"',
    'BlockIOWeight=t:"300n"',
    'TasksMax=t:"10n"',
  ]);
});

test('RangeToBits: lowest cpus in the first byte', () => {
  assert.deepEqual(rangeToBits('f', '0'), [1]);
  assert.deepEqual(rangeToBits('f', '0-2,7'), [0x87]);
  assert.deepEqual(rangeToBits('f', '8'), [0, 1]);
  assert.deepEqual(rangeToBits('f', ' 1 , 9-10,'), [2, 6]);
  assert.throws(() => rangeToBits('linux.resources.cpu.cpus', '3-1'), /^RuntimeError: linux\.resources\.cpu\.cpus: invalid range "3-1"$/);
  assert.throws(() => rangeToBits('linux.resources.cpu.cpus', 'x'), /invalid cpuset "x"/);
  assert.throws(() => rangeToBits('linux.resources.cpu.cpus', ','), /empty cpuset/);
});

const PROC_DEVICES = `Character devices:
  1 mem
  4 /dev/vc/0
136 pts

Block devices:
  8 sd
`;

test('device properties: the default spec (deny all, runc defaults) is a strict allow list', () => {
  const rules = deviceRules([{ allow: false, access: 'rwm' }], []);
  const ps = deviceProperties(rules, () => {}, PROC_DEVICES);
  assert.deepEqual(ps.slice(0, 2).map((p) => p.name), ['DevicePolicy', 'DeviceAllow']);
  assert.equal(ps[0]!.value, 'strict');
  assert.deepEqual(ps[2]!.value, [
    ['char-*', 'm'],
    ['block-*', 'm'],
    ['/dev/char/1:3', 'rwm'],
    ['/dev/char/1:8', 'rwm'],
    ['/dev/char/1:7', 'rwm'],
    ['/dev/char/5:0', 'rwm'],
    ['/dev/char/1:5', 'rwm'],
    ['/dev/char/1:9', 'rwm'],
    ['char-pts', 'rwm'],
    ['/dev/char/5:2', 'rwm'],
    ['/dev/char/10:200', 'rwm'],
  ]);
  // allow all: systemd's "auto" with an empty list
  assert.deepEqual(show(deviceProperties(deviceRules([{ allow: true, access: 'rwm' }], []), () => {}, PROC_DEVICES)), ['DevicePolicy=s:"auto"', 'DeviceAllow=a(ss):[]']);
  // a deny list systemd cannot express: deny all for now, with runc's warning
  const warned: string[] = [];
  const bl = deviceProperties([{ allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }], (m) => warned.push(m), PROC_DEVICES);
  assert.deepEqual(show(bl), ['DevicePolicy=s:"strict"', 'DeviceAllow=a(ss):[]']);
  assert.match(warned[0]!, /doesn't support blacklist device rules/);
  // a later deny takes access away again; *:n rules are not expressible
  const e = emulateDevices([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }, { allow: true, type: 'c', major: '*', minor: 5, access: 'r' }]);
  assert.deepEqual(e, { defaultAllow: false, exceptions: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rm' }, { allow: true, type: 'c', major: '*', minor: 5, access: 'r' }] });
  const w2: string[] = [];
  assert.deepEqual(deviceProperties(e.exceptions, (m) => w2.push(m), PROC_DEVICES)[2]!.value, [['/dev/char/1:3', 'rm']]);
  assert.match(w2[0]!, /'\*:n' device rules/);
  assert.equal(deviceGroup('b', 8, PROC_DEVICES), 'block-sd');
  assert.equal(deviceGroup('c', 99, PROC_DEVICES), '');
});

test('org.systemd.property.* annotations: GVariant values, ...Sec in microseconds, bad ones refused naming the annotation', () => {
  const ps = annotationProperties({
    'org.systemd.property.TimeoutStopSec': 'uint64 5',
    'org.systemd.property.CollectMode': "'inactive-or-failed'",
    'org.systemd.property.CPUWeight': 'uint64 300',
    'org.systemd.property.After': "['a.service', 'b.service']",
    'other.annotation': 'x',
  });
  assert.deepEqual(show(ps), ['TimeoutStopUSec=t:"5000000n"', 'CollectMode=s:"inactive-or-failed"', 'CPUWeight=t:"300n"', 'After=as:["a.service","b.service"]']);
  assert.equal(ps[0]!.field, 'annotations["org.systemd.property.TimeoutStopSec"]');
  assert.throws(() => annotationProperties({ 'org.systemd.property.Foo': 'uint64 x' }), /^RuntimeError: annotations\["org\.systemd\.property\.Foo"\]: cannot parse systemd property value "uint64 x"$/);
  assert.throws(() => annotationProperties({ 'org.systemd.property.foo-bar': 'true' }), /invalid systemd property name "foo-bar"/);
  assert.throws(() => annotationProperties({ 'org.systemd.property.TimeoutSec': "'x'" }), /a \.\.\.Sec property needs a number/);
  assert.deepEqual(parseVariant('f', 'true'), { sig: 'b', value: true });
  assert.deepEqual(parseVariant('f', '42'), { sig: 'i', value: 42 });
  assert.deepEqual(parseVariant('f', 'uint32 7'), { sig: 'u', value: 7 });
  assert.throws(() => parseVariant('f', 'uint32 -1'), /does not fit uint32/);
  assert.throws(() => parseVariant('f', '99999999999'), /does not fit int32 \(write uint64 99999999999\)/);
});

test('the bus: the system socket as root, the session bus rootless; errors name the refused property', () => {
  assert.equal(busAddress({ user: false, env: {} }), 'unix:path=/run/dbus/system_bus_socket');
  assert.equal(busAddress({ user: true, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus' } }), 'unix:path=/x/bus');
  assert.equal(busAddress({ user: true, env: { XDG_RUNTIME_DIR: '/run/user/1000' } }), 'unix:path=/run/user/1000/bus');
  assert.throws(() => busAddress({ user: true, env: {} }), /rootless needs the user's session bus/);
  const props = { resources: [{ name: 'MemoryMax', sig: 't', value: 1n }], annotations: annotationProperties({ 'org.systemd.property.TimeoutStopSec': 'uint64 5' }) };
  assert.equal(
    blame(new Error('systemd StartTransientUnit: org.freedesktop.DBus.Error.InvalidArgs: Cannot set property TimeoutStopUSec, or unknown property.'), props),
    'annotations["org.systemd.property.TimeoutStopSec"] (systemd property TimeoutStopUSec): StartTransientUnit: org.freedesktop.DBus.Error.InvalidArgs: Cannot set property TimeoutStopUSec, or unknown property.',
  );
  assert.match(blame(new Error('systemd StartTransientUnit: x: MemoryMax= too small'), props), /^linux\.resources \(systemd property MemoryMax\)/);
});

test('connect: no systemd, no bus, a bus that hangs up: clear errors naming --systemd-cgroup', async () => {
  const { SystemdManager } = await import('./dbus.ts');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const net = await import('node:net');
  const d = mkdtempSync(join(tmpdir(), 'sd-'));
  try {
    await assert.rejects(SystemdManager.connect({ user: false, systemdDir: join(d, 'none') }), /^RuntimeError: --systemd-cgroup: systemd not running on this host, cannot use the systemd cgroup driver$/);
    await assert.rejects(SystemdManager.connect({ user: false, systemdDir: d, env: { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${d}/bus` } }), /^RuntimeError: --systemd-cgroup: no D-Bus at .*\/bus \(is systemd running\?\)$/);
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(join(d, 'bus'), r));
    try {
      await assert.rejects(SystemdManager.connect({ user: false, systemdDir: d, env: { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${d}/bus` } }), /--systemd-cgroup: D-Bus unix:path=.*bus|systemd AddMatch/);
    } finally {
      server.close();
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('hostUid: the uid the bus checks, through the user namespace map (rootless Podman: 0 inside is 1000 outside)', () => {
  assert.equal(hostUid(0, '         0       1000          1\n         1     100000      65536\n'), 1000);
  assert.equal(hostUid(5, '         0       1000          1\n         1     100000      65536\n'), 100004);
  assert.equal(hostUid(1000, '         0          0 4294967295\n'), 1000);
  assert.equal(hostUid(7, '0 1000 1\n'), 7);
});
