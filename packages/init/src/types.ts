// InitSpec: the part of config.json the init compiler reads. Structural and lenient (every field that
// may be absent is optional, uint64 fields are number | bigint), so that @runts/spec's generated
// Spec type is assignable to it.

export type Uint = number | bigint;

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface InitHooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export interface InitIDMapping {
  containerID: Uint;
  hostID: Uint;
  size: Uint;
}

export interface InitMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: InitIDMapping[];
  gidMappings?: InitIDMapping[];
}

export interface InitCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface InitProcess {
  terminal?: boolean;
  consoleSize?: { height: Uint; width: Uint };
  user?: { uid?: Uint; gid?: Uint; umask?: Uint; additionalGids?: Uint[]; username?: string };
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd?: string;
  capabilities?: InitCapabilities;
  rlimits?: Array<{ type: string; hard: Uint; soft: Uint }>;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
  scheduler?: object;
  ioPriority?: object;
  execCPUAffinity?: object;
}

export interface InitDevice {
  type: string;
  path: string;
  major?: Uint;
  minor?: Uint;
  fileMode?: Uint;
  uid?: Uint;
  gid?: Uint;
}

export interface InitTimeOffset {
  secs?: Uint;
  nanosecs?: Uint;
}

export interface InitLinux {
  namespaces?: Array<{ type: string; path?: string }>;
  uidMappings?: InitIDMapping[];
  gidMappings?: InitIDMapping[];
  timeOffsets?: { monotonic?: InitTimeOffset; boottime?: InitTimeOffset };
  devices?: InitDevice[];
  sysctl?: Record<string, string>;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain?: string; flags?: string[] };
  seccomp?: object;
  netDevices?: object;
  memoryPolicy?: object;
}

export interface InitSpec {
  ociVersion?: string;
  process?: InitProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: InitMount[];
  hooks?: InitHooks;
  annotations?: Record<string, string>;
  linux?: InitLinux;
}
