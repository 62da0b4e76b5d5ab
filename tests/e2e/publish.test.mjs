// From the manifest upload to preview and live: the paths a release takes when nothing goes wrong,
// and the two ways an event must not start a second publication.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

const DAY = 86_400;
const e2e = useStack('publish');

test('upload -> preview ready; a manual go-live -> live', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-manual';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));

  const preview = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(preview.status, 'SUCCEEDED', `${preview.error}: ${preview.cause}`);
  assert.equal(preview.execution.input.action, 'publish');
  assert.deepEqual(events(preview), ['previewReady']);
  const [notice] = preview.notifications;
  assert.match(notice.subject, /preview/);
  assert.equal(notice.message.version, '1.1.0');
  assert.equal(notice.message.offerId, offerId);
  assert.equal(notice.message.execution, preview.execution.executionArn);
  // A manual go-live: the notice gives the command that takes this publication live.
  assert.equal(notice.message.goLiveNow, false);
  assert.ok(notice.message.summary.endsWith(`take it live with: mpub go-live ${preview.execution.executionArn}`), notice.message.summary);
  assertNoSecrets(preview.notifications, 'the notification');
  assert.ok(preview.states.includes('StoppedAtPreview'), preview.states.join(' > '));
  assert.ok(!preview.states.includes('ValidateAndGoLive'), 'goLive manual stops at preview');
  // Certification takes days; the run waited them out on the emulator's clock in a few checks.
  assert.ok(preview.simulated.waitSeconds > 4 * DAY, `waited ${preview.simulated.waitSeconds} s`);
  assert.ok(preview.simulated.waits < 40, `${preview.simulated.waits} checks`);
  assert.equal(preview.requestCounts['PUT offer'], 1);
  assert.equal(preview.requestCounts['POST publish'], 1);

  let offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.preview, PLAN), ['1.0.0', '1.1.0']);
  assert.equal(offer.production, null);

  const live = await pipeline.goLive(preview.execution);
  assert.equal(live.status, 'SUCCEEDED', `${live.error}: ${live.cause}`);
  assert.deepEqual(events(live), ['live']);
  assert.match(live.notifications[0].subject, /live/);
  assert.ok(live.states.includes('ValidateAndGoLive'));
  assert.ok(live.states.includes('PublishedAndLive'));
  assert.ok(!live.states.includes('UpdateAndPublish'), 'the preview held the version: no new publish');
  assert.equal(live.requestCounts['POST golive'], 1);
  assert.equal(live.requestCounts['PUT offer'], undefined);
  assert.equal(live.requestCounts['POST publish'], undefined);
  assert.ok(live.simulated.waitSeconds >= 3 * DAY, 'the live step takes days');

  offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.1.0']);
});

test('goLive auto: upload -> preview -> live in one execution', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-auto';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));

  const run = await pipeline.publish(manifest({ offerId, version: '1.2.0', goLive: 'auto' }));
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(events(run), ['previewReady', 'live']);
  const order = ['UpdateAndPublish', 'PreviewReadyGoingLive', 'ValidateAndGoLive', 'Live', 'PublishedAndLive'];
  const positions = order.map((s) => run.states.indexOf(s));
  assert.ok(
    positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])),
    run.states.join(' > '),
  );
  assert.equal(run.requestCounts['POST golive'], 1);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.2.0']);
});

test('a go-live of a version the preview lacks publishes it first, then goes live', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-golive-first';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  // The publish execution was started but never ran (stopped, say); a person asks for the go-live anyway.
  const { event } = await pipeline.upload(manifest({ offerId, version: '1.1.0' }));
  const delivered = await pipeline.deliver(event);
  const execution = (await pipeline.executions()).find((e) => e.executionArn === delivered.payload.started[0].executionArn);

  const run = await pipeline.goLive(execution);
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  const order = ['ValidateAndGoLive', 'PublishBeforeGoLive', 'UpdateAndPublish', 'PreviewReadyGoingLive', 'ValidateAndGoLive', 'PublishedAndLive'];
  let at = -1;
  for (const state of order) {
    at = run.states.indexOf(state, at + 1);
    assert.ok(at >= 0, `${state} after the previous ones in ${run.states.join(' > ')}`);
  }
  assert.deepEqual(events(run), ['previewReady', 'live']);
  assert.equal(run.requestCounts['POST publish'], 1);
  assert.equal(run.requestCounts['POST golive'], 1);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.1.0']);
});

test('the same storage event delivered twice starts one execution', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-twice';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const ours = async () => (await pipeline.executions()).filter((e) => e.input.offerId === offerId);

  const { event } = await pipeline.upload(manifest({ offerId, version: '1.1.0' }));
  const first = await pipeline.deliver(event);
  assert.ok(first.ok, first.errorMessage);
  assert.equal(first.payload.started.length, 1);
  // While the execution runs, Step Functions answers the same name and input with the same execution.
  const second = await pipeline.deliver(event);
  assert.ok(second.ok, second.errorMessage);
  const names = [...second.payload.started, ...second.payload.duplicates].map((e) => e.name);
  assert.deepEqual(names, [first.payload.started[0].name]);
  assert.equal((await ours()).length, 1);

  const [execution] = await ours();
  const run = await pipeline.run(execution);
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);

  // Once it has ended, the name is taken: build-finished reports a duplicate and starts nothing.
  const late = await pipeline.deliver(event);
  assert.ok(late.ok, late.errorMessage);
  assert.deepEqual(late.payload.started, []);
  assert.equal(late.payload.duplicates.length, 1);
  assert.equal(late.payload.duplicates[0].name, execution.name);
  assert.equal((await ours()).length, 1);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.equal(offer.versions.length, 1, 'one publish reached the offer');
});

test('a bad manifest starts nothing and says which field is wrong', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-bad';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const soon = new Date(Date.now() + 7 * DAY * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const cases = [
    { field: 'version', content: manifest({ offerId, version: '1.4' }), key: 'manifests/bad/version.json' },
    { field: 'planId', content: manifest({ offerId, version: '1.4.0', planId: 'Gen2' }), key: 'manifests/bad/plan.json' },
    { field: 'colour', content: { ...manifest({ offerId, version: '1.4.0' }), colour: 'blue' }, key: 'manifests/bad/unknown.json' },
    {
      field: 'osVhdUrl',
      content: manifest({ offerId, version: '1.4.0', osVhdUrl: `https://acct.blob.core.windows.net/v/os.vhd?sp=rl&se=${soon}&sig=abc` }),
      key: 'manifests/bad/sas.json',
    },
    { field: 'not JSON', content: '{"publisherId": "contoso", ', key: 'manifests/bad/truncated.json' },
  ];
  const before = (await pipeline.executions()).length;
  for (const { field, content, key } of cases) {
    const { event } = await pipeline.upload(content, key);
    const result = await pipeline.deliver(event);
    assert.equal(result.ok, false, `${field}: build-finished accepted ${JSON.stringify(content)}`);
    assert.equal(result.errorType, 'InvalidInput', `${field}: ${result.errorMessage}`);
    assert.match(result.errorMessage, new RegExp(field, 'i'), `the error names ${field}`);
    assert.match(result.errorMessage, new RegExp(key.split('/').pop().replace('.', '\\.')), 'the error names the object');
    assertNoSecrets(result.errorMessage, 'the error');
  }
  assert.equal((await pipeline.executions()).length, before, 'no execution was started');
  assert.equal((await stack.emulator.offer(PUBLISHER, offerId)).versions.length, 0, 'the offer was not touched');
});

testLogsCarryNoSecrets(e2e);
