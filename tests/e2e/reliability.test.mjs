// The state-machine half of the reliability matrix (tests/RELIABILITY.md): executions at the same time
// on one offer, storage events delivered again and out of order, go-lives asked twice or too early, a
// cancel from the portal, an operation stuck until the poll guard trips, and a short seeded chaos run.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NAMED_ERRORS, chaosRun } from './lib/chaos.mjs';
import { planVersions } from './lib/emulator.mjs';
import { makeLock } from './lib/lock.mjs';
import { events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

// A small poll guard for this file's stack, so a stuck operation trips it in a few seconds. A normal
// publication needs about 34 + 13 checks (README, figures of `make bench`).
const MAX_POLLS = 80;
const e2e = useStack('reliability', { env: { CPP_MAX_POLLS: String(MAX_POLLS) } });

const offerPath = (offerId) => `/api/publishers/${PUBLISHER}/offers/${offerId}`;

/** Uploads a manifest and delivers its event; returns the execution build-finished started. */
async function started(content) {
  const { pipeline } = e2e;
  const { key, event } = await pipeline.upload(content);
  const delivered = await pipeline.deliver(event);
  assert.ok(delivered.ok && delivered.payload.started.length === 1, `${key}: ${JSON.stringify(delivered)}`);
  return (await pipeline.executions()).find((e) => e.executionArn === delivered.payload.started[0].executionArn);
}

/** The offer's operations from CPP itself, oldest first: kind, status, created and last action. */
async function operations(offerId) {
  const { emulator } = e2e.stack;
  const { body } = await emulator.api('GET', `${offerPath(offerId)}/submissions`);
  const ops = [];
  for (const s of body) {
    const { body: detail } = await emulator.api('GET', `${offerPath(offerId)}/operations/${s.id}`);
    ops.push({ id: s.id, slot: s.slot, status: detail.status, created: detail.createdDateTime, last: detail.lastActionDateTime });
  }
  return ops.sort((a, b) => a.created.localeCompare(b.created));
}

/** Publishes on the offer never ran at once: each began after the one before had ended. */
function assertPublishesNeverOverlapped(ops) {
  const publishes = ops.filter((o) => o.slot === 'staging');
  for (let i = 1; i < publishes.length; i++) {
    const [before, after] = [publishes[i - 1], publishes[i]];
    assert.ok(['succeeded', 'failed', 'canceled'].includes(before.status), `publish ${before.id} still ${before.status} when ${after.id} began`);
    assert.ok(after.created >= before.last, `publish ${after.id} began ${after.created}, before ${before.id} ended ${before.last}`);
  }
}

/** The offer's requests in the emulator's whole log (concurrent runs share it). */
async function offerRequests(offerId) {
  return (await e2e.stack.emulator.requests()).filter((r) => r.path.startsWith(offerPath(offerId)));
}
const count = (requests, method, suffix, status) =>
  requests.filter((r) => r.method === method && r.path.endsWith(suffix) && (status === undefined || r.status === status)).length;

/**
 * Two executions on one offer at the same time. One operation runs per offer: whichever comes second
 * finds the offer busy and queues (WaitForOffer: 5 min doubling to 4 h, for up to CPP_QUEUE_MAX_DAYS,
 * longer than a whole publication). goLive auto, so the first frees the offer by itself after its
 * go-live, and the second then goes through on its own: no re-run. Or, when both wrote before either
 * published, the second's publish of the unchanged draft is answered with the first's operation: one
 * publish carries both versions, and neither queues. Which one happens depends on how the calls
 * interleave; both are right, and each is checked.
 */
async function twoAtOnce(offerId, first, second) {
  const { stack, pipeline } = e2e;
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const executions = [await started(manifest({ offerId, goLive: 'auto', ...first })), await started(manifest({ offerId, goLive: 'auto', ...second }))];
  // Both run at once, interleaved call by call; no clock move lands inside the other's call.
  const exclusive = makeLock();
  const runs = await Promise.all(executions.map((e) => pipeline.run(e, { exclusive })));
  const wanted = [first, second].map((m) => `${m.planId ?? PLAN}/${m.version}`);
  const queued = runs.filter((run) => run.states.includes('WaitForOffer'));
  assert.ok(queued.length <= 1, 'at most one of them waited for the other');
  for (const [i, run] of runs.entries()) {
    assert.equal(run.status, 'SUCCEEDED', `${wanted[i]}: ${run.error}: ${run.cause}`);
    // The queued one says so once, when it starts waiting.
    assert.deepEqual(events(run), [...(queued.includes(run) ? ['queued'] : []), 'previewReady', 'live']);
  }
  if (queued.length === 1) {
    const notice = queued[0].notifications[0].message;
    assert.match(notice.waitingFor, /running; one operation runs per offer at a time/);
    assert.match(notice.summary, /waits its turn: .* for 18 days at most\./);
    assert.equal(notice.queueMaxDays, 18);
    // Its own waits alone spanned days (the other's waits moved the shared clock too).
    const waited = queued[0].simulated.queueSeconds;
    assert.ok(waited >= 86_400, `the queued one waited ${waited} s`);
  } else {
    const [a, b] = runs.map((run) => run.output.operation?.id);
    assert.equal(a, b, 'neither queued: both followed the one go-live of the one publish');
  }
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  for (const key of wanted) {
    const [planId, version] = key.split('/');
    for (const slot of ['draft', 'preview', 'production']) assert.ok(planVersions(offer[slot], planId).includes(version), `${slot} ${planId} holds ${version}`);
  }
  const ops = await operations(offerId);
  assertPublishesNeverOverlapped(ops);
  const requests = await offerRequests(offerId);
  // No operation lost or started twice: one publish and one go-live per operation CPP knows, each POST accepted once.
  const publishes = ops.filter((o) => o.slot === 'staging');
  const golives = ops.filter((o) => o.slot === 'production');
  assert.equal(publishes.length, queued.length === 1 ? 2 : 1, `${publishes.length} publishes`);
  assert.equal(offer.versions.length, publishes.length, 'each publish made one snapshot');
  assert.equal(golives.length, publishes.length, 'each publish went live once');
  assert.ok(ops.every((o) => o.status === 'succeeded'), JSON.stringify(ops));
  assert.equal(count(requests, 'POST', '/golive', 202), golives.length, 'one POST golive per go-live');
  return { runs, ops };
}

test('two versions of one offer at the same time: both end in their plan, publishes never overlap', async () => {
  const { runs } = await twoAtOnce('rel-two-versions', { version: '1.1.0' }, { version: '1.2.0' });
  assert.equal(runs.length, 2);
});

test('two builds for two plans of one offer at the same time: both end in their plan, publishes never overlap', async () => {
  const { runs } = await twoAtOnce('rel-two-plans', { planId: 'gen1', version: '1.0.0' }, { planId: 'gen2', version: '1.1.0' });
  assert.equal(runs.length, 2);
});

test('two versions with manual go-live: the second waits until a person takes the first live, then publishes', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-two-manual';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const first = await started(manifest({ offerId, version: '1.1.0' }));
  const second = await started(manifest({ offerId, version: '1.2.0' }));
  const preview = await pipeline.run(first);
  assert.equal(preview.status, 'SUCCEEDED', `${preview.error}: ${preview.cause}`);
  assert.deepEqual(events(preview), ['previewReady']);
  // The first waits at publisher sign-off, holding the offer; the second queues behind it until a
  // person takes the first live, here after its tenth wait (about 21 simulated hours later).
  let busy = 0;
  let firstLive;
  const queued = await pipeline.run(second, {
    beforeInvoke: async ({ function: fn }) => {
      if (fn !== 'update-and-publish' || firstLive || ++busy <= 10) return;
      firstLive = await pipeline.goLive(first);
    },
  });
  assert.equal(firstLive?.status, 'SUCCEEDED', `${firstLive?.error}: ${firstLive?.cause}`);
  assert.deepEqual(events(firstLive), ['live']);
  assert.equal(queued.status, 'SUCCEEDED', `${queued.error}: ${queued.cause}`);
  assert.deepEqual(events(queued), ['queued', 'previewReady']);
  assert.equal(queued.simulated.queueWaits, 10);
  assert.ok(queued.invocations.every((x) => x.ok));
  const secondLive = await pipeline.goLive(second);
  assert.equal(secondLive.status, 'SUCCEEDED', `${secondLive.error}: ${secondLive.cause}`);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  for (const slot of ['draft', 'preview', 'production']) assert.deepEqual(planVersions(offer[slot], PLAN), ['1.0.0', '1.1.0', '1.2.0'], slot);
  assertPublishesNeverOverlapped(await operations(offerId));
  const requests = await offerRequests(offerId);
  assert.equal(count(requests, 'POST', '/publish', 202), 2, 'one publish per version');
  assert.equal(count(requests, 'POST', '/golive', 202), 2, 'one go-live per version');
});

test('throttling on several visits of a long queue does not end it: each visit has its own retries', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-queue-throttled';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  // Someone's publish from the portal holds the offer for days.
  await stack.emulator.api('POST', `${offerPath(offerId)}/publish`);
  const execution = await started(manifest({ offerId, version: '1.1.0' }));
  let calls = 0;
  let injected = 0;
  let injectedLast = false;
  let theirsLive = false;
  const run = await pipeline.run(execution, {
    beforeInvoke: async ({ function: fn, payload }) => {
      if (fn !== 'update-and-publish' || !payload.queue) return;
      calls += 1;
      // On 8 visits, the first call meets a 429 asking for an hour: Throttled, which the state
      // machine retries; the retry (the next call) goes through and the run waits on.
      if (!injectedLast && injected < 8) {
        await stack.emulator.addFault({ method: 'GET', pathContains: `${offerPath(offerId)}/submissions`, times: 1, action: { status: 429, retryAfter: '3600' } });
        injected += 1;
        injectedLast = true;
      } else {
        injectedLast = false;
      }
      // Once their publish is at sign-off (days), they take it live from the portal.
      if (calls >= 20 && !theirsLive) theirsLive = await stack.emulator.api('POST', `${offerPath(offerId)}/golive`).then(() => true, () => false);
    },
  });
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  const throttled = run.invocations.filter((x) => x.errorType === 'Throttled').length;
  assert.equal(throttled, 8, "8 Throttled over the queue: more than one visit's 6 retries allow");
  assert.ok(theirsLive);
  assert.deepEqual(events(run), ['queued', 'previewReady'], 'one queued notice for the whole queue');
});

test('the same storage event delivered five times, three at once, starts one execution and one publish', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-redelivered';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const ours = async () => (await pipeline.executions()).filter((e) => e.input.offerId === offerId);
  const { event } = await pipeline.upload(manifest({ offerId, version: '1.1.0' }));
  const together = await Promise.all([pipeline.deliver(event), pipeline.deliver(event), pipeline.deliver(event)]);
  for (const d of together) assert.ok(d.ok, d.errorMessage);
  const names = new Set(together.flatMap((d) => [...d.payload.started, ...d.payload.duplicates].map((e) => e.name)));
  assert.equal(names.size, 1, 'every delivery names the same execution');
  assert.equal((await ours()).length, 1);
  const run = await pipeline.run((await ours())[0]);
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  for (const late of [await pipeline.deliver(event), await pipeline.deliver(event)]) {
    assert.ok(late.ok, late.errorMessage);
    assert.deepEqual(late.payload.started, []);
    assert.equal(late.payload.duplicates.length, 1);
  }
  assert.equal((await ours()).length, 1);
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.equal(offer.versions.length, 1, 'one publish reached the offer');
  assert.equal(count(await offerRequests(offerId), 'POST', '/publish'), 1);
});

test('an older manifest delivered after a newer one was published ends VersionNotHigher, the newer untouched', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-out-of-order';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const newer = await pipeline.publish(manifest({ offerId, version: '1.2.0', goLive: 'auto' }));
  assert.equal(newer.status, 'SUCCEEDED', `${newer.error}: ${newer.cause}`);
  const before = await stack.emulator.offer(PUBLISHER, offerId);

  const older = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(older.status, 'FAILED');
  assert.equal(older.error, 'VersionNotHigher');
  assert.match(older.cause, /1\.1\.0/);
  assert.match(older.cause, /1\.2\.0/);
  assert.deepEqual(events(older), ['failed']);
  assert.equal(older.notifications[0].message.error, 'VersionNotHigher');
  assert.equal(older.requestCounts['PUT offer'], undefined, 'the offer was not written');
  assert.equal(older.requestCounts['POST publish'], undefined, 'nothing was published');
  const after = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(after, before, 'draft, preview and production as the newer left them');
  assert.deepEqual(planVersions(after.production, PLAN), ['1.0.0', '1.2.0']);
});

test('a go-live asked for twice: the same name is refused, another name finds it running; one POST golive', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-golive-twice';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const preview = await pipeline.publish(manifest({ offerId, version: '1.1.0' }));
  assert.equal(preview.status, 'SUCCEEDED', `${preview.error}: ${preview.cause}`);

  // While the first go-live waits out the live step, someone asks again under another name.
  let second;
  const exclusive = makeLock();
  const beforeInvoke = async ({ function: fn, payload }) => {
    if (fn === 'check-last-operation' && payload.pollCount === 2 && !second) {
      const input = { ...preview.execution.input, action: 'goLive' };
      const name = `golive-again_${preview.execution.name}`.slice(0, 80);
      const { executionArn } = await stack.moto.startExecution(stack.stateMachineArn, name, input);
      second = pipeline.run({ executionArn, name, input }, { exclusive });
    }
  };
  const first = await pipeline.goLive(preview.execution, { beforeInvoke, exclusive });
  assert.ok(second, 'the second go-live was started while the first ran');
  const again = await second;
  for (const run of [first, again]) {
    assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    assert.deepEqual(events(run), ['live']);
    assert.ok(!run.states.includes('UpdateAndPublish'), 'no new publish');
  }
  // The same go-live by its name (as mpub go-live names it) is refused by Step Functions.
  await assert.rejects(pipeline.goLive(preview.execution), /ExecutionAlreadyExists|already exists/i);
  const requests = await offerRequests(offerId);
  assert.equal(count(requests, 'POST', '/golive'), 1, 'one POST golive');
  assert.equal(count(requests, 'POST', '/publish'), 1, 'one POST publish');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.1.0']);
});

test('a go-live asked for before preview is ready waits for preview; production never leads preview', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-golive-early';
  const version = '1.1.0';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const execution = await started(manifest({ offerId, version }));
  const violations = [];
  let previewSeen = false;
  const watch = async () => {
    const offer = await stack.emulator.offer(PUBLISHER, offerId);
    previewSeen ||= planVersions(offer.preview, PLAN).includes(version);
    if (planVersions(offer.production, PLAN).includes(version) && !previewSeen) violations.push(JSON.stringify(offer));
  };
  let golive;
  const exclusive = makeLock();
  const publishHook = async ({ function: fn, payload }) => {
    await watch();
    // In certification (days before preview), a person asks for the go-live.
    if (fn === 'check-last-operation' && payload.pollCount === 3 && !golive) golive = pipeline.goLive(execution, { beforeInvoke: watch, exclusive });
  };
  const publish = await pipeline.run(execution, { beforeInvoke: publishHook, exclusive });
  assert.ok(golive, 'the go-live was asked for during certification');
  const live = await golive;
  await watch();
  assert.equal(publish.status, 'SUCCEEDED', `${publish.error}: ${publish.cause}`);
  assert.deepEqual(events(publish), ['previewReady']);
  assert.equal(live.status, 'SUCCEEDED', `${live.error}: ${live.cause}`);
  // The go-live found the version missing from preview, joined the running publish, and went live after it.
  const order = ['ValidateAndGoLive', 'PublishBeforeGoLive', 'PreviewReadyGoingLive', 'ValidateAndGoLive', 'PublishedAndLive'];
  let at = -1;
  for (const state of order) {
    at = live.states.indexOf(state, at + 1);
    assert.ok(at >= 0, `${state} in order in ${live.states.join(' > ')}`);
  }
  assert.deepEqual(violations, [], 'production never held the version before preview did');
  const requests = await offerRequests(offerId);
  assert.equal(count(requests, 'POST', '/publish'), 1, 'the running publish was joined, not started again');
  assert.equal(count(requests, 'POST', '/golive'), 1);
  const ops = await operations(offerId);
  const [publishOp] = ops.filter((o) => o.slot === 'staging');
  const [goliveOp] = ops.filter((o) => o.slot === 'production');
  assert.ok(goliveOp.created >= publishOp.created, 'go-live began after the publish');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', version]);
});

test('a cancel from the portal in the middle of a run ends it failed, with a failed notice', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-canceled';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  let canceled = false;
  const beforeInvoke = async ({ function: fn, payload }) => {
    if (fn === 'check-last-operation' && payload.pollCount === 3 && !canceled) {
      canceled = true;
      await stack.emulator.api('POST', `${offerPath(offerId)}/cancel`);
    }
  };
  const run = await pipeline.publish(manifest({ offerId, version: '1.1.0', goLive: 'auto' }), { beforeInvoke });
  assert.ok(canceled);
  assert.equal(run.status, 'FAILED', 'never a silent success');
  assert.ok(NAMED_ERRORS.includes(run.error), `${run.error}: ${run.cause}`);
  assert.match(run.cause, /cancel/i);
  assert.deepEqual(events(run), ['failed']);
  assert.equal(run.states.at(-1), 'PublishingFailed');
  assert.ok(!run.states.includes('ValidateAndGoLive'), 'no go-live after a cancel');
  const offer = await stack.emulator.offer(PUBLISHER, offerId);
  assert.equal(offer.preview, null);
  assert.equal(offer.production, null);
});

test('an operation stuck in one step trips the poll guard: PollLimitExceeded, with a failed notice', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'rel-stuck';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  let stuck = false;
  const beforeInvoke = async ({ function: fn, payload }) => {
    if (fn === 'check-last-operation' && payload.pollCount === 3 && !stuck) {
      stuck = true;
      // From now on CPP answers the operation as it is now, in certification, however much time passes.
      const [latest] = (await stack.emulator.api('GET', `${offerPath(offerId)}/submissions`)).body;
      const { body } = await stack.emulator.api('GET', `${offerPath(offerId)}/operations/${latest.id}`);
      assert.equal(body.status, 'running');
      await stack.emulator.addFault({ method: 'GET', pathContains: `${offerPath(offerId)}/operations/`, times: 0, action: { status: 200, body } });
    }
  };
  let run;
  try {
    run = await pipeline.publish(manifest({ offerId, version: '1.1.0' }), { beforeInvoke });
  } finally {
    await stack.emulator.clearFaults();
  }
  assert.ok(stuck);
  assert.equal(run.status, 'FAILED', 'never a silent success');
  assert.equal(run.error, 'PollLimitExceeded');
  assert.match(run.cause, new RegExp(`CPP_MAX_POLLS = ${MAX_POLLS}`));
  assert.deepEqual(events(run), ['failed']);
  assert.equal(run.notifications[0].message.error, 'PollLimitExceeded');
  assert.equal(run.simulated.waits, MAX_POLLS + 1, 'the guard trips after CPP_MAX_POLLS checks');
});

test('a short seeded chaos run: every execution succeeds or fails by name, the documents hold what they should', async () => {
  const { stack, pipeline } = e2e;
  const seed = Number(process.env.CHAOS_SEED ?? 20261121);
  const { figures, problems } = await chaosRun({ stack, pipeline, seed, executions: 6, faultRate: 0.25, prefix: 'rel-chaos' });
  assert.deepEqual(problems, [], JSON.stringify(figures));
  assert.ok(figures.executions >= 6);
  assert.ok(Object.values(figures.faults).reduce((a, b) => a + b, 0) > 0, 'faults were injected');
  assert.ok(figures.outcomes.SUCCEEDED > 0, JSON.stringify(figures.outcomes));
});

testLogsCarryNoSecrets(e2e);
