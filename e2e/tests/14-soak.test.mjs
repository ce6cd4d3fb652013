// The short soak (tools/soak/soak.mjs, 40 cycles, four in parallel): create/start/exec/kill/delete
// with the runtime SIGKILLed mid-create and delete --force racing start; afterwards no mounts,
// cgroups, processes, state dirs or stray fds, and every reported create is running or gone.
// The full run (1,000 cycles) is `node tools/soak/soak.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from '../../tools/soak/soak.mjs';

test('40 cycles, four in parallel, with interruptions: nothing lost, nothing leaked', { timeout: 300_000 }, async (t) => {
  const r = await soak({ cycles: 40, parallel: 4, keepRunning: 0.1, log: (l) => t.diagnostic(l) });
  t.diagnostic(`seed ${r.seed}, ${r.ms} ms: ${JSON.stringify(r.counts)}`);
  assert.deepEqual(r.problems, [], `seed ${r.seed}`);
  assert.deepEqual(r.leaks, {}, `seed ${r.seed}`);
  assert.equal(r.counts.cycles, 40);
});
