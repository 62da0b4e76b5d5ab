// Releases end to end: a release manifest uploaded, build-finished starting the release state machine
// on the Step Functions stand-in, one child publication per offer (both APIs), one write, one publish
// and one certification per offer, the releaseSummary, and mpub taking the whole release live.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PUBLISHER, testOffer } from './lib/offers.mjs';
import { runMpub } from './lib/mpub.mjs';
import { sasUrl } from './lib/pipeline.mjs';
import { productVersions, testProduct } from './lib/products.mjs';

const e2e = useStack('release', { stepFunctions: true });
// Step Functions' limit on one execution's history.
const HISTORY_LIMIT = 25_000;

/** A release manifest: each target `[api, offerId, planId]`, its own image. */
function releaseManifest(version, targets, goLive = 'manual') {
  return {
    version,
    goLive,
    notificationEmails: 'release@contoso.com',
    targets: targets.map(([api, offerId, planId]) => ({
      api,
      offerId,
      planId,
      ...(api === 'cpp' ? { publisherId: PUBLISHER } : {}),
      osVhdUrl: sasUrl(`${offerId}-${planId}-${version}`),
    })),
  };
}

/** Uploads the manifest and delivers its storage event: build-finished's answer. */
async function deliver(m, key) {
  const { event } = await e2e.pipeline.upload(m, key);
  const delivered = await e2e.pipeline.deliver(event);
  assert.ok(delivered.ok, delivered.errorMessage);
  return delivered.payload;
}

const mpub = (...args) => runMpub(e2e.stack, args);

/** What the emulator was asked during `fn`, by kind: CPP writes and publishes, Product Ingestion configures. */
async function requestsDuring(fn) {
  const before = (await e2e.stack.emulator.requests()).length;
  const result = await fn();
  const requests = (await e2e.stack.emulator.requests()).slice(before);
  return { result, requests };
}

const cppWrites = (requests, offerId) => requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/offers/${offerId}`));
const cppPublishes = (requests, offerId) => requests.filter((r) => r.method === 'POST' && r.path.includes(`/offers/${offerId}/publish`));
/** Product Ingestion configures of one product, by kind: draft edits (with their resource count) and submissions. */
function piConfigures(requests) {
  const sent = requests.filter((r) => r.method === 'POST' && r.path === '/rp/product-ingestion/configure' && r.status === 202);
  return sent.map((r) => {
    const [resource] = r.body.resources;
    return resource.$schema.includes('/submission/') ? resource.target.targetType : `draft of ${r.body.resources.length}`;
  });
}

const summaryOf = (release) => {
  const [notice] = release.run.notifications.filter((n) => n.state === 'SendReleaseSummary');
  return typeof notice.message === 'string' ? JSON.parse(notice.message) : notice.message;
};

test('a release of two offers (one per API), two plans each: one write, publish and certification per offer; preview, then live after one go-live', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer('rel-cpp', ['1.0.0']));
  await stack.emulator.seedProduct(testProduct('rel-pi', ['1.0.0'], { plans: ['gen1', 'gen2'] }));
  const m = releaseManifest('1.1.0', [
    ['cpp', 'rel-cpp', 'gen1'],
    ['cpp', 'rel-cpp', 'gen2'],
    ['productIngestion', 'rel-pi', 'gen1'],
    ['productIngestion', 'rel-pi', 'gen2'],
  ]);
  // The dry run first: one row per target, nothing written.
  const scratch = mkdtempSync(join(tmpdir(), 'release-e2e-'));
  writeFileSync(join(scratch, 'release.json'), JSON.stringify(m));
  const planned = await mpub('--json', 'plan', join(scratch, 'release.json'));
  rmSync(scratch, { recursive: true, force: true });
  assert.equal(planned.code, 0, planned.stderr);
  assert.deepEqual(JSON.parse(planned.stdout).map((r) => [r.target, r.write, r.publish]), [
    ['contoso/rel-cpp/gen1@1.1.0', 'add', 'publish'],
    ['contoso/rel-cpp/gen2@1.1.0', 'add', 'publish'],
    ['rel-pi/gen1@1.1.0', 'add', 'publish'],
    ['rel-pi/gen2@1.1.0', 'add', 'publish'],
  ]);

  const { result: release, requests } = await requestsDuring(async () => {
    const payload = await deliver(m, 'manifests/releases/1.1.0.json');
    assert.equal(payload.started.length, 1, JSON.stringify(payload));
    assert.match(payload.started[0].executionArn, /:execution:marketplace-release:release_rel-cpp-and-more_1-1-0_/);
    return stack.sfn.settled(payload.started[0].executionArn);
  });
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);
  assert.deepEqual(cppWrites(requests, 'rel-cpp').length, 1, 'one PUT for both CPP plans');
  assert.deepEqual(cppPublishes(requests, 'rel-cpp').length, 1, 'one CPP publish');
  assert.deepEqual(piConfigures(requests), ['draft of 2', 'preview'], 'one configure with both technical configurations, one submission');

  const summary = summaryOf(release);
  assert.equal(summary.event, 'releaseSummary');
  assert.deepEqual(summary.offers.map((o) => [o.offerId, o.api, o.plans, o.outcome]), [
    ['rel-cpp', 'cpp', ['gen1', 'gen2'], 'previewReady'],
    ['rel-pi', 'productIngestion', ['gen1', 'gen2'], 'previewReady'],
  ]);
  assert.match(summary.summary, /4 targets in 2 offers/);
  assertNoSecrets(release.run.notifications, 'the summary');
  // Each offer's own notice names both plans.
  const child = stack.sfn.execution(summary.offers[0].execution);
  assert.deepEqual(child.run.notifications.map((n) => [n.message.event, n.message.planId]), [['previewReady', 'gen1, gen2']]);
  assert.deepEqual(child.output.planChanges.map((c) => [c.planId, c.added]), [['gen1', true], ['gen2', true]]);

  let offer = await stack.emulator.offer(PUBLISHER, 'rel-cpp');
  assert.deepEqual([planVersions(offer.preview, 'gen1'), planVersions(offer.preview, 'gen2')], [['0.9.0', '1.1.0'], ['1.0.0', '1.1.0']]);
  assert.ok(!planVersions(offer.production, 'gen2').includes('1.1.0'), 'not live before the go-live');

  // One go-live for the whole release: one go-live execution per offer.
  const took = await mpub('--json', 'go-live', release.executionArn, '--yes');
  assert.equal(took.code, 0, took.stderr);
  const out = JSON.parse(took.stdout);
  assert.deepEqual(out.map((o) => [o.offerId, o.planId, o.started]), [['rel-cpp', 'gen1, gen2', true], ['rel-pi', 'gen1, gen2', true]]);
  for (const { goLiveArn } of out) {
    const live = await stack.sfn.settled(goLiveArn);
    assert.equal(live.status, 'SUCCEEDED', `${live.error}: ${live.cause}`);
    assert.deepEqual(live.run.notifications.map((n) => n.message.event), ['live']);
    assert.ok(!live.run.states.includes('UpdateAndPublish'), 'the preview held every plan: no new publish');
  }
  offer = await stack.emulator.offer(PUBLISHER, 'rel-cpp');
  assert.deepEqual([planVersions(offer.production, 'gen1'), planVersions(offer.production, 'gen2')], [['0.9.0', '1.1.0'], ['1.0.0', '1.1.0']]);
  const product = await stack.emulator.product('rel-pi');
  assert.deepEqual([productVersions(product.live, 'gen1'), productVersions(product.live, 'gen2')], [['1.0.0', '1.1.0'], ['1.0.0', '1.1.0']]);

  // Asked again: every offer's go-live exists already; nothing new starts.
  const again = await mpub('--json', 'go-live', release.executionArn, '--yes');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).map((o) => o.started), [false, false]);
});

test('one offer failing certification does not stop the other, which goes live; the summary says which', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer('rel-ok', ['1.0.0']));
  await stack.emulator.seedProduct(testProduct('rel-certfail', ['1.0.0'], { plans: ['gen1', 'gen2'] }));
  await stack.emulator.failCertification('rel-certfail');
  const m = releaseManifest('1.2.0', [
    ['productIngestion', 'rel-certfail', 'gen1'],
    ['productIngestion', 'rel-certfail', 'gen2'],
    ['cpp', 'rel-ok', 'gen1'],
    ['cpp', 'rel-ok', 'gen2'],
  ], 'auto');
  const payload = await deliver(m, 'manifests/releases/1.2.0.json');
  const release = await stack.sfn.settled(payload.started[0].executionArn);
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);
  const [failed, live] = summaryOf(release).offers;
  assert.deepEqual([failed.offerId, failed.outcome, failed.error], ['rel-certfail', 'failed', 'OperationFailed']);
  assert.match(failed.cause, /Certification/, 'Microsoft says why');
  assert.deepEqual([live.offerId, live.outcome], ['rel-ok', 'live']);
  const offer = await stack.emulator.offer(PUBLISHER, 'rel-ok');
  assert.deepEqual(planVersions(offer.production, 'gen1'), ['0.9.0', '1.2.0']);
  const product = await stack.emulator.product('rel-certfail');
  assert.deepEqual(productVersions(product.preview, 'gen2'), ['1.0.0'], 'the failed offer reached no preview');
  const child = stack.sfn.execution(failed.execution);
  assert.equal(child.status, 'FAILED', 'the failed offer is a failed execution of its own');
});

test('the same release manifest delivered twice starts one release', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer('rel-twice', ['1.0.0']));
  const m = releaseManifest('1.3.0', [['cpp', 'rel-twice', 'gen1'], ['cpp', 'rel-twice', 'gen2']], 'auto');
  const first = await deliver(m, 'manifests/releases/1.3.0.json');
  // While it runs, Step Functions answers the same name and input with the same execution; once it
  // has ended, the name is taken: either way nothing starts twice.
  const during = await deliver(m, 'manifests/releases/1.3.0.json');
  assert.equal(first.started.length, 1);
  assert.deepEqual([...during.started, ...during.duplicates].map((s) => s.name), [first.started[0].name]);
  const release = await stack.sfn.settled(first.started[0].executionArn);
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);
  const after = await deliver(m, 'manifests/releases/1.3.0.json');
  assert.deepEqual([after.started.length, after.duplicates.length], [0, 1]);
  assert.equal(stack.sfn.executions().filter((e) => e.name === first.started[0].name).length, 1, 'one release');
  const children = stack.sfn.executions().filter((e) => e.name.startsWith('rel-twice_'));
  assert.equal(children.length, 1, children.map((c) => c.name).join(', '));
});

test('a 50-target release (25 offers, two plans each) ends with every offer live and every history far under the limit', async () => {
  const { stack } = e2e;
  const offers = Array.from({ length: 25 }, (_, i) => `rel-many-${String(i).padStart(2, '0')}`);
  for (const offerId of offers) await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const m = releaseManifest('1.4.0', offers.flatMap((offerId) => [['cpp', offerId, 'gen1'], ['cpp', offerId, 'gen2']]), 'auto');
  const payload = await deliver(m, 'manifests/releases/1.4.0.json');
  const release = await stack.sfn.settled(payload.started[0].executionArn);
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);
  const summary = summaryOf(release);
  assert.equal(summary.offers.length, 25);
  assert.ok(summary.offers.every((o) => o.outcome === 'live'), JSON.stringify(summary.offers.filter((o) => o.outcome !== 'live')));
  const childEvents = summary.offers.map((o) => stack.sfn.execution(o.execution).events.length);
  const largestChild = Math.max(...childEvents);
  console.log(`50-target release: ${release.events.length} events in the release's history, at most ${largestChild} in a child's (limit ${HISTORY_LIMIT} each)`);
  assert.ok(release.events.length < HISTORY_LIMIT / 10, `${release.events.length} events`);
  assert.ok(largestChild < HISTORY_LIMIT / 10, `${largestChild} events`);
});

testLogsCarryNoSecrets(e2e);
