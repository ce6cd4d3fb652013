// What the e2e suite (tests/10-managers) and the benchmark (tools/bench/managers.mjs) both need to
// run containers through Docker and containerd from a busybox rootfs, with no registry.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** A docker-archive (what `docker save` writes) of the rootfs tarball `layerTar` tagged `image`:
 *  one layer, a config, a manifest, made under `dir`; containerd imports it as is. Its path. */
export function dockerArchive(layerTar, dir, image) {
  const out = join(dir, 'image');
  mkdirSync(out, { recursive: true });
  copyFileSync(layerTar, join(out, 'layer.tar'));
  const diffId = 'sha256:' + createHash('sha256').update(readFileSync(join(out, 'layer.tar'))).digest('hex');
  const config = { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } };
  writeFileSync(join(out, 'config.json'), JSON.stringify(config));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [image], Layers: ['layer.tar'] }]));
  const tar = join(dir, 'image.tar');
  const r = spawnSync('tar', ['-C', out, '-cf', tar, 'manifest.json', 'config.json', 'layer.tar'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar of the docker-archive ${tar}: exit ${r.status}: ${r.stderr}`);
  return tar;
}

/** daemon.json for a dockerd of one's own: its own data root, exec root, pid file and socket under
 *  `root`, no bridge and no iptables rules (the host's network is left alone), the vfs storage
 *  driver, cgroupfs, and `runtimes` ({ name: path }) as named runtimes. */
export function dockerdConfig(root, sock, runtimes) {
  return {
    runtimes: Object.fromEntries(Object.entries(runtimes).map(([name, path]) => [name, { path }])),
    'data-root': join(root, 'data'),
    'exec-root': join(root, 'exec'),
    pidfile: join(root, 'docker.pid'),
    hosts: [`unix://${sock}`],
    bridge: 'none',
    iptables: false,
    ip6tables: false,
    'ip-masq': false,
    'userland-proxy': false,
    'storage-driver': 'vfs',
    'exec-opts': ['native.cgroupdriver=cgroupfs'],
  };
}
