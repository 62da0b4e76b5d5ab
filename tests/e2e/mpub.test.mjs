// mpub, the operator's command line, against the local stack: the real state machine run by the
// Step Functions stand-in, build-finished starting each run, the functions and the emulator.
// Every command, its refusals and its output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { runMpub } from './lib/mpub.mjs';
import { manifest } from './lib/pipeline.mjs';

// The publication the tests hold in certification: each of its Waits takes 15 s of real time, so it
// runs for minutes (a dozen checks) while the others end at once. It starts after the go-live, whose
// days of waiting would otherwise move its operation on (the runs share the emulator's clock).
const HELD = 'e2e-mpub-held';
// While set, the held run's checks wait for it: mpub cancel does not race the run's own look.
let checksHeld = null;
const e2e = useStack('mpub', {
  stepFunctions: {
    runOptions: ({ input }) =>
      input.offerId === HELD
        ? { waitMs: 15_000, beforeInvoke: async ({ function: fn }) => fn === 'check-last-operation' && (await checksHeld?.promise) }
        : {},
  },
});
const scratch = mkdtempSync(join(tmpdir(), 'mpub-e2e-'));

const mpub = (...args) => runMpub(e2e.stack, args);

const json = (out) => {
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
};

/** Uploads a manifest and delivers its storage event; returns the execution build-finished started. */
async function publish(m) {
  await e2e.stack.emulator.seedOffer(testOffer(m.offerId, ['1.0.0']));
  const { event } = await e2e.pipeline.upload(m);
  const delivered = await e2e.pipeline.deliver(event);
  assert.ok(delivered.ok, delivered.errorMessage);
  return delivered.payload.started[0];
}

function manifestFile(name, content) {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

// Filled as the tests go: one publication at preview, one failed, one held in certification.
const runs = {};

test('status: each publication with its stage, the error of a failed one; a table, JSON, one offer', async () => {
  const { stack } = e2e;
  runs.preview = await publish(manifest({ offerId: 'e2e-mpub-preview', version: '1.1.0' }));
  runs.failed = await publish(manifest({ offerId: 'e2e-mpub-failed', version: '0.5.0' }));
  await stack.sfn.settled(runs.preview.executionArn);
  await stack.sfn.settled(runs.failed.executionArn);

  const byOffer = Object.fromEntries(json(await mpub('--state-machine', stack.stateMachineArn, 'status', '--json')).map((l) => [l.offerId, l]));
  assert.deepEqual(Object.keys(byOffer).sort(), ['e2e-mpub-failed', 'e2e-mpub-preview']);
  const preview = byOffer['e2e-mpub-preview'];
  assert.equal(preview.stage, 'atPreview');
  assert.equal(preview.executionStatus, 'SUCCEEDED');
  assert.equal(preview.planId, PLAN);
  assert.equal(preview.version, '1.1.0');
  assert.equal(preview.nextCheckAt, null);
  const failed = byOffer['e2e-mpub-failed'];
  assert.equal(failed.stage, 'failed');
  assert.match(failed.detail, /^VersionNotHigher: .*0\.5\.0 is not above 1\.0\.0/);

  const table = await mpub('--state-machine', stack.stateMachineArn, 'status');
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^OFFER +PLAN +VERSION +ACTION +STAGE +DETAIL +STARTED +NEXT CHECK +EXPECTED END +EXECUTION$/);
  assert.equal(lines.length, 3, table.stdout);
  assert.ok(lines.some((l) => l.startsWith('e2e-mpub-preview ') && l.includes('preview, waiting for go-live')), table.stdout);
  assert.ok(lines.some((l) => l.startsWith('e2e-mpub-failed ') && l.includes('VersionNotHigher')), table.stdout);

  const one = json(await mpub('--state-machine', stack.stateMachineArn, 'status', 'e2e-mpub-failed', '--json'));
  assert.deepEqual(one.map((l) => l.offerId), ['e2e-mpub-failed']);
  assertNoSecrets(table.stdout + JSON.stringify(byOffer), 'mpub status');
});

test('go-live: refuses what did not stop at preview, asks unless --yes, starts once, by execution or by version', async () => {
  const { stack } = e2e;
  const count = async () => (await stack.sfn.executions()).length;
  const before = await count();
  const failed = await mpub('go-live', runs.failed.executionArn, '--yes');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ended FAILED \(VersionNotHigher\)/);
  const unknown = await mpub('--state-machine', stack.stateMachineArn, 'go-live', 'e2e-mpub-preview', PLAN, '9.9.9', '--yes');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no publication of e2e-mpub-preview plan gen2 version 9\.9\.9/);
  // No terminal to confirm on, no --yes: it says what it would do and does nothing.
  const unconfirmed = await mpub('go-live', runs.preview.executionArn);
  assert.equal(unconfirmed.code, 1);
  assert.match(unconfirmed.stderr, /Take e2e-mpub-preview plan gen2 version 1\.1\.0 live \(cpp API\)\?/);
  assert.match(unconfirmed.stderr, /pass --yes/);
  assert.equal(await count(), before, 'nothing was started');

  const started = json(await mpub('--state-machine', stack.stateMachineArn, 'go-live', 'e2e-mpub-preview', PLAN, '1.1.0', '--yes', '--json'));
  assert.equal(started.started, true);
  assert.equal(started.publicationArn, runs.preview.executionArn);
  assert.ok(started.goLiveArn.endsWith(`:golive_${runs.preview.name}`), started.goLiveArn);
  await stack.sfn.settled(started.goLiveArn);
  assert.equal((await stack.sfn.execution(started.goLiveArn)).status, 'SUCCEEDED');
  const offer = await stack.emulator.offer(PUBLISHER, 'e2e-mpub-preview');
  assert.ok(planVersions(offer.production, PLAN).includes('1.1.0'), 'live holds the version');

  const again = json(await mpub('go-live', runs.preview.executionArn, '--yes', '--json'));
  assert.equal(again.started, false);
  assert.equal(again.goLiveStatus, 'SUCCEEDED');
  assert.equal(again.goLiveArn, started.goLiveArn);
  const ofAGoLive = await mpub('go-live', started.goLiveArn, '--yes');
  assert.equal(ofAGoLive.code, 1);
  assert.match(ofAGoLive.stderr, /is a go-live; name the publication/);
  const lines = json(await mpub('--state-machine', stack.stateMachineArn, 'status', 'e2e-mpub-preview', '--json'));
  // The publication is shown by what its go-live did.
  assert.deepEqual(lines.map((l) => [l.action, l.stage]), [['goLive', 'live'], ['publish', 'live']]);
  assert.equal(lines[1].detail, `by golive_${runs.preview.name}`);

  runs.held = await publish(manifest({ offerId: HELD, version: '1.1.0' }));
  const running = await mpub('go-live', runs.held.executionArn, '--yes');
  assert.equal(running.code, 1);
  assert.match(running.stderr, /still running \((updating offer|publishing)\)/);
});

test('plan: what a manifest would do, without writing anything; a manifest the run would refuse is named', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer('e2e-mpub-plan', ['1.0.0', '1.0.1']));
  await stack.emulator.clearRequests();
  const fresh = json(await mpub('plan', manifestFile('fresh.json', manifest({ offerId: 'e2e-mpub-plan', version: '1.1.0' })), '--json'));
  assert.deepEqual(fresh.map((r) => [r.target, r.write, r.draftVersions, r.busyWith, r.publish]), [
    ['contoso/e2e-mpub-plan/gen2@1.1.0', 'add', ['1.0.0', '1.0.1'], null, 'publish'],
  ]);
  const writes = (await stack.emulator.requests()).filter((r) => r.method !== 'GET' && !r.path.includes('oauth2'));
  assert.deepEqual(writes, [], 'a dry run writes nothing');

  const table = await mpub('plan', manifestFile('fresh.json', manifest({ offerId: 'e2e-mpub-plan', version: '1.1.0' })));
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^TARGET +API +VERSION +WRITE +RETIRES +OFFER +THEN\n/);
  assert.match(table.stdout, /adds the version +free +publish/);
  assert.match(table.stdout, /dry run: nothing was written and nothing was started/);

  const busy = json(await mpub('plan', manifestFile('busy.json', manifest({ offerId: HELD, version: '1.2.0' })), '--json'));
  assert.match(busy[0].busyWith, /^a publish .* running$/);
  assert.match(busy[0].publish, /^wait for the offer/);
  const present = json(await mpub('plan', manifestFile('present.json', manifest({ offerId: 'e2e-mpub-preview', version: '1.1.0' })), '--json'));
  assert.equal(present[0].write, 'alreadyPresent');

  const older = await mpub('plan', manifestFile('older.json', manifest({ offerId: 'e2e-mpub-plan', version: '0.9.0' })));
  assert.equal(older.code, 1);
  assert.match(older.stderr, /the run would fail: VersionNotHigher: .*0\.9\.0 is not above 1\.0\.1/);
  const invalid = await mpub('plan', manifestFile('invalid.json', { offerId: 'e2e-mpub-plan', planId: PLAN }));
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /invalid\.json: InvalidInput: .*version/);
  assertNoSecrets(table.stdout + table.stderr + JSON.stringify(fresh), 'mpub plan');
});

test('cancel: status shows a checked run\'s step, next check and expected end; cancel stops its operation, then the run', async () => {
  const { stack } = e2e;
  const ended = await mpub('cancel', runs.failed.executionArn, '--yes');
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /has ended \(FAILED\); there is nothing to cancel/);
  // Once checked, the held run shows Microsoft's step, the next check and the expected end.
  let checked;
  for (let i = 0; i < 40 && !checked?.detail; i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    [checked] = json(await mpub('--state-machine', stack.stateMachineArn, 'status', HELD, '--json'));
  }
  assert.equal(checked.stage, 'publishing');
  assert.ok(checked.detail, 'the step Microsoft is at');
  assert.ok(Date.parse(checked.nextCheckAt) > Date.parse(checked.startedAt), `${checked.startedAt} -> ${checked.nextCheckAt}`);
  // The functions compute the expected end on their own clock, the real one here (the stand-in dates
  // events on the emulator's, days ahead): in AWS the two are one clock.
  assert.ok(Date.parse(checked.expectedEndAt) > Date.now(), `ends ${checked.expectedEndAt}`);
  checksHeld = Promise.withResolvers();
  const unconfirmed = await mpub('cancel', runs.held.executionArn);
  assert.equal(unconfirmed.code, 1);
  assert.match(unconfirmed.stderr, /Cancel Microsoft's operation .* on contoso\/e2e-mpub-held/);

  // CPP reports a cancel minutes later: the emulator's clock is moved on while mpub waits.
  const cancelling = mpub('cancel', runs.held.executionArn, '--yes', '--json', '--poll-seconds', '1', '--wait-seconds', '60');
  await new Promise((r) => setTimeout(r, 2_000));
  await stack.emulator.advanceClock(30 * 60);
  const cancelled = json(await cancelling);
  checksHeld.resolve();
  assert.equal(cancelled.operationStatus, 'canceled');
  assert.equal(cancelled.executionStopped, true);
  const execution = await stack.sfn.execution(runs.held.executionArn);
  assert.equal(execution.status, 'ABORTED');
  const offer = await stack.emulator.offer(PUBLISHER, HELD);
  assert.ok(!planVersions(offer.preview, PLAN).includes('1.1.0'), 'nothing reached preview');
  const lines = json(await mpub('--state-machine', stack.stateMachineArn, 'status', HELD, '--json'));
  assert.equal(lines[0].stage, 'stopped');
  rmSync(scratch, { recursive: true, force: true });
});

testLogsCarryNoSecrets(e2e);
