// What a publication does to the offer document: nothing when the version is already there,
// evicting the oldest when the plan is full, and never losing what it does not understand.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

const e2e = useStack('offer');

test('a version already in the draft is published without a PUT', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-present';
  // The draft already holds 1.1.0 with this build's image (the SAS differs only in st/se/sv/sig).
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0', '1.1.0']));

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.equal(run.output.changed, false);
  assert.equal(run.requestCounts['PUT offer'], undefined, 'no PUT');
  assert.equal(run.requestCounts['POST publish'], 1);
  assert.deepEqual(events(run), ['previewReady']);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.preview, PLAN), ['1.0.0', '1.1.0']);
});

test('a ninth version evicts the oldest, and the rest of the offer comes back as it was', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-full';
  const eight = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.6.0', '1.7.0'];
  const seeded = testOffer(offerId, eight);
  await stack.emulator.seedOffer(seeded);

  const run = await pipeline.publish(manifest({ offerId, version: '2.0.0' }));
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(run.output.evictedVersions, ['1.0.0']);
  const { draft, preview } = await stack.emulator.offer(PUBLISHER, offerId);
  const kept = [...eight.slice(1), '2.0.0'];
  assert.deepEqual(planVersions(draft, PLAN).sort(), kept);
  assert.deepEqual(planVersions(preview, PLAN).sort(), kept);
  // Only gen2's image map changed: the other plan and every unknown field are as seeded.
  assert.deepEqual(draft.definition.plans[0], seeded.definition.plans[0]);
  assert.deepEqual(draft.definition.offer, seeded.definition.offer);
  for (const field of ['offerTypeVersions', 'pcMigrationStatus', 'isvUpgradeRequest']) {
    assert.deepEqual(draft[field], seeded[field], field);
  }
  const { 'microsoft-azure-virtualmachines.vmImages': images, ...gen2 } = draft.definition.plans[1];
  const { 'microsoft-azure-virtualmachines.vmImages': seededImages, ...seededGen2 } = seeded.definition.plans[1];
  assert.deepEqual(gen2, seededGen2);
  assert.deepEqual(images['1.7.0'], seededImages['1.7.0']);
  assert.equal(images['2.0.0'].osVhdUrl, run.execution.input.osVhdUrl);
});

testLogsCarryNoSecrets(e2e);
