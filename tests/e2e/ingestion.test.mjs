// The same state machine and functions on a Partner Center offer (the Product Ingestion API),
// seeded with version 1.0.0 already live:
// preview and live, a certification failure, an unsteady API, a duplicate event, and Lambda's
// own failures. Each run writes the draft once and submits each target once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertNoSecrets, events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PI_PLAN, productVersions, testProduct } from './lib/products.mjs';
import { manifest } from './lib/pipeline.mjs';

const DAY = 86_400;
const e2e = useStack('ingestion');

/** A manifest for the Product Ingestion offer `offerId`: no publisher, `api` names the backend. */
function piManifest(offerId, version, overrides = {}) {
  const { publisherId: _, ...rest } = manifest({ offerId, planId: PI_PLAN, version, api: 'productIngestion', ...overrides });
  return rest;
}

/** Configure requests the emulator accepted, by what they sent: draft edits and submissions per target. */
function configures(run) {
  const sent = run.requests.filter((r) => r.method === 'POST' && r.path === '/rp/product-ingestion/configure' && r.status === 202);
  const kinds = sent.map((r) => {
    const [resource] = r.body.resources;
    return resource.$schema.includes('/submission/') ? resource.target.targetType : 'draft';
  });
  return kinds.reduce((counts, k) => ({ ...counts, [k]: (counts[k] ?? 0) + 1 }), {});
}

function techConfig(tree) {
  const plan = tree.resources.find((r) => r.id.startsWith('plan/') && r.identity?.externalId === PI_PLAN);
  return tree.resources.find((r) => r.plan === plan.id && Array.isArray(r.vmImageVersions));
}

test('upload -> preview ready; a manual go-live -> live; the technical configuration keeps everything', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'pi-manual';
  await stack.emulator.seedProduct(testProduct(offerId, ['1.0.0']));
  const before = techConfig((await stack.emulator.product(offerId)).draft);

  const preview = await pipeline.publish(piManifest(offerId, '1.1.0'));
  assert.equal(preview.status, 'SUCCEEDED', `${preview.error}: ${preview.cause}`);
  assert.equal(preview.execution.input.api, 'productIngestion');
  assert.deepEqual(events(preview), ['previewReady']);
  assert.equal(preview.notifications[0].message.version, '1.1.0');
  assertNoSecrets(preview.notifications, 'the notification');
  assert.ok(preview.states.includes('StoppedAtPreview'), preview.states.join(' > '));
  assert.deepEqual(configures(preview), { draft: 1, preview: 1 });
  assert.ok(preview.simulated.waitSeconds >= 3 * DAY, `waited ${preview.simulated.waitSeconds} s`);
  assert.ok(preview.simulated.waits < 30, `${preview.simulated.waits} checks`);

  let product = await stack.emulator.product(offerId);
  assert.deepEqual(productVersions(product.preview), ['1.0.0', '1.1.0']);
  assert.deepEqual(productVersions(product.live), ['1.0.0'], 'not live before the go-live');
  // Nothing lost: the draft is what it was, plus the new version (schema host rewritten).
  const after = techConfig(product.draft);
  const { vmImageVersions: newList, ...afterRest } = after;
  const { vmImageVersions: oldList, ...beforeRest } = before;
  assert.deepEqual(afterRest, beforeRest);
  assert.deepEqual(newList.slice(0, -1), oldList);

  const live = await pipeline.goLive(preview.execution);
  assert.equal(live.status, 'SUCCEEDED', `${live.error}: ${live.cause}`);
  assert.deepEqual(events(live), ['live']);
  assert.ok(!live.states.includes('UpdateAndPublish'), 'the preview held the version: no new publish');
  assert.deepEqual(configures(live), { live: 1 });
  product = await stack.emulator.product(offerId);
  assert.deepEqual(productVersions(product.live), ['1.0.0', '1.1.0']);
});

test('goLive auto: upload -> preview -> live in one execution', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'pi-auto';
  await stack.emulator.seedProduct(testProduct(offerId, ['1.0.0']));
  const run = await pipeline.publish(piManifest(offerId, '1.2.0', { goLive: 'auto' }));
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(events(run), ['previewReady', 'live']);
  assert.deepEqual(configures(run), { draft: 1, preview: 1, live: 1 });
  assert.deepEqual(productVersions((await stack.emulator.product(offerId)).live), ['1.0.0', '1.2.0']);
});

test('a certification failure ends the run failed with Microsoft words; nothing reaches preview', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'pi-certfail';
  await stack.emulator.seedProduct(testProduct(offerId, ['1.0.0']));
  await stack.emulator.failCertification(offerId);
  const run = await pipeline.publish(piManifest(offerId, '1.1.0'));
  assert.equal(run.status, 'FAILED');
  assert.equal(run.error, 'OperationFailed');
  assert.match(run.cause, /Certification/);
  assert.deepEqual(events(run), ['failed']);
  assert.ok(run.notifications[0].message.messages.some((m) => /Certification/.test(m)), JSON.stringify(run.notifications[0].message));
  assert.deepEqual(productVersions((await stack.emulator.product(offerId)).preview), ['1.0.0'], 'the preview is as it was');
});

test('status reads answering 503 and 429 mid-certification are waited out, never read as failure', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'pi-unsteady';
  await stack.emulator.seedProduct(testProduct(offerId, ['1.0.0']));
  let injected = false;
  const beforeInvoke = async ({ function: fn, payload }) => {
    if (fn === 'check-last-operation' && payload.pollCount === 2 && !injected) {
      injected = true;
      await stack.emulator.addFault({ method: 'GET', pathContains: '/status', times: 12, action: { status: 503 } });
      await stack.emulator.addFault({ method: 'GET', pathContains: '/status', times: 2, action: { status: 429, retryAfter: '1' } });
    }
  };
  const run = await pipeline.publish(piManifest(offerId, '1.1.0'), { beforeInvoke });
  assert.ok(injected, 'the faults were injected');
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(events(run), ['previewReady']);
  assert.ok(run.requests.some((r) => r.fault === 'status 503'), 'a 503 was answered');
  assert.deepEqual(configures(run), { draft: 1, preview: 1 });
});

test('the same manifest delivered twice starts one publication', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'pi-twice';
  await stack.emulator.seedProduct(testProduct(offerId, ['1.0.0']));
  const content = piManifest(offerId, '1.1.0');
  const first = await pipeline.publish(content);
  assert.equal(first.status, 'SUCCEEDED', `${first.error}: ${first.cause}`);
  const { event } = await pipeline.upload(content);
  const again = await pipeline.deliver(event);
  assert.ok(again.ok, JSON.stringify(again));
  assert.deepEqual(again.payload.started, [], JSON.stringify(again.payload));
});

test('functions that crash after writing, or time out after submitting, are resumed: one write, one submission per target', async () => {
  const { stack, pipeline } = e2e;
  const offerId = 'pi-lambda';
  await stack.emulator.seedProduct(testProduct(offerId, ['1.0.0']));
  const left = { 'update-and-publish': ['timeout', 'crash'], 'validate-and-go-live': ['timeout'] };
  const beforeInvoke = async ({ function: fn }) => {
    const lambda = left[fn]?.shift();
    return lambda ? { lambda } : undefined;
  };
  const run = await pipeline.publish(piManifest(offerId, '1.1.0', { goLive: 'auto' }), { beforeInvoke });
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  const failed = run.invocations.filter((i) => !i.ok).map((i) => `${i.function} ${i.errorType}`);
  assert.deepEqual(failed, ['update-and-publish Sandbox.Timedout', 'update-and-publish Runtime.ExitError', 'validate-and-go-live Sandbox.Timedout']);
  assert.deepEqual(configures(run), { draft: 1, preview: 1, live: 1 });
  assert.deepEqual(productVersions((await stack.emulator.product(offerId)).live), ['1.0.0', '1.1.0']);
});

testLogsCarryNoSecrets(e2e);
