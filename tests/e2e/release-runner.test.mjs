// The release state machine (infra/statemachine/release.asl.json) on the Step Functions stand-in: one
// child execution of the publish machine per offer (startExecution.sync:2), each an ordinary
// publication, then one releaseSummary notice. Proves the harness with today's single-plan inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { planVersions } from './lib/emulator.mjs';
import { assertNoSecrets, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { stepFunctionsCall } from './lib/moto.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';
import { runExecution } from './lib/runner.mjs';

const DAY = 86_400;
// The child the stop test stops: it sits in its first Wait (for certification) on the real clock too.
const STOP_OFFER = 'e2e-release-stop';
const e2e = useStack('release-runner', {
  stepFunctions: { runOptions: ({ input }) => (input.offerId === STOP_OFFER ? { waitMs: 60_000 } : {}) },
});
const sfn = (action, request) => stepFunctionsCall(e2e.stack.sfn.url, action, request);
const rejection = (name) => (e) => e.name === name && e.status === 400;

/**
 * A child's state: the input build-finished writes for a single-plan manifest (see lib/pipeline.mjs
 * publish), its plan listed in `plans` as a release's child carries it (the functions take `planId` or
 * `plans`, not both; the release machine reads `plans`).
 */
function childState({ planId, ...m }) {
  return { api: 'cpp', ...m, plans: [{ planId }], planIds: planId, action: 'publish', pollCount: 0 };
}

/** A release's input as build-finished will write it: one child per offer, named `<release>_<offer>`. */
function releaseInput(release, version, offerIds) {
  const offers = offerIds.map((offerId) => ({ name: `${release}_${offerId}`, state: childState(manifest({ offerId, version, goLive: 'auto' })) }));
  return { action: 'publish', release: { name: release, version, targets: offers.length }, offers };
}

async function startRelease(name, input) {
  const { stack } = e2e;
  const started = await sfn('StartExecution', { stateMachineArn: stack.releaseStateMachineArn, name, input: JSON.stringify(input) });
  return stack.sfn.settled(started.executionArn);
}

async function history(executionArn) {
  const events = [];
  let nextToken;
  do {
    const page = await sfn('GetExecutionHistory', { executionArn, maxResults: 50, nextToken });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The Map's events as AWS records them with its children run one at a time: each iteration ends before the next starts, and all before the Map. */
function assertIterationsInOrder(types) {
  const map = types.filter((t) => t.startsWith('MapIteration') || t.startsWith('MapState'));
  const iterations = (map.length - 4) / 2;
  assert.deepEqual(map, ['MapStateEntered', 'MapStateStarted', ...Array.from({ length: iterations }, () => ['MapIterationStarted', 'MapIterationSucceeded']).flat(), 'MapStateSucceeded', 'MapStateExited']);
}

/** The release's one notice, its message parsed (SNS carries it as JSON text in AWS). */
function summaryNotice(release) {
  const summaries = release.run.notifications.filter((n) => n.state === 'SendReleaseSummary');
  assert.equal(summaries.length, 1, JSON.stringify(release.run.notifications));
  const { message } = summaries[0];
  return typeof message === 'string' ? JSON.parse(message) : message;
}

// The first release; the last test starts its children's names again.
let first;

test('a release of two offers: a child execution of the publish machine each, both live, one summary', async () => {
  const { stack } = e2e;
  const offerIds = ['e2e-release-a', 'e2e-release-b'];
  for (const offerId of offerIds) await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const input = releaseInput('e2e-release-1', '1.3.0', offerIds);
  const release = await startRelease('e2e-release-1', input);
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);
  assert.match(release.executionArn, /:execution:marketplace-release:e2e-release-1$/);

  // Both children ran as executions of the publish machine, under the names given, with the states given.
  const children = input.offers.map((o) => `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${o.name}`);
  const listed = await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn });
  assert.deepEqual(listed.executions.map((e) => e.name).sort(), input.offers.map((o) => o.name).sort());
  for (const [i, executionArn] of children.entries()) {
    const child = await sfn('DescribeExecution', { executionArn });
    assert.deepEqual([child.stateMachineArn, child.status], [stack.stateMachineArn, 'SUCCEEDED'], `${child.error}: ${child.cause}`);
    assert.deepEqual(JSON.parse(child.input), input.offers[i].state);
    assert.equal(JSON.parse(child.output).notice.event, 'live');
    const offer = await stack.emulator.offer(PUBLISHER, offerIds[i]);
    assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.3.0']);
  }
  const releases = await sfn('ListExecutions', { stateMachineArn: stack.releaseStateMachineArn });
  assert.deepEqual(releases.executions.map((e) => e.name), ['e2e-release-1']);

  assert.deepEqual(
    release.output.offers,
    offerIds.map((offerId, i) => ({ offerId, api: 'cpp', plans: [PLAN], version: '1.3.0', outcome: 'live', execution: children[i] })),
  );
  const notice = summaryNotice(release);
  assert.equal(notice.event, 'releaseSummary');
  assert.deepEqual(notice.offers, release.output.offers);
  assert.match(notice.summary, /2 targets in 2 offers/);
  // Each child's own notices are in its own run, not the release's.
  assert.deepEqual(stack.sfn.execution(children[0]).run.notifications.map((n) => n.message.event), ['previewReady', 'live']);

  // Per child, its own simulated days; in AWS they run at once, so the release takes the longest.
  const seconds = release.run.children.map((c) => c.simulatedSeconds);
  assert.deepEqual(release.run.children.map((c) => [c.name, c.status]), input.offers.map((o) => [o.name, 'SUCCEEDED']));
  assert.ok(seconds.every((s) => s > 3 * DAY), `${seconds} s`);
  const longest = Math.max(...seconds);
  // Here they ran one after the other on the one clock: the release's own dates span them all.
  assert.ok(release.stopDate - release.startDate >= (seconds[0] + seconds[1]) * 1000, `${release.stopDate - release.startDate} ms`);
  assert.ok(longest < seconds[0] + seconds[1]);

  const events = await history(release.executionArn);
  assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
  const types = events.map((e) => e.type);
  const at = (type, from = 0) => types.indexOf(type, from);
  assert.deepEqual(types.slice(0, 4), ['ExecutionStarted', 'MapStateEntered', 'MapStateStarted', 'MapIterationStarted']);
  assert.equal(events[2].mapStateStartedEventDetails.length, 2);
  assert.deepEqual(events.filter((e) => e.type === 'MapIterationSucceeded').map((e) => e.mapIterationSucceededEventDetails), [
    { name: 'PublishEachOffer', index: 0 },
    { name: 'PublishEachOffer', index: 1 },
  ]);
  assertIterationsInOrder(types);
  assert.ok(at('MapStateExited') < at('TaskStateEntered', at('MapStateExited')), 'the summary after the Map');
  // The child tasks as AWS records a .sync task: scheduled, started, submitted, succeeded.
  const taskEvents = types.filter((t) => /^Task(Scheduled|Started|Submitted|Succeeded|Failed)$/.test(t));
  assert.deepEqual(taskEvents, [0, 1].flatMap(() => ['TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded']));
  const succeeded = events.filter((e) => e.type === 'TaskSucceeded').map((e) => JSON.parse(e.taskSucceededEventDetails.output));
  assert.deepEqual(succeeded.map((o) => [o.ExecutionArn, o.Status, o.Output.notice.event]), children.map((arn) => [arn, 'SUCCEEDED', 'live']));
  assert.deepEqual(types.slice(-1), ['ExecutionSucceeded']);
  // Each child has its own history.
  assert.equal((await history(children[0])).at(-1).type, 'ExecutionSucceeded');

  const described = await sfn('DescribeStateMachine', { stateMachineArn: stack.releaseStateMachineArn });
  assert.equal(JSON.parse(described.definition).StartAt, 'PublishEachOffer');
  assert.match(described.definition, new RegExp(stack.stateMachineArn));
  first = { input };
});

test("a child that fails: its offer failed with the child's own error, the other live", async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer('e2e-release-c', ['1.0.0']));
  // e2e-release-missing is not in the emulator: its child fails.
  const input = releaseInput('e2e-release-2', '1.4.0', ['e2e-release-c', 'e2e-release-missing']);
  const release = await startRelease('e2e-release-2', input);
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);

  const [live, failed] = release.output.offers;
  assert.deepEqual([live.offerId, live.outcome], ['e2e-release-c', 'live']);
  const childArn = `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.offers[1].name}`;
  const child = await sfn('DescribeExecution', { executionArn: childArn });
  assert.equal(child.status, 'FAILED');
  assert.notEqual(child.error, 'States.TaskFailed');
  assert.deepEqual(failed, {
    offerId: 'e2e-release-missing',
    api: 'cpp',
    plans: [PLAN],
    version: '1.4.0',
    outcome: 'failed',
    error: child.error,
    cause: child.cause,
    execution: childArn,
  });
  assert.deepEqual(summaryNotice(release).offers, release.output.offers);
  assertNoSecrets(release.run.notifications, 'the summary');
  assert.deepEqual(release.run.children.map((c) => [c.status, c.error]), [['SUCCEEDED', undefined], ['FAILED', child.error]]);

  // The task failed as a .sync task fails: States.TaskFailed, the child's description as the Cause.
  const events = await history(release.executionArn);
  const taskFailed = events.find((e) => e.type === 'TaskFailed').taskFailedEventDetails;
  assert.equal(taskFailed.error, 'States.TaskFailed');
  const cause = JSON.parse(taskFailed.cause);
  assert.deepEqual(
    [cause.ExecutionArn, cause.Name, cause.StateMachineArn, cause.Status, cause.Error, cause.Cause],
    [childArn, input.offers[1].name, stack.stateMachineArn, 'FAILED', child.error, child.cause],
  );
  assert.deepEqual([cause.StartDate, cause.StopDate], [child.startDate * 1000, child.stopDate * 1000]);
  assertIterationsInOrder(events.map((e) => e.type)); // the failure was caught: its iteration succeeded
});

test('a closed name: the release is not started twice, and a closed child name fails that offer only', async () => {
  const { stack } = e2e;
  assert.ok(first, 'the first release ran');
  await assert.rejects(
    sfn('StartExecution', { stateMachineArn: stack.releaseStateMachineArn, name: 'e2e-release-1', input: JSON.stringify(first.input) }),
    rejection('ExecutionAlreadyExists'),
  );
  const before = (await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn })).executions.length;
  const release = await startRelease('e2e-release-1-again', { ...first.input, offers: first.input.offers.slice(0, 1) });
  assert.equal(release.status, 'SUCCEEDED', `${release.error}: ${release.cause}`);
  const [offer] = release.output.offers;
  assert.deepEqual([offer.outcome, offer.error, offer.execution], ['failed', 'StepFunctions.ExecutionAlreadyExistsException', first.input.offers[0].name]);
  assert.match(offer.cause, /^Execution Already Exists: /);
  assert.equal((await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn })).executions.length, before, 'nothing started');
  const types = (await history(release.executionArn)).map((e) => e.type);
  assert.ok(!types.includes('TaskSubmitted'), 'the start was refused');
});

test('StopExecution of a release stops its running child: both ABORTED', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer(STOP_OFFER, ['1.0.0']));
  const input = releaseInput('e2e-release-stop', '1.6.0', [STOP_OFFER]);
  const { executionArn } = await sfn('StartExecution', { stateMachineArn: stack.releaseStateMachineArn, name: 'e2e-release-stop', input: JSON.stringify(input) });
  const childArn = `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.offers[0].name}`;
  const waiting = async () => (await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn })).executions.some((e) => e.executionArn === childArn) && (await history(childArn)).some((e) => e.type === 'WaitStateEntered');
  for (let tries = 0; !(await waiting()); tries++) {
    assert.ok(tries < 100, 'the child reached its first Wait');
    await sleep(100);
  }
  await sfn('StopExecution', { executionArn, error: 'Operator.Stopped', cause: 'stopped by the test' });
  const release = await stack.sfn.settled(executionArn);
  const child = await stack.sfn.settled(childArn);
  assert.deepEqual([release.status, release.run.status, child.status, child.run.status], ['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']);
  assert.deepEqual(release.run.notifications, [], 'no summary');
  const events = await history(executionArn);
  assert.deepEqual(events.slice(-4).map((e) => e.type), ['TaskStateAborted', 'MapIterationAborted', 'MapStateAborted', 'ExecutionAborted']);
  assert.deepEqual(events.at(-3).mapIterationAbortedEventDetails, { name: 'PublishEachOffer', index: 0 });
  assert.equal((await history(childArn)).at(-1).type, 'ExecutionAborted');
});

test('without the stand-in: runExecution runs a release and its children in-process', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer('e2e-release-local', ['1.0.0']));
  const input = releaseInput('e2e-release-local', '1.5.0', ['e2e-release-local']);
  input.offers[0].state.goLive = 'manual';
  const childEvents = [];
  const run = await runExecution({
    stack,
    input,
    definition: 'release',
    executionArn: `${stack.releaseStateMachineArn.replace(':stateMachine:', ':execution:')}:e2e-release-local`,
    executionName: 'e2e-release-local',
    onEvent: (event) => event.child && childEvents.push(event),
  });
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(run.output.offers.map((o) => o.outcome), ['previewReady']);
  assert.deepEqual(run.notifications.map((n) => n.message.event), ['releaseSummary']);
  const [child] = run.children;
  assert.equal(child.name, input.offers[0].name);
  assert.deepEqual(child.run.notifications.map((n) => n.message.event), ['previewReady']);
  assert.ok(child.simulatedSeconds > 3 * DAY, `${child.simulatedSeconds} s`);
  assert.ok(childEvents.some((e) => e.type === 'ClockAdvanced' && e.child.name === child.name), "the child's events, tagged");
  assert.deepEqual(stack.sfn.executions().filter((e) => e.name === child.name), [], 'the stand-in was not asked');
});

testLogsCarryNoSecrets(e2e);
