// When Lambda itself fails a function: it overran its timeout (Sandbox.Timedout, after it did its
// writes) or its process died (Lambda.Unknown, before it did anything). The state machine runs the
// function again a bounded number of times; the functions re-read before they write, so nothing is
// done twice, and a function that never finishes ends the run failed, with a notice.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

const e2e = useStack('lambda');

/** Faults by function: each entry is the fault of that function's next invocation, in order. */
function faultsInOrder(plan) {
  const left = Object.fromEntries(Object.entries(plan).map(([fn, faults]) => [fn, [...faults]]));
  return async ({ function: fn }) => {
    const lambda = left[fn]?.shift();
    return lambda ? { lambda } : undefined;
  };
}

test('each function overrunning its timeout once, after its writes, or dying once: the run still ends live with one publish and one go-live', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'lambda-once';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  // update-and-publish PUTs and POSTs publish, then times out; the first check dies; the go-live is
  // POSTed and its answer lost too. Each retry must see what the lost attempt did and resume it.
  const beforeInvoke = faultsInOrder({
    'update-and-publish': ['timeout'],
    'check-last-operation': ['killed'],
    'validate-and-go-live': ['timeout'],
  });

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0', goLive: 'auto' }), { beforeInvoke });
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(events(run), ['previewReady', 'live']);
  const failed = run.invocations.filter((i) => !i.ok).map((i) => `${i.function} ${i.errorType}`);
  assert.deepEqual(failed, ['update-and-publish Sandbox.Timedout', 'check-last-operation Lambda.Unknown', 'validate-and-go-live Sandbox.Timedout']);
  const retried = (fn) => run.invocations.filter((i) => i.function === fn).slice(0, 2).map((i) => i.ok);
  assert.deepEqual(retried('update-and-publish'), [false, true], 'run again by the state machine');
  assert.deepEqual(retried('validate-and-go-live'), [false, true]);
  assert.ok(run.simulated.retries >= 3, 'each retry waited its Retry interval');
  assert.equal(run.requestCounts['PUT offer'], 1, 'the version was written once');
  assert.equal(run.requestCounts['POST publish'], 1, 'the retry resumed the publish the lost attempt started');
  assert.equal(run.requestCounts['POST golive'], 1, 'the retry resumed the go-live the lost attempt started');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.equal(offer.versions.length, 1, 'one publish snapshot');
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.1.0']);
});

test('a function that always overruns its timeout ends the run failed with Sandbox.Timedout, notified, nothing written twice', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'lambda-always';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const beforeInvoke = async ({ function: fn }) => (fn === 'update-and-publish' ? { lambda: 'timeout' } : undefined);

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0', goLive: 'auto' }), { beforeInvoke });
  assert.equal(run.status, 'FAILED');
  assert.equal(run.error, 'Sandbox.Timedout');
  assert.match(run.cause, /Task timed out after 90\.00 seconds/);
  const attempts = run.invocations.filter((i) => i.function === 'update-and-publish');
  assert.equal(attempts.length, 4, 'the first attempt and three retries, then it gives up');
  assert.ok(attempts.every((i) => i.errorType === 'Sandbox.Timedout'));
  assert.deepEqual(events(run), ['failed']);
  const { message, subject } = run.notifications[0];
  assert.match(subject, /failed/);
  assert.equal(message.error, 'Sandbox.Timedout');
  assert.match(message.summary, /the run failed with Sandbox\.Timedout/);
  assertNoSecrets(run.notifications, 'the notification');
  assert.equal(run.states.at(-1), 'PublishingFailed');
  // Every attempt ran to its end: the first wrote and published, the others found that done.
  assert.equal(run.requestCounts['PUT offer'], 1, 'written once');
  assert.equal(run.requestCounts['POST publish'], 1, 'published once');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.draft, PLAN), ['1.0.0', '1.1.0']);
  assert.equal(offer.production, null, 'nothing went live');
});

test('a function whose process dies every time ends the run failed with Lambda.Unknown, having written nothing', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'lambda-killed';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const beforeInvoke = async ({ function: fn }) => (fn === 'update-and-publish' ? { lambda: 'killed' } : undefined);

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }), { beforeInvoke });
  assert.equal(run.status, 'FAILED');
  assert.equal(run.error, 'Lambda.Unknown');
  assert.match(run.cause, /signal: killed/);
  assert.equal(run.invocations.length, 4);
  assert.deepEqual(events(run), ['failed']);
  assert.equal(run.requestCounts['PUT offer'], undefined, 'the offer was not written');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.draft, PLAN), ['1.0.0']);
});

testLogsCarryNoSecrets(e2e);
