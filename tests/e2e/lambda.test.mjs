// When Lambda itself fails a function: it overran its timeout (Sandbox.Timedout, after it did its
// writes), its process died partway or before doing anything (Runtime.ExitError), or Lambda returned no
// error type (Lambda.Unknown). The state machine runs the function again a bounded number of times; the
// functions re-read before they write, so nothing is done twice, and a function that never finishes
// ends the run failed, with a notice.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

const e2e = useStack('lambda');

/**
 * Faults by function: each entry is the fault of that function's next invocation, in order: a kind of
 * the runner's Lambda failures, or an async function that prepares the world and returns one.
 */
function faultsInOrder(plan) {
  const left = Object.fromEntries(Object.entries(plan).map(([fn, faults]) => [fn, [...faults]]));
  return async ({ function: fn }) => {
    const next = left[fn]?.shift();
    const lambda = typeof next === 'function' ? await next() : next;
    return lambda ? { lambda } : undefined;
  };
}

test('functions that crash partway, time out after their writes or die before any: each retry resumes, and the run ends live with one publish and one go-live', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'lambda-once';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const offerPath = `/api/publishers/${PUBLISHER}/offers/${offerId}`;
  const beforeInvoke = faultsInOrder({
    'update-and-publish': [
      // Its PUT lands, its publish never reaches Microsoft, and the process dies.
      async () => {
        await stack.emulator.addFault({ method: 'POST', pathContains: `${offerPath}/publish`, times: 1, action: { drop: 'beforeHandling' } });
        return 'crash';
      },
      // It publishes, then overruns its timeout: its answer is lost.
      'timeout',
    ],
    'check-last-operation': ['unknown', 'killed'],
    // The go-live is POSTed and the answer lost.
    'validate-and-go-live': ['timeout'],
  });

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0', goLive: 'auto' }), { beforeInvoke });
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(events(run), ['previewReady', 'live']);
  const failed = run.invocations.filter((i) => !i.ok).map((i) => `${i.function} ${i.errorType}`);
  assert.deepEqual(failed, [
    'update-and-publish Runtime.ExitError',
    'update-and-publish Sandbox.Timedout',
    'check-last-operation Lambda.Unknown',
    'check-last-operation Runtime.ExitError',
    'validate-and-go-live Sandbox.Timedout',
  ]);
  const attempts = (fn, n) => run.invocations.filter((i) => i.function === fn).slice(0, n).map((i) => i.ok);
  assert.deepEqual(attempts('update-and-publish', 3), [false, false, true], 'run again by the state machine');
  assert.deepEqual(attempts('validate-and-go-live', 2), [false, true]);
  assert.ok(run.simulated.retries >= 5, 'each retry waited its Retry interval');
  const accepted = (suffix) => run.requests.filter((r) => r.method === 'POST' && r.path.endsWith(suffix) && !r.fault).length;
  assert.equal(run.requestCounts['PUT offer'], 1, 'the version was written once');
  assert.equal(accepted('/publish'), 1, 'published once: by the second attempt, resumed by the third');
  assert.equal(accepted('/golive'), 1, 'the retry resumed the go-live the lost attempt started');
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
  assert.match(message.summary, /publish run: failed with Sandbox\.Timedout/);
  assertNoSecrets(run.notifications, 'the notification');
  assert.equal(run.states.at(-1), 'PublishingFailed');
  // Every attempt ran to its end: the first wrote and published, the others found that done.
  assert.equal(run.requestCounts['PUT offer'], 1, 'written once');
  assert.equal(run.requestCounts['POST publish'], 1, 'published once');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.draft, PLAN), ['1.0.0', '1.1.0']);
  assert.equal(offer.production, null, 'nothing went live');
});

test('a function whose process dies every time ends the run failed with Runtime.ExitError, having written nothing', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'lambda-killed';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const beforeInvoke = async ({ function: fn }) => (fn === 'update-and-publish' ? { lambda: 'killed' } : undefined);

  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }), { beforeInvoke });
  assert.equal(run.status, 'FAILED');
  assert.equal(run.error, 'Runtime.ExitError');
  assert.match(run.cause, /signal: killed/);
  assert.equal(run.invocations.length, 4);
  assert.deepEqual(events(run), ['failed']);
  assert.equal(run.requestCounts['PUT offer'], undefined, 'the offer was not written');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.draft, PLAN), ['1.0.0']);
});

testLogsCarryNoSecrets(e2e);
