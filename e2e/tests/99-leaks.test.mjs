// The leak check: runs last (run.mjs orders the files). After the whole suite nothing of it may
// remain: no mounts under the run dir, no state dirs, no cgroups named after test ids (runc's
// /<id>, runts's /runts/<id>: both end in the id, searched in every hierarchy), no processes
// of test containers, no netns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_DIR, PREFIX, TAG, mountsUnder, stateDirsIn, cgroupsOf, processesOf, netnsOf } from '../lib/index.mjs';

const ours = `${PREFIX}${TAG}-`;

test('no leaked mounts, state dirs, cgroups, processes or netns', async () => {
  // a container's last process may still be on its way out: give it a moment
  for (let i = 0; i < 20 && processesOf({ dirs: [RUN_DIR], idPrefix: ours }).length; i++) await new Promise((r) => setTimeout(r, 100));
  const leaks = {
    mounts: mountsUnder(RUN_DIR),
    stateDirs: stateDirsIn(RUN_DIR),
    cgroups: cgroupsOf(ours),
    processes: processesOf({ dirs: [RUN_DIR], idPrefix: ours }),
    netns: netnsOf(ours),
  };
  assert.deepEqual(leaks, { mounts: [], stateDirs: {}, cgroups: [], processes: [], netns: [] }, `leaks after the suite (run dir ${RUN_DIR}, ids ${ours}*)`);
});
