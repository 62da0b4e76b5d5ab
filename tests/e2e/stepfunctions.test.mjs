// The Step Functions stand-in (lib/stepfunctions.mjs) driven over plain HTTP, as an operator CLI drives
// Step Functions: build-finished starts a real run on it, and Describe, List, History and Stop answer
// with what the run did, dated on the simulated clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { planVersions } from './lib/emulator.mjs';
import { testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { stepFunctionsCall } from './lib/moto.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';

const DAY = 86_400;
// The run the test stops: it sits in its first Wait (for certification) on the real clock too.
const STOP_OFFER = 'e2e-sfn-stop';
const e2e = useStack('stepfunctions', {
  stepFunctions: { runOptions: ({ input }) => (input.offerId === STOP_OFFER ? { waitMs: 60_000 } : {}) },
});
const sfn = (action, request) => stepFunctionsCall(e2e.stack.sfn.url, action, request);
// What the first test published; the go-live test takes it live.
let published;

/** Uploads a manifest and delivers its storage event to build-finished; returns the execution it started. */
async function startThroughBuildFinished(m) {
  const { event } = await e2e.pipeline.upload(m);
  const delivered = await e2e.pipeline.deliver(event);
  assert.ok(delivered.ok, delivered.errorMessage);
  assert.equal(delivered.payload.started.length, 1, JSON.stringify(delivered.payload));
  return { ...delivered.payload.started[0], event };
}

/** Every event of an execution's history, read in pages of `maxResults`. */
async function history(executionArn, options = {}) {
  const events = [];
  let nextToken;
  do {
    const page = await sfn('GetExecutionHistory', { executionArn, maxResults: 40, nextToken, ...options });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

const stateName = (event) => (event.stateEnteredEventDetails ?? event.stateExitedEventDetails)?.name;
const lastExited = (events) => events.findLast((e) => e.type.endsWith('StateExited'));
const rejection = (name) => (e) => e.name === name && e.status === 400;

test('build-finished starts the run on the stand-in; it ends at preview, and Describe, List and History tell it as AWS does', async () => {
  const { stack } = e2e;
  const offerId = 'e2e-sfn-manual';
  await stack.emulator.seedOffer(testOffer(offerId, ['1.0.0']));
  const started = await startThroughBuildFinished(manifest({ offerId, version: '1.1.0', goLive: 'manual' }));
  assert.deepEqual(await e2e.pipeline.executions(), [], 'moto was not asked to start anything');

  await stack.sfn.settled(started.executionArn);
  const described = await sfn('DescribeExecution', { executionArn: started.executionArn });
  assert.equal(described.status, 'SUCCEEDED', `${described.error}: ${described.cause}`);
  assert.equal(described.name, started.name);
  assert.equal(described.stateMachineArn, stack.stateMachineArn);
  const input = JSON.parse(described.input);
  assert.equal(input.action, 'publish');
  assert.equal(input.offerId, offerId);
  // Dates are epoch seconds of the simulated clock: certification took days.
  assert.equal(typeof described.startDate, 'number');
  assert.ok(described.stopDate - described.startDate > 4 * DAY, `${described.stopDate - described.startDate} s`);
  const workflow = JSON.parse(described.output);
  assert.equal(workflow.notice.event, 'previewReady');

  const listed = await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn });
  assert.deepEqual(listed.executions, [
    { executionArn: started.executionArn, stateMachineArn: stack.stateMachineArn, name: started.name, status: 'SUCCEEDED', startDate: described.startDate, stopDate: described.stopDate },
  ]);
  assert.deepEqual((await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn, statusFilter: 'RUNNING' })).executions, []);

  const events = await history(started.executionArn);
  assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
  assert.ok(events.every((e) => e.previousEventId === e.id - 1));
  assert.ok(events.every((e, i) => i === 0 || e.timestamp >= events[i - 1].timestamp), 'timestamps never go back');
  assert.equal(events[0].type, 'ExecutionStarted');
  assert.equal(events[0].executionStartedEventDetails.input, described.input);
  assert.equal(events[0].timestamp, described.startDate);
  assert.equal(events.at(-1).type, 'ExecutionSucceeded');
  assert.equal(events.at(-1).timestamp, described.stopDate);
  const types = new Set(events.map((e) => e.type));
  for (const kind of ['Task', 'Choice', 'Pass', 'Wait', 'Parallel', 'Succeed']) {
    assert.ok(types.has(`${kind}StateEntered`) && types.has(`${kind}StateExited`), `${kind} states entered and exited`);
  }
  assert.ok(types.has('ParallelStateStarted') && types.has('ParallelStateSucceeded'));
  assert.ok(!types.has('FailStateEntered') && !types.has('ExecutionFailed'));
  // The last state is StoppedAtPreview, and its output is the workflow state the execution returned.
  const last = lastExited(events);
  assert.equal(stateName(last), 'StoppedAtPreview');
  assert.equal(events.findLast((e) => e.type === 'SucceedStateEntered').stateEnteredEventDetails.name, 'StoppedAtPreview');
  assert.deepEqual(JSON.parse(last.stateExitedEventDetails.output), workflow);
  assert.equal(events.at(-1).executionSucceededEventDetails.output, described.output);
  // A CLI's "next check": a check's output nextCheckSeconds after its event, the next Wait ends.
  const checks = events.filter((e) => e.type === 'TaskStateExited' && stateName(e) === 'CheckLastOperation');
  assert.ok(checks.length > 3, `${checks.length} checks`);
  for (const check of checks.slice(0, -1)) {
    const { nextCheckSeconds } = JSON.parse(check.stateExitedEventDetails.output);
    const waitEnd = events.find((e) => e.id > check.id && e.type === 'WaitStateExited');
    assert.ok(Math.abs(waitEnd.timestamp - (check.timestamp + nextCheckSeconds)) < 0.001, `event ${waitEnd.id}`);
  }

  // Newest first, and without execution data when asked.
  const [newest] = (await sfn('GetExecutionHistory', { executionArn: started.executionArn, reverseOrder: true, maxResults: 1 })).events;
  assert.equal(newest.type, 'ExecutionSucceeded');
  assert.deepEqual(await history(started.executionArn, { reverseOrder: true }), [...events].reverse());
  const bare = await history(started.executionArn, { includeExecutionData: false });
  assert.ok(bare.every((e) => !JSON.stringify(e).includes('"input"') && !JSON.stringify(e).includes('"output"')));

  // The same name and input again, once it ended: the name is taken, no second run (as in AWS).
  await assert.rejects(
    sfn('StartExecution', { stateMachineArn: stack.stateMachineArn, name: started.name, input: described.input }),
    rejection('ExecutionAlreadyExists'),
  );
  const again = await e2e.pipeline.deliver(started.event);
  assert.deepEqual(again.payload.started, []);
  assert.deepEqual(again.payload.duplicates.map((d) => d.name), [started.name]);
  assert.equal(stack.sfn.executions().length, 1);
  published = described;
});

test('a go-live, started as mpub go-live starts it, runs to live', async () => {
  const { stack } = e2e;
  assert.ok(published, 'the publish test ran first');
  const description = await sfn('DescribeExecution', { executionArn: published.executionArn });
  const name = `golive_${description.name.slice(-(80 - 'golive_'.length))}`;
  const input = JSON.stringify({ ...JSON.parse(description.input), action: 'goLive' });
  const { executionArn, startDate } = await sfn('StartExecution', { stateMachineArn: description.stateMachineArn, name, input });
  assert.ok(startDate >= published.stopDate, 'started after the publication ended, on the simulated clock');

  const settled = await stack.sfn.settled(executionArn);
  assert.equal(settled.status, 'SUCCEEDED', `${settled.error}: ${settled.cause}`);
  const events = await history(executionArn);
  assert.equal(stateName(lastExited(events)), 'PublishedAndLive');
  assert.ok(events.some((e) => e.type === 'TaskStateEntered' && stateName(e) === 'ValidateAndGoLive'));
  assert.equal(JSON.parse(events.at(-1).executionSucceededEventDetails.output).notice.event, 'live');
  const offer = await stack.emulator.offer(PUBLISHER, JSON.parse(input).offerId);
  assert.deepEqual(planVersions(offer.production, PLAN), ['1.0.0', '1.1.0']);

  // Newest first, one a page.
  const first = await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn, maxResults: 1 });
  assert.deepEqual(first.executions.map((e) => e.name), [name]);
  const second = await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn, maxResults: 1, nextToken: first.nextToken });
  assert.deepEqual(second.executions.map((e) => e.name), [published.name]);
  assert.equal(second.nextToken, undefined);
});

test('StopExecution of a running execution: ABORTED, and its run goes no further', async () => {
  const { stack } = e2e;
  await stack.emulator.seedOffer(testOffer(STOP_OFFER, ['1.0.0']));
  const started = await startThroughBuildFinished(manifest({ offerId: STOP_OFFER, version: '2.0.0' }));
  const waiting = async () => (await history(started.executionArn)).some((e) => e.type === 'WaitStateEntered');
  for (let tries = 0; !(await waiting()); tries++) {
    assert.ok(tries < 100, 'the run reached its first Wait');
    await sleep(100);
  }
  const running = await sfn('DescribeExecution', { executionArn: started.executionArn });
  assert.equal(running.status, 'RUNNING');
  assert.equal(running.stopDate, undefined);
  const listed = await sfn('ListExecutions', { stateMachineArn: stack.stateMachineArn, statusFilter: 'RUNNING' });
  assert.deepEqual(listed.executions.map((e) => e.name), [started.name]);

  // While it runs, the same name and input answer with it (build-finished's second delivery too); another input is refused.
  const same = await sfn('StartExecution', { stateMachineArn: stack.stateMachineArn, name: started.name, input: running.input });
  assert.deepEqual(same, { executionArn: started.executionArn, startDate: running.startDate });
  const redelivered = await e2e.pipeline.deliver(started.event);
  assert.deepEqual([...redelivered.payload.started, ...redelivered.payload.duplicates].map((e) => e.name), [started.name]);
  assert.equal(stack.sfn.executions().filter((e) => e.name === started.name).length, 1);
  await assert.rejects(
    sfn('StartExecution', { stateMachineArn: stack.stateMachineArn, name: started.name, input: '{"other": true}' }),
    rejection('ExecutionAlreadyExists'),
  );

  const { stopDate } = await sfn('StopExecution', { executionArn: started.executionArn, error: 'Operator.Stopped', cause: 'stopped by the test' });
  const stopped = await sfn('DescribeExecution', { executionArn: started.executionArn });
  assert.deepEqual([stopped.status, stopped.stopDate, stopped.error, stopped.cause], ['ABORTED', stopDate, 'Operator.Stopped', 'stopped by the test']);
  const { run } = await stack.sfn.settled(started.executionArn);
  assert.equal(run.status, 'ABORTED');
  assert.deepEqual(run.invocations.map((i) => i.function), ['update-and-publish'], 'no check after the stop');
  assert.deepEqual(run.notifications, []);
  const events = await history(started.executionArn);
  assert.deepEqual(events.slice(-2).map((e) => e.type), ['WaitStateAborted', 'ExecutionAborted']);
  assert.deepEqual(events.at(-1).executionAbortedEventDetails, { error: 'Operator.Stopped', cause: 'stopped by the test' });
  // Stopped during its Wait, at the Wait's start on the simulated clock (no time passes inside one here).
  const waitEntered = events.findLast((e) => e.type === 'WaitStateEntered');
  assert.deepEqual([events.at(-1).timestamp, stopDate], [waitEntered.timestamp, waitEntered.timestamp]);
  // Stopping it again changes nothing; its name stays taken.
  assert.deepEqual(await sfn('StopExecution', { executionArn: started.executionArn }), { stopDate });
  assert.equal((await sfn('DescribeExecution', { executionArn: started.executionArn })).error, 'Operator.Stopped');
  await assert.rejects(
    sfn('StartExecution', { stateMachineArn: stack.stateMachineArn, name: started.name, input: running.input }),
    rejection('ExecutionAlreadyExists'),
  );
});

test('unknown ARNs and operations are refused as Step Functions refuses them', async () => {
  const { stack } = e2e;
  const executionArn = `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:no-such-execution`;
  for (const action of ['DescribeExecution', 'GetExecutionHistory', 'StopExecution']) {
    await assert.rejects(sfn(action, { executionArn }), rejection('ExecutionDoesNotExist'), action);
  }
  await assert.rejects(sfn('DescribeExecution', { executionArn: 'not-an-arn' }), rejection('InvalidArn'));
  const otherMachine = stack.stateMachineArn.replace(/[^:]+$/, 'other');
  await assert.rejects(sfn('ListExecutions', { stateMachineArn: otherMachine }), rejection('StateMachineDoesNotExist'));
  await assert.rejects(sfn('StartExecution', { stateMachineArn: otherMachine, name: 'x', input: '{}' }), rejection('StateMachineDoesNotExist'));
  await assert.rejects(sfn('CreateActivity', { name: 'x' }), rejection('UnknownOperationException'));
});

testLogsCarryNoSecrets(e2e);
