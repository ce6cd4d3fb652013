#!/usr/bin/env node
// A package's lint: what typecheck does not catch and CI must not let through.
//   - a test marked .only (the rest of the suite would not run)
//   - a skipped test without a reason
//   - debugging leftovers: console.log / debugger in library code (CLIs print with process.stdout)
//   - trailing whitespace, a missing final newline
//   - in library code: localeCompare, Intl and toLocale*String (ICU's first use costs ~5 ms of a verb's
//     run), and process.stdout/stderr writes (a pipe's stream costs ~2.5 ms: core's writeOut/writeErr)
//   - in library code: a namespace or default import of a Node builtin (`import * as fs from
//     'node:fs'`): the bundle's __toESM copy of it reads every lazy property (Node 26 loaded
//     internal/fs/dir so at every create); named imports
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const files = [];
(function walk(d) {
  for (const e of readdirSync(d)) {
    if (e === 'node_modules' || e === 'dist' || e === 'build' || e === 'generated' || e.startsWith('.')) continue;
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|mjs|js|c|h)$/.test(e)) files.push(p);
  }
})(join(root, 'src'));

const problems = [];
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const rel = relative(process.cwd(), f);
  const isTest = /\.test\.(ts|mjs)$/.test(f);
  text.split('\n').forEach((line, i) => {
    const at = `${rel}:${i + 1}`;
    if (/\b(it|test|describe)\.only\(/.test(line)) problems.push(`${at}: a test marked .only`);
    if (/\b(it|test|describe)\.skip\(|\{\s*skip:\s*true\s*\}/.test(line)) problems.push(`${at}: a skipped test without a reason (give skip a string)`);
    if (!isTest && /^\s*(console\.log\(|debugger;)/.test(line)) problems.push(`${at}: debugging leftover`);
    if (!isTest && /\.localeCompare\(|\bIntl\.|\.toLocale\w*String\(/.test(line)) problems.push(`${at}: ICU in library code (localeCompare, Intl, toLocale*String: ~5 ms at first use)`);
    if (!isTest && /\bprocess\.(stdout|stderr)\.write\(/.test(line) && !/lint-allow: stream/.test(line)) problems.push(`${at}: process.stdout/stderr.write (use writeOut/writeErr from @runts/core; or mark "lint-allow: stream")`);
    if (!isTest && /^import\s+(\*\s+as\s+\w+|\w+)\s+from\s+'node:/.test(line)) problems.push(`${at}: a namespace or default import of a Node builtin (its bundled copy reads every lazy property): use named imports`);
    if (/[ \t]+$/.test(line)) problems.push(`${at}: trailing whitespace`);
  });
  if (text.length > 0 && !text.endsWith('\n')) problems.push(`${rel}: no newline at end of file`);
}
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`lint: ${problems.length} problem(s)`);
  process.exit(1);
}
