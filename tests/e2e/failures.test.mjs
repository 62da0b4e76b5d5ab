// When Microsoft or the API gets in the way: a failed certification ends the run with Microsoft's
// words; an unsteady API and another operation on the offer are waited out.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

const e2e = useStack('failures');

test('a certification failure ends the run failed, with Microsoft message in the notification', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-certfail';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  // Microsoft's messages are HTML: people must get them as text.
  const html = '<p><b>Certification failed.</b> The VHD failed certification: port 22 is open to the internet &amp; the image has no <i>waagent</i>.</p>';
  await stack.emulator.failAtStep(PUBLISHER, offerId, 'displaycertify', html);

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(run.status, 'FAILED');
  assert.equal(run.error, 'OperationFailed');
  assert.match(run.cause, /port 22 is open to the internet & the image/);
  assert.ok(run.states.includes('RecordOperationFailureWithMessages'), run.states.join(' > '));
  assert.equal(run.states.at(-1), 'PublishingFailed');
  assert.deepEqual(events(run), ['failed']);
  const { message, subject } = run.notifications[0];
  assert.match(subject, /failed/);
  assert.equal(message.error, 'OperationFailed');
  assert.equal(message.version, '1.1.0');
  assert.match(message.cause, /port 22 is open to the internet/);
  assert.ok(
    message.messages.includes('Certification failed. The VHD failed certification: port 22 is open to the internet & the image has no waagent.'),
    JSON.stringify(message.messages),
  );
  assertNoSecrets(run.notifications, 'the notification');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.equal(offer.preview, null, 'nothing reached preview');
});

test('503s and 429s with Retry-After injected mid-run are survived', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-unsteady';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const offerPath = `/api/publishers/${PUBLISHER}/offers/${offerId}`;
  // The first publish is answered 503 and not applied: update-and-publish fails with Transient
  // (a publish is never re-sent blindly) and the state machine's Retry runs it again.
  await stack.emulator.addFault({ method: 'POST', pathContains: `${offerPath}/publish`, times: 1, action: { status: 503 } });
  let injected = false;
  const beforeInvoke = async ({ function: fn, payload }) => {
    // Halfway through certification, the operation reads start failing for a while.
    if (fn === 'check-last-operation' && payload.pollCount === 6 && !injected) {
      injected = true;
      await stack.emulator.addFault({ method: 'GET', pathContains: `${offerPath}/operations/`, times: 2, action: { status: 503, retryAfter: '1' } });
      await stack.emulator.addFault({ method: 'GET', pathContains: `${offerPath}/operations/`, times: 2, action: { status: 429, retryAfter: '1' } });
      await stack.emulator.addFault({ method: 'GET', pathContains: `${offerPath}/operations/`, times: 3, action: { status: 503 } });
    }
  };

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }), { beforeInvoke });
  await stack.emulator.clearFaults();
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(events(run), ['previewReady']);
  assert.ok(injected, 'the faults were injected mid-run');
  const faulted = run.requests.filter((r) => r.fault);
  assert.deepEqual(
    faulted.map((r) => `${r.method} ${r.status}`),
    ['POST 503', 'GET 503', 'GET 503', 'GET 429', 'GET 429', 'GET 503', 'GET 503', 'GET 503'],
  );
  const publishes = run.invocations.filter((i) => i.function === 'update-and-publish');
  assert.deepEqual(
    publishes.map((i) => i.errorType ?? 'ok'),
    ['Transient', 'ok'],
    'the 503 on publish is retried by the state machine',
  );
  assert.ok(run.simulated.retries >= 1);
  assert.equal(run.requestCounts['POST publish'], 2, 'one refused, one accepted');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.equal(offer.versions.length, 1, 'one publish was applied');
  assert.deepEqual(planVersions(offer.preview, PLAN), ['1.0.0', '1.1.0']);
});

test('another operation running on the offer (OfferBusy) is waited out', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-busy';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  // Someone publishes from the portal, then thinks better of it: the cancel takes a couple of minutes.
  const offerPath = `/api/publishers/${PUBLISHER}/offers/${offerId}`;
  await stack.emulator.api('POST', `${offerPath}/publish`);
  await stack.emulator.api('POST', `${offerPath}/cancel`);

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  const publishes = run.invocations.filter((i) => i.function === 'update-and-publish');
  assert.ok(publishes.every((i) => i.ok));
  // The run queued: it waited five minutes (in AWS; here the clock moved instead), then published.
  const path = run.states.filter((s) => ['UpdateAndPublish', 'QueuedForOffer', 'Queued', 'Notify', 'WaitForOffer', 'WaitForOperation'].includes(s));
  assert.deepEqual(path.slice(0, 8), ['UpdateAndPublish', 'QueuedForOffer', 'Queued', 'Notify', 'WaitForOffer', 'UpdateAndPublish', 'QueuedForOffer', 'WaitForOperation']);
  assert.equal(run.simulated.queueSeconds, 300);
  assert.deepEqual(events(run), ['queued', 'previewReady']);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.preview, PLAN), ['1.0.0', '1.1.0']);
});

test('an operation that holds the offer longer than a whole publication ends the run failed with OfferBusy', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'e2e-held';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  // Someone else's publish reaches sign-off and nobody ever takes it live or cancels it: the run
  // waits its turn for CPP_QUEUE_MAX_DAYS (18, longer than a whole publication), then gives up.
  await stack.emulator.api('POST', `/api/publishers/${PUBLISHER}/offers/${offerId}/publish`);

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(run.status, 'FAILED');
  assert.equal(run.error, 'OfferBusy');
  assert.match(run.cause, /running; one operation runs per offer at a time; this run waited 18\.0 days/);
  assert.equal(run.simulated.queueSeconds, 18 * 86_400);
  // 5 min doubling to 4 h: 6 waits up to 9600 s, then 107 (the last one cut short to the 18 days).
  assert.equal(run.simulated.queueWaits, 113);
  assert.equal(run.invocations.length, 114);
  assert.ok(run.invocations.slice(0, -1).every((i) => i.ok), 'each visit queued');
  assert.equal(run.invocations.at(-1).errorType, 'OfferBusy', 'the last one gave up');
  assert.deepEqual(events(run), ['queued', 'failed']);
  assert.equal(run.notifications[1].message.error, 'OfferBusy');
  assert.equal(run.requestCounts['PUT offer'], undefined, 'the offer was not written');
});

testLogsCarryNoSecrets(e2e);
