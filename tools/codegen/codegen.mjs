#!/usr/bin/env node
// Generates @runts/spec's checked-in code from the vendored OCI runtime-spec schemas
// (packages/spec/schema, draft-04, never edited):
//
//   src/generated/types.ts     TypeScript types (json-schema-to-typescript), Linux only
//   src/generated/validate.js  a standalone validator (ajv standalone code): nothing compiles a
//                              schema at run time; uint64/int64 values may be bigints
//
//   node tools/codegen/codegen.mjs           write the files
//   node tools/codegen/codegen.mjs --check   exit 1 if regenerating would change them
//
// What it fixes on the way, in memory only:
//   - refs are normalised: `#definitions/uint32` (defs.json) becomes `#/definitions/uint32`;
//   - integers: every `type: integer` (with its minimum/maximum, read losslessly: uint64's maximum
//     is 18446744073709551615) becomes a custom `int` keyword that accepts numbers and bigints;
//   - linux.devices[].fileMode: any uint32, as runc takes it (Go's os.FileMode): Podman sends the
//     file-type bits too (0o20666), runc keeps the permission bits; the schema's 0..511 refused it;
//   - types: one self-contained schema (non-Linux platforms pruned, titles given, primitive
//     definitions inlined) so that json-schema-to-typescript declares each type once, by name.
import { readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC = join(ROOT, 'packages/spec');
const SCHEMA = join(SPEC, 'schema');
const OUT = join(SPEC, 'src/generated');
const check = process.argv.includes('--check');

// The generators are devDependencies of @runts/spec.
const requireFromSpec = createRequire(join(SPEC, 'package.json'));
const load = async (name) => import(requireFromSpec.resolve(name));

/** Reads a schema file; integer literals beyond 2^53 are kept exact as strings tagged `\u0000int:`. */
function readSchema(file) {
  const text = readFileSync(join(SCHEMA, file), 'utf8');
  const safe = text.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, (_m, pre, digits) => `${pre}"\\u0000int:${digits}"`);
  return JSON.parse(safe);
}
const bound = (v) => (v === undefined ? undefined : typeof v === 'string' && v.startsWith('\u0000int:') ? v.slice(5) : String(v));

/** `file.json#/a/b` with `#a/b` and `#/a` fixed; a bare `#...` stays relative. */
function normaliseRef(ref) {
  const i = ref.indexOf('#');
  if (i < 0) return ref;
  let frag = ref.slice(i + 1);
  if (frag !== '' && !frag.startsWith('/')) frag = '/' + frag;
  return ref.slice(0, i) + '#' + frag;
}

function walk(node, fn) {
  if (Array.isArray(node)) return node.map((x) => walk(x, fn));
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, fn);
    return fn(out);
  }
  return node;
}

const files = readdirSync(SCHEMA).filter((f) => f.endsWith('.json')).sort();
const schemas = Object.fromEntries(files.map((f) => [f, readSchema(f)]));
schemas['defs-linux.json'].definitions.Device.properties.fileMode = { $ref: 'defs.json#/definitions/uint32' };

// ---------------------------------------------------------------------------------------------
// The validator
//
// A small compiler for the draft-04 subset these schemas use (type, properties, required, items,
// additionalProperties, patternProperties, enum, pattern, minItems, minimum/maximum on integers,
// allOf, anyOf, $ref). It emits plain functions, one per object definition, that push
// `{ path, message }` for every problem; paths are built only when a problem is found. Integers
// may be numbers or bigints (uint64/int64 bounds are compared exactly). Any other keyword stops
// the generator, so a schema update cannot be half-checked silently. The tests check its verdicts
// against ajv on every fixture.

const IGNORED = new Set(['description', 'title', '$schema', 'id', 'default']);
const KNOWN = new Set(['type', 'properties', 'required', 'items', 'additionalProperties', 'patternProperties', 'enum', 'pattern', 'minItems', 'minimum', 'maximum', 'allOf', 'anyOf', '$ref', ...IGNORED]);
const ID_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function compileValidators(entries) {
  const consts = []; // module-level literals (regexps, enums)
  const constIndex = new Map();
  const fns = []; // function declarations
  const fnIndex = new Map(); // canonical ref -> function name
  let tmp = 0;
  const constant = (src) => {
    if (!constIndex.has(src)) {
      constIndex.set(src, `c${consts.length}`);
      consts.push(`const c${consts.length} = ${src};`);
    }
    return constIndex.get(src);
  };
  const resolveRef = (ref, file) => {
    const r = normaliseRef(ref);
    const [f, frag] = r.split('#');
    const target = f || file;
    let node = schemas[target];
    if (!node) throw new Error(`codegen: ref ${ref} in ${file}: no such schema`);
    for (const part of (frag ?? '').split('/').filter(Boolean)) {
      node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`codegen: ref ${ref} in ${file}: not found`);
    }
    return { node, file: target, id: `${target}#${frag ?? ''}` };
  };
  const isComposite = (s) => s.properties || s.required || s.items || s.additionalProperties || s.patternProperties || s.allOf || s.anyOf;
  const lit = (v) => {
    const t = bound(v);
    const n = Number(t);
    return Number.isSafeInteger(n) ? String(n) : `${BigInt(t)}n`;
  };
  const keySuffix = (k) => JSON.stringify(ID_RE.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
  const err = (p, msg) => `E.push({ path: ${p}, message: ${JSON.stringify(msg)} });`;

  // Emits statements that check the value `d` (a local's name) at path `p` (a JS expression).
  function gen(schema, file, d, p) {
    for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`codegen: unsupported keyword ${k} in ${file}`);
    const out = [];
    if (schema.$ref) {
      const { node, file: f, id } = resolveRef(schema.$ref, file);
      if (isComposite(node)) out.push(`${fnFor(node, f, id)}(${d}, ${p}, E);`);
      else out.push(...gen(node, f, d, p));
    }
    const type = schema.type;
    if (Array.isArray(type)) throw new Error(`codegen: type arrays are not supported (${file})`);
    const body = []; // checks that apply once the type is right
    // The checks are inline, each path built only for a problem: a call per value (and its path
    // string) made a create with a seccomp profile of ~300 names call one helper often enough for
    // Node >= 22 to compile it with Maglev.
    let guard; // the condition under which type-specific keywords apply
    let guardMessage;
    if (type === 'object') [guard, guardMessage] = [`O(${d})`, 'must be an object'];
    else if (type === 'array') [guard, guardMessage] = [`Array.isArray(${d})`, 'must be an array'];
    else if (type === 'string') [guard, guardMessage] = [`typeof ${d} === "string"`, 'must be a string'];
    else if (type === 'boolean') out.push(`if (typeof ${d} !== "boolean") e(E, ${p}, "must be a boolean");`);
    else if (type === 'integer') {
      const lo = schema.minimum !== undefined ? lit(schema.minimum) : 'undefined';
      const hi = schema.maximum !== undefined ? lit(schema.maximum) : 'undefined';
      out.push(`tI(${d}, ${p}, E, ${lo}, ${hi});`);
    } else if (type !== undefined) throw new Error(`codegen: unsupported type ${type} in ${file}`);
    else if (schema.minimum !== undefined || schema.maximum !== undefined) throw new Error(`codegen: minimum without integer type in ${file}`);

    if (schema.enum) {
      if (!schema.enum.every((v) => typeof v === 'string')) throw new Error(`codegen: only string enums are supported (${file})`);
      out.push(`if (!${constant(JSON.stringify(schema.enum))}.includes(${d})) e(E, ${p}, ${JSON.stringify(`must be one of: ${schema.enum.join(', ')}`)});`);
    }
    if (schema.pattern !== undefined) {
      const c = constant(`/${new RegExp(schema.pattern, 'u').source}/u`);
      const re = new RegExp(schema.pattern, 'u');
      (type === 'string' ? body : out).push(`if (typeof ${d} === "string" && !${c}.test(${d})) e(E, ${p}, ${JSON.stringify(`must match ${re.source}`)});`);
    }
    // Arrays.
    const arr = [];
    if (schema.minItems !== undefined) arr.push(`if (${d}.length < ${schema.minItems}) e(E, ${p}, ${JSON.stringify(schema.minItems === 1 ? 'must not be empty' : `must have at least ${schema.minItems} items`)});`);
    if (Array.isArray(schema.items)) {
      // Tuple form: item n is checked against items[n]; further items are free (no additionalItems).
      schema.items.forEach((sub, n) => {
        const v = `v${tmp++}`;
        const inner = gen(sub, file, v, `${p} + "[${n}]"`);
        if (inner.length) arr.push(`if (${d}.length > ${n}) { const ${v} = ${d}[${n}]; ${inner.join(' ')} }`);
      });
    } else if (schema.items) {
      const i = `i${tmp++}`;
      const v = `v${tmp++}`;
      const inner = gen(schema.items, file, v, `${p} + "[" + ${i} + "]"`);
      if (inner.length) arr.push(`for (let ${i} = 0; ${i} < ${d}.length; ${i}++) { const ${v} = ${d}[${i}]; ${inner.join(' ')} }`);
    }
    if (arr.length) (type === 'array' ? body : out).push(type === 'array' ? arr.join(' ') : `if (Array.isArray(${d})) { ${arr.join(' ')} }`);
    // Objects. Schema property names never collide with Object.prototype members, so `d.k` is safe.
    const obj = [];
    const prop = (k) => (ID_RE.test(k) ? `${d}.${k}` : `${d}[${JSON.stringify(k)}]`);
    for (const r of schema.required ?? []) obj.push(`if (${prop(r)} === undefined) e(E, ${p} + ${keySuffix(r)}, "is required");`);
    const props = schema.properties ?? {};
    for (const [k, sub] of Object.entries(props)) {
      const v = `v${tmp++}`;
      const inner = gen(sub, file, v, `${p} + ${keySuffix(k)}`);
      if (inner.length) obj.push(`{ const ${v} = ${prop(k)}; if (${v} !== undefined) { ${inner.join(' ')} } }`);
    }
    const pats = Object.entries(schema.patternProperties ?? {});
    const ap = schema.additionalProperties;
    if (pats.length || (ap !== undefined && ap !== true)) {
      const k = `k${tmp++}`;
      const v = `v${tmp++}`;
      const kp = `${p} + K(${k})`;
      const matched = `m${tmp++}`;
      const loop = [`const ${v} = ${d}[${k}];`, `let ${matched} = ${Object.keys(props).length ? `${constant(JSON.stringify(Object.keys(props)))}.includes(${k})` : 'false'};`];
      for (const [pat, sub] of pats) {
        const c = constant(`/${new RegExp(pat, 'u').source}/u`);
        loop.push(`if (${c}.test(${k})) { ${matched} = true; ${gen(sub, file, v, kp).join(' ')} }`);
      }
      if (ap === false) loop.push(`if (!${matched}) e(E, ${kp}, "is not allowed");`);
      else if (ap && typeof ap === 'object') loop.push(`if (!${matched}) { ${gen(ap, file, v, kp).join(' ')} }`);
      obj.push(`for (const ${k} of Object.keys(${d})) { ${loop.join(' ')} }`);
    }
    if (obj.length) (type === 'object' ? body : out).push(type === 'object' ? obj.join(' ') : `if (O(${d})) { ${obj.join(' ')} }`);
    if (guard) out.push(body.length ? `if (${guard}) { ${body.join(' ')} } else e(E, ${p}, ${JSON.stringify(guardMessage)});` : `if (!(${guard})) e(E, ${p}, ${JSON.stringify(guardMessage)});`);
    // Combinators.
    for (const sub of schema.allOf ?? []) out.push(...gen(sub, file, d, p));
    if (schema.anyOf) {
      if (schema.anyOf.length === 1) out.push(...gen(schema.anyOf[0], file, d, p));
      else {
        const tries = schema.anyOf.map((sub) => {
          const e = `e${tmp++}`;
          return { e, code: `const ${e} = []; ((E) => { ${gen(sub, file, d, p).join(' ')} })(${e});` };
        });
        out.push(`{ ${tries.map((t) => t.code).join(' ')} if (${tries.map((t) => `${t.e}.length`).join(' && ')}) e(E, ${p}, "must match one of the allowed forms"); }`);
      }
    }
    return out;
  }

  function fnFor(node, file, id) {
    if (fnIndex.has(id)) return fnIndex.get(id);
    const name = `f${fnIndex.size}`;
    fnIndex.set(id, name);
    const slot = fns.length;
    fns.push('');
    fns[slot] = `function ${name}(d, p, E) { ${gen(node, file, 'd', 'p').join(' ')} }`;
    return name;
  }

  const exportsSrc = Object.entries(entries).map(([name, file]) => {
    const root = fnFor(schemas[file], file, `${file}#`);
    return `/** Checks a parsed ${file.replace('-schema.json', '')} document; returns every problem found (none: valid). */\nexport function ${name}(data) { const E = []; ${root}(data, "", E); for (const e of E) if (e.path[0] === ".") e.path = e.path.slice(1); return E; }`;
  });
  return [
    '// @generated by tools/codegen/codegen.mjs from packages/spec/schema (OCI runtime-spec v1.3.0).',
    '// Do not edit: run `pnpm codegen`. Integers may be numbers or bigints.',
    '/* eslint-disable */',
    HELPERS,
    ...consts,
    ...fns,
    ...exportsSrc,
    '',
  ].join('\n');
}

// The runtime helpers of the generated code (the type checks are inline).
const HELPERS = `const ID = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const K = (k) => (ID.test(k) ? "." + k : "[" + JSON.stringify(k) + "]");
const O = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const e = (E, p, m) => { E.push({ path: p, message: m }); };
function tI(v, p, E, lo, hi) {
  if (!(typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)))) e(E, p, "must be an integer");
  else if ((lo !== undefined && v < lo) || (hi !== undefined && v > hi))
    e(E, p, lo === undefined ? "must be at most " + hi : hi === undefined ? "must be at least " + lo : "must be between " + lo + " and " + hi);
}`;

async function generateValidator() {
  return compileValidators({ validateConfigSchema: 'config-schema.json', validateStateSchema: 'state-schema.json', validateFeaturesSchema: 'features-schema.json' });
}

const VALIDATE_DTS = `// @generated by tools/codegen/codegen.mjs: the signatures of validate.js.
export interface SchemaProblem {
  /** JSON path of the offending value: \`process.args[0]\`, \`linux.sysctl["net.ipv4.ip_forward"]\`; "" for the document. */
  path: string;
  message: string;
}
export declare function validateConfigSchema(data: unknown): SchemaProblem[];
export declare function validateStateSchema(data: unknown): SchemaProblem[];
export declare function validateFeaturesSchema(data: unknown): SchemaProblem[];
`;

// ---------------------------------------------------------------------------------------------
// The types

// Names follow the Go types of runtime-spec's specs-go, which runtime engineers know.
const DEF_TITLES = {
  'defs.json': {
    Hook: 'Hook',
    IDMapping: 'LinuxIDMapping',
    Mount: 'Mount',
  },
  'defs-linux.json': {
    PersonalityDomain: 'LinuxPersonalityDomain',
    Personality: 'LinuxPersonality',
    RootfsPropagation: 'LinuxRootfsPropagation',
    SeccompArch: 'LinuxSeccompArch',
    SeccompAction: 'LinuxSeccompAction',
    SeccompFlag: 'LinuxSeccompFlag',
    SeccompOperators: 'LinuxSeccompOperator',
    SyscallArg: 'LinuxSeccompArg',
    Syscall: 'LinuxSyscall',
    Device: 'LinuxDevice',
    NetDevice: 'LinuxNetDevice',
    blockIODevice: 'LinuxBlockIODevice',
    blockIODeviceWeight: 'LinuxWeightDevice',
    blockIODeviceThrottle: 'LinuxThrottleDevice',
    DeviceCgroup: 'LinuxDeviceCgroup',
    MemoryPolicyMode: 'LinuxMemoryPolicyMode',
    MemoryPolicyFlag: 'LinuxMemoryPolicyFlag',
    NetworkInterfacePriority: 'LinuxInterfacePriority',
    Rdma: 'LinuxRdma',
    NamespaceType: 'LinuxNamespaceType',
    NamespaceReference: 'LinuxNamespace',
    TimeOffsets: 'LinuxTimeOffset',
    SchedulerPolicy: 'LinuxSchedulerPolicy',
    SchedulerFlag: 'LinuxSchedulerFlag',
  },
};

// Inline objects, by their place in the config (`*` = array items or map values).
const PATH_TITLES = {
  '': 'Spec',
  hooks: 'Hooks',
  root: 'Root',
  process: 'Process',
  'process.consoleSize': 'Box',
  'process.user': 'User',
  'process.capabilities': 'LinuxCapabilities',
  'process.ioPriority': 'LinuxIOPriority',
  'process.scheduler': 'Scheduler',
  'process.rlimits.*': 'POSIXRlimit',
  'process.execCPUAffinity': 'CPUAffinity',
  linux: 'Linux',
  'linux.resources': 'LinuxResources',
  'linux.resources.pids': 'LinuxPids',
  'linux.resources.blockIO': 'LinuxBlockIO',
  'linux.resources.cpu': 'LinuxCPU',
  'linux.resources.hugepageLimits.*': 'LinuxHugepageLimit',
  'linux.resources.memory': 'LinuxMemory',
  'linux.resources.network': 'LinuxNetwork',
  'linux.seccomp': 'LinuxSeccomp',
  'linux.intelRdt': 'LinuxIntelRdt',
  'linux.memoryPolicy': 'LinuxMemoryPolicy',
  'linux.timeOffsets': 'LinuxTimeOffsets',
};

const PRUNED_PLATFORMS = ['solaris', 'windows', 'vm', 'zos', 'freebsd'];

function forTypes() {
  // One document: config-schema.json with the definitions it needs (defs.json, defs-linux.json)
  // and config-linux.json's `linux`, every ref made local.
  const defs = {};
  const localRef = (ref, file) => {
    const r = normaliseRef(ref);
    const [f, frag] = r.split('#');
    const target = f || file;
    if (target === 'config-linux.json' && frag === '/linux') return '#/definitions/__linux';
    const m = /^\/definitions\/(.+)$/.exec(frag);
    if (!m || !['defs.json', 'defs-linux.json'].includes(target)) throw new Error(`codegen: unexpected ref ${ref} in ${file}`);
    return `#/definitions/${target}:${m[1]}`;
  };
  const localise = (node, file) =>
    walk(node, (n) => {
      if (typeof n.$ref === 'string') n.$ref = localRef(n.$ref, file);
      delete n.$schema;
      return n;
    });
  for (const f of ['defs.json', 'defs-linux.json']) for (const [k, v] of Object.entries(schemas[f].definitions)) defs[`${f}:${k}`] = localise(v, f);
  defs.__linux = localise(schemas['config-linux.json'].linux, 'config-linux.json');
  const config = structuredClone(schemas['config-schema.json']);
  for (const p of PRUNED_PLATFORMS) delete config.properties[p];
  const root = localise(config, 'config-schema.json');

  // Resolve refs: primitive definitions are inlined (with their description), named ones stay refs.
  const named = new Set();
  for (const [f, t] of Object.entries(DEF_TITLES)) for (const k of Object.keys(t)) named.add(`${f}:${k}`);
  const wide = new Set(['defs.json:uint64', 'defs.json:int64']);
  const resolveNode = (n, seen = new Set()) => {
    if (n && typeof n === 'object' && !Array.isArray(n) && typeof n.$ref === 'string') {
      const key = n.$ref.slice('#/definitions/'.length);
      if (key === '__linux' || named.has(key)) return n;
      if (seen.has(key)) throw new Error(`codegen: ref cycle at ${key}`);
      const { $ref, ...rest } = n;
      const target = resolveNode(defs[key], new Set([...seen, key]));
      const merged = { ...structuredClone(target), ...rest };
      if (wide.has(key)) merged.tsType = 'number | bigint';
      return merged;
    }
    return n;
  };
  const deep = (node) => walk(node, (n) => resolveNode(n));
  for (const k of Object.keys(defs)) defs[k] = deep(defs[k]);
  const rootR = deep(root);

  // Integer bounds are documentation only for types: drop them (they would not fit in a number).
  const clean = (node) =>
    walk(node, (n) => {
      if (n.type === 'integer') {
        const lo = bound(n.minimum);
        const hi = bound(n.maximum);
        if (lo !== undefined || hi !== undefined) n.description = [n.description, `integer${lo !== undefined ? ` >= ${lo}` : ''}${hi !== undefined ? ` <= ${hi}` : ''}`].filter(Boolean).join('; ');
        delete n.minimum;
        delete n.maximum;
      }
      return n;
    });

  // Titles.
  const outDefs = {};
  for (const [f, t] of Object.entries(DEF_TITLES)) for (const [k, title] of Object.entries(t)) outDefs[`${f}:${k}`] = { ...clean(defs[`${f}:${k}`]), title };
  outDefs.__linux = clean(defs.__linux);
  const doc = clean(rootR);
  doc.definitions = outDefs;
  const titleAt = (node, path) => {
    if (!node || typeof node !== 'object') return;
    const t = PATH_TITLES[path];
    if (t && !node.$ref) node.title = t;
    const sub = (p) => (path === '' ? p : `${path}.${p}`);
    for (const [k, v] of Object.entries(node.properties ?? {})) titleAt(v.$ref === '#/definitions/__linux' ? doc.definitions.__linux : v, sub(k));
    if (node.items) titleAt(node.items, sub('*'));
    if (node.additionalProperties && typeof node.additionalProperties === 'object') titleAt(node.additionalProperties, sub('*'));
  };
  titleAt(doc, '');
  for (const [p, t] of Object.entries(PATH_TITLES)) if (!JSON.stringify(doc).includes(`"title":"${t}"`)) throw new Error(`codegen: no schema at ${p} for ${t}`);
  return doc;
}

async function generateTypes() {
  const { compile } = await load('json-schema-to-typescript');
  const doc = forTypes();
  const ts = await compile(doc, 'Spec', {
    bannerComment:
      '// @generated by tools/codegen/codegen.mjs from packages/spec/schema (OCI runtime-spec v1.3.0, Linux).\n' +
      '// Do not edit: run `pnpm codegen`. uint64/int64 fields are `number | bigint` (see parseConfig).',
    additionalProperties: false,
    declareExternallyReferenced: true,
    unreachableDefinitions: false,
    strictIndexSignatures: false,
    enableConstEnums: false,
    ignoreMinAndMaxItems: true,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
    $refOptions: { resolve: { external: false, file: false, http: false } },
  });
  // json-schema-to-typescript numbers colliding names (`Device1`): there must be none.
  const dup = /export (?:interface|type) ([A-Za-z]+\d+)\b/.exec(ts);
  if (dup) throw new Error(`codegen: colliding type name ${dup[1]}; give it a title`);
  return ts;
}

// ---------------------------------------------------------------------------------------------

const outputs = {
  'types.ts': await generateTypes(),
  'validate.js': await generateValidator(),
  'validate.d.ts': VALIDATE_DTS,
};
let stale = [];
for (const [name, text] of Object.entries(outputs)) {
  const p = join(OUT, name);
  const old = existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  if (old === text) continue;
  stale.push(p);
  if (!check) {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(p, text);
  }
}
if (check) {
  if (stale.length > 0) {
    process.stderr.write(`codegen: out of date (run pnpm codegen): ${stale.map((p) => p.slice(ROOT.length + 1)).join(', ')}\n`);
    process.exit(1);
  }
} else {
  for (const p of stale) process.stdout.write(`codegen: wrote ${p.slice(ROOT.length + 1)}\n`);
}
