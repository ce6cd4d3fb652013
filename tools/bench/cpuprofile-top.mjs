#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): where the samples fall, by function (self time)
// and by file (self time), so a profile can be read without Chrome DevTools.
//   node tools/bench/cpuprofile-top.mjs FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));

// time per sample: timeDeltas[i] is the gap before samples[i]
const self = new Map();
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = (prof.timeDeltas?.[i] ?? 0) / 1000; // µs -> ms
  total += dt;
  self.set(id, (self.get(id) ?? 0) + dt);
});

const short = (url) => {
  if (!url) return '(native/internal)';
  return url.replace(/^file:\/\//, '').replace(/^.*\/packages\//, 'packages/').replace(/^node:/, 'node:');
};
const fnKey = (n) => `${n.callFrame.functionName || '(anonymous)'}  ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const byFn = new Map();
const byFile = new Map();
for (const [id, ms] of self) {
  const n = byId.get(id);
  if (!n) continue;
  const k = fnKey(n);
  byFn.set(k, (byFn.get(k) ?? 0) + ms);
  const f = ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName) ? n.callFrame.functionName : short(n.callFrame.url);
  byFile.set(f, (byFile.get(f) ?? 0) + ms);
}

// inclusive (total) time per function: each sample counts once for every distinct function on its stack
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
prof.samples.forEach((id, i) => {
  const dt = (prof.timeDeltas?.[i] ?? 0) / 1000;
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n || n.callFrame.functionName === '(root)') continue;
    const k = fnKey(n);
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
});

const span = (prof.endTime - prof.startTime) / 1000;
console.log(`${file}`);
console.log(`profile span ${span.toFixed(1)} ms, sampled ${total.toFixed(1)} ms, ${prof.samples.length} samples`);
const print = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, ms] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${ms.toFixed(2).padStart(8)} ms ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
};
print('self time by file', byFile);
print('self time by function', byFn);
print('total (inclusive) time by function', incl);
