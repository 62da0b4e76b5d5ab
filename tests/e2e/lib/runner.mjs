// Runs the real state machine in-process with aws-local-stepfunctions. Its Task states reach the
// functions through the bridge below; Wait and Retry pauses take no real time, and the emulator's
// clock is moved instead, so days of certification pass in seconds and always the same way. The
// release machine's children (startExecution.sync:2) are runs of the publish machine.
import { randomUUID } from 'node:crypto';

import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';

import { allStates, functionName, loadDefinition } from './definition.mjs';
import { invokeFunction } from './stack.mjs';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const SNS_PUBLISH = 'arn:aws:states:::sns:publish';
const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
// The function that reads the operation after a Wait: the clock moves by the wait before it runs.
const CHECK_FUNCTION = 'check-last-operation';
// The function a queued run calls again after waiting for the offer.
const QUEUE_FUNCTION = 'update-and-publish';

/**
 * Runs one execution to its end. Returns
 * `{status, output, error, cause, states, notifications, invocations, simulated: {waitSeconds, retrySeconds, queueSeconds, waits, retries, queueWaits}, children}`;
 * status is SUCCEEDED, FAILED, TIMED_OUT when the simulated time passed the definition's TimeoutSeconds
 * (for a release: its longest child's), or ABORTED when `signal` aborted it.
 * `definition`: 'publish' (default) or 'release'.
 * `startChild({stateMachineArn, name, input, signal, onStarted})`, for a release: starts one child
 * execution (input parsed), calls `onStarted({executionArn, startDate})` once it runs, and resolves to
 * its end, `{executionArn, status, output, error, cause, startDate, stopDate, simulated, run}` (output
 * parsed, dates in ms of simulated time; `simulated` as above, optional, else the dates give its
 * length; `run`, optional, the child's runExecution result). A start refused as Step Functions refuses
 * it throws a `taskError`; `signal` is the parent's (a stopped parent stops its child). The default
 * runs the child here with runExecution on the publish definition (same stack, lock, hooks and signal;
 * its events reach `onEvent` with `child: {name, executionArn}`).
 * `children` lists per child, in start order, `{name, executionArn, status, error, simulatedSeconds, run}`:
 * its own simulated seconds (waits, retries, queue waits). Children here run one after another on the
 * one clock; in AWS they run at once, so a release takes as long as its longest child.
 * `onEvent` receives aws-local-stepfunctions' events (StateEntered, StateExited, StateRetried, ...) and
 * the bridge's own (ClockAdvanced, NotificationSent), in the order they happened.
 * `beforeInvoke({state, function, payload})` runs before each function call (to inject faults mid-run); it
 * may return `{lambda: 'timeout' | 'crash' | 'killed' | 'unknown'}` to make that invocation fail as
 * Lambda fails it (see `LAMBDA_FAILURES`);
 * `waitMs` is the real pause of each Wait state (0: none).
 * `exclusive(fn)`, optional, runs each function call (clock move, hook and invoke) under a lock shared by
 * executions run at the same time: one execution's clock move never lands inside another's call (in
 * AWS an invocation takes milliseconds, not simulated hours). lib/lock.mjs makes one.
 * `signal`, optional, an AbortSignal: aborting it stops the run as StopExecution does; from then on the
 * bridge calls no function, sends no notice and moves no clock (a call already under way finishes).
 */
export async function runExecution({
  stack,
  input,
  executionArn,
  executionName,
  onEvent = () => {},
  beforeInvoke = async () => {},
  waitMs = 0,
  timeoutSeconds = 600,
  exclusive = (fn) => fn(),
  signal,
  definition: machineName = 'publish',
  startChild,
}) {
  const definition = loadDefinition(machineName, { PublishStateMachineArn: stack.stateMachineArn });
  // Children share the emulator's one clock, which each Wait moves: run one at a time, or their waits add up.
  for (const [, state] of allStates(definition)) if (state.Type === 'Map') state.MaxConcurrency = 1;
  // The definition's own limit (45 days) is enforced on the simulated clock instead: Node's setTimeout
  // overflows past 24.8 days (and fires at once), and a local run must end in minutes anyway.
  const simulatedLimitSeconds = definition.TimeoutSeconds;
  definition.TimeoutSeconds = timeoutSeconds;
  const record = {
    states: [],
    notifications: [],
    invocations: [],
    simulated: { waitSeconds: 0, retrySeconds: 0, queueSeconds: 0, waits: 0, retries: 0, queueWaits: 0 },
    children: [],
  };
  startChild ??= inProcessChild({ stack, onEvent, beforeInvoke, waitMs, timeoutSeconds, exclusive });
  const bridge = new Bridge({ stack, definition, record, beforeInvoke, onEvent, exclusive, signal, startChild });
  // The library validates the definition (asl-validator, ARNs and paths checked) before it runs.
  const machine = new StateMachine(definition);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: bridge.handlers(),
      waitTimeOverrides: Object.fromEntries(statesOfType(definition, 'Wait').map((name) => [name, waitMs])),
      retryIntervalOverrides: Object.fromEntries(
        allStates(definition)
          .filter(([, state]) => state.Retry)
          .map(([name]) => [name, 0]),
      ),
    },
    context: { Execution: { Id: executionArn, Name: executionName } },
  });
  const abort = () => execution.abort();
  if (signal?.aborted) abort();
  else signal?.addEventListener('abort', abort, { once: true });
  const deliver = inIterationOrder((event) => {
    if (event.type === 'StateEntered') record.states.push(event.state.name);
    onEvent(event);
  });
  const events = (async () => {
    for await (const event of execution.eventLogs) deliver(event);
    deliver.flush();
  })();
  let outcome;
  try {
    outcome = { status: 'SUCCEEDED', output: await execution.result };
  } catch (e) {
    if (e instanceof ExecutionAbortedError) {
      outcome = { status: 'ABORTED' };
    } else if (e instanceof ExecutionError) {
      // The error that ended the run (a Fail state's Error and Cause, or an uncaught one).
      outcome = { status: 'FAILED', error: e.cause?.name, cause: e.cause?.message };
    } else {
      throw e; // timed out on the real clock: the harness's problem
    }
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  await events;
  const { waitSeconds, retrySeconds, queueSeconds } = record.simulated;
  const longestChild = Math.max(0, ...record.children.map((c) => c.simulatedSeconds));
  if (outcome.status !== 'ABORTED' && Math.max(waitSeconds + retrySeconds + queueSeconds, longestChild) > simulatedLimitSeconds) {
    // Step Functions would have stopped it there, with no Catch and no notice.
    outcome = { status: 'TIMED_OUT', error: 'States.Timeout', cause: `ran past the definition's ${simulatedLimitSeconds} s` };
  }
  return { ...outcome, ...record };
}

function statesOfType(definition, type) {
  return allStates(definition)
    .filter(([, state]) => state.Type === type)
    .map(([name]) => name);
}

/**
 * Map iterations run one at a time here, but the library forwards each one's events on its own, a few
 * microtasks late: the next iteration's first events, or the Map's exit, can overtake the end of the
 * one under way. Whatever is not that iteration's is held until it has ended, as AWS records them.
 * (An iteration's events carry its `index`; one level of Map, as in release.asl.json.)
 */
function inIterationOrder(deliver) {
  let open; // the index of the iteration under way
  let held = [];
  const release = () => {
    open = undefined;
    const next = held;
    held = [];
    next.forEach(sequence);
  };
  const sequence = (event) => {
    if (open !== undefined && event.index !== open) return held.push(event);
    if (event.type === 'MapIterationStarted') open = event.index;
    deliver(event);
    if (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') release();
  };
  // The end of the run (an aborted iteration reports no end): whatever is held, in order.
  sequence.flush = () => {
    open = undefined;
    held.splice(0).forEach(deliver);
  };
  return sequence;
}

/** The default `startChild`: the child runs here, as its own runExecution of the publish machine. */
function inProcessChild({ stack, onEvent, beforeInvoke, waitMs, timeoutSeconds, exclusive }) {
  const clock = async () => Date.parse((await stack.emulator.clock()).now);
  // Names started by this release: here each child has ended before the next starts, so a name again is taken.
  const started = new Set();
  return async ({ stateMachineArn, name, input, signal, onStarted }) => {
    if (stateMachineArn !== stack.stateMachineArn) {
      throw taskError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    }
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (started.has(name)) throw taskError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    started.add(name);
    const child = { name, executionArn };
    const startDate = await clock();
    onStarted?.({ executionArn, startDate });
    const run = await runExecution({
      stack,
      input,
      executionArn,
      executionName: name,
      onEvent: (event) => onEvent({ ...event, child }),
      beforeInvoke,
      waitMs,
      timeoutSeconds,
      exclusive,
      signal,
    });
    const { status, output, error, cause, simulated } = run;
    return { executionArn, status, output, error, cause, startDate, stopDate: await clock(), simulated, run };
  };
}

/** A Step Functions API error as the states integration raises it (`ExecutionAlreadyExists` -> `StepFunctions.ExecutionAlreadyExistsException`). */
export function taskError(type, message) {
  const cause = `${message} (Service: AWSStepFunctions; Status Code: 400; Error Code: ${type}; Request ID: ${randomUUID()}; Proxy: null)`;
  return new FunctionError(`StepFunctions.${type}Exception`, cause);
}

/**
 * An invocation that Lambda itself ends, as the lambda:invoke integration reports it to Step Functions
 * (the error is named by the errorType Lambda returns, `Lambda.Unknown` when it returns none):
 * - `timeout`: the function ran past its timeout. It did its work (every write it made stands) but its
 *   answer is lost: `Sandbox.Timedout`.
 * - `crash`: the process died at the end of what it did, `Runtime.ExitError`. With an emulator fault
 *   that stops one of its requests, it died partway (say after its PUT, before its publish).
 * - `killed`: the process died before it did anything (out of memory at start, say): `Runtime.ExitError`.
 * - `unknown`: as `killed`, but Lambda returned no error type: `Lambda.Unknown`, as AWS documents
 *   unhandled errors.
 */
const LAMBDA_FAILURES = {
  timeout: { runs: true, errorType: 'Sandbox.Timedout', message: 'Task timed out after 90.00 seconds' },
  crash: { runs: true, errorType: 'Runtime.ExitError', message: 'Runtime exited with error: signal: aborted' },
  killed: { runs: false, errorType: 'Runtime.ExitError', message: 'Runtime exited with error: signal: killed' },
  unknown: { runs: false, errorType: null, message: 'Runtime exited with error: signal: killed' },
};

function lambdaFailure(kind) {
  const failure = LAMBDA_FAILURES[kind];
  if (!failure) throw new Error(`unknown Lambda failure ${kind}`);
  const errorMessage = `RequestId: ${randomUUID()} Error: ${failure.message}`;
  if (!failure.errorType) {
    const raw = `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify({ errorMessage })}`;
    return { ok: false, errorType: 'Lambda.Unknown', errorMessage: raw, raw };
  }
  const raw = JSON.stringify({ errorType: failure.errorType, errorMessage });
  return { ok: false, errorType: failure.errorType, errorMessage: raw, raw };
}

/** A function's error as Step Functions' lambda:invoke integration raises it. */
class FunctionError extends Error {
  constructor(name, cause) {
    super(cause);
    this.name = name;
  }
}

/** The local stand-in for the Lambda, SNS and Step Functions integrations, keyed by Task state name. */
class Bridge {
  constructor({ stack, definition, record, beforeInvoke, onEvent, exclusive, signal, startChild }) {
    this.stack = stack;
    this.startChild = startChild;
    this.signal = signal;
    this.exclusive = exclusive;
    this.definition = definition;
    this.record = record;
    this.beforeInvoke = beforeInvoke;
    this.onEvent = onEvent;
    // Per Task state: attempts per retrier, and the simulated pause owed before the next attempt.
    this.retrying = new Map();
  }

  handlers() {
    const handlers = {};
    for (const [name, state] of allStates(this.definition)) {
      if (state.Type !== 'Task') continue;
      if (state.Resource === LAMBDA_INVOKE) handlers[name] = (input) => this.invoke(name, state, input);
      else if (state.Resource === SNS_PUBLISH) handlers[name] = (input) => this.notify(name, input);
      else if (state.Resource === START_EXECUTION_SYNC) handlers[name] = (input) => this.runChild(name, state, input);
      else throw new Error(`state ${name}: the e2e bridge does not know resource ${state.Resource}`);
    }
    return handlers;
  }

  async invoke(stateName, state, parameters) {
    await drainEvents();
    return this.exclusive(() => this.invokeNow(stateName, state, parameters));
  }

  async invokeNow(stateName, state, parameters) {
    this.refuseIfAborted(stateName);
    const fn = functionName(parameters.FunctionName);
    const payload = parameters.Payload;
    const pending = this.retrying.get(stateName);
    if (pending?.owed) {
      // A retry: the time its Retry rule would have waited passes on the emulator's clock.
      await this.advance(stateName, 'retry', pending.owed);
      pending.owed = 0;
    } else if (fn === CHECK_FUNCTION && Number.isFinite(payload?.nextCheckSeconds)) {
      // The Wait before this check took no real time: the emulator's clock makes up for it.
      await this.advance(stateName, 'wait', payload.nextCheckSeconds);
    } else if (fn === QUEUE_FUNCTION && payload?.queue && Number.isFinite(payload?.nextCheckSeconds)) {
      // The same for the wait of a run queued behind another operation on the offer.
      await this.advance(stateName, 'queue', payload.nextCheckSeconds);
    }
    // A scenario's hook, e.g. to inject faults when the run reaches a given point.
    const fault = (await this.beforeInvoke({ state: stateName, function: fn, payload }))?.lambda;
    let result;
    if (!fault || LAMBDA_FAILURES[fault]?.runs) {
      try {
        result = await invokeFunction(this.stack.watchUrl, fn, payload);
      } catch (e) {
        // watch unreachable: what the Lambda SDK reports when the service cannot be called.
        result = { ok: false, errorType: 'Lambda.SdkClientException', errorMessage: e.message, raw: e.message };
      }
    }
    if (fault) result = lambdaFailure(fault);
    this.record.invocations.push({ state: stateName, function: fn, ok: result.ok, errorType: result.errorType, fault });
    if (result.ok) {
      this.retrying.delete(stateName);
      return { ExecutedVersion: '$LATEST', Payload: result.payload, StatusCode: 200 };
    }
    // Lambda's integration names the error by the function's errorType; the Cause is its error document.
    const error = result.errorType
      ? new FunctionError(result.errorType, result.raw)
      : new FunctionError('Lambda.ServiceException', `invoke ${fn}: HTTP ${result.status}: ${result.errorMessage}`);
    this.oweRetryPause(stateName, state, error);
    throw error;
  }

  async advance(stateName, reason, seconds) {
    await this.stack.emulator.advanceClock(seconds);
    const simulated = this.record.simulated;
    if (reason === 'retry') {
      simulated.retrySeconds += seconds;
      simulated.retries += 1;
    } else if (reason === 'queue') {
      simulated.queueSeconds += seconds;
      simulated.queueWaits += 1;
    } else {
      simulated.waitSeconds += seconds;
      simulated.waits += 1;
    }
    this.onEvent({ type: 'ClockAdvanced', state: stateName, reason, seconds });
  }

  /** Mirrors the state's Retry rules to know whether this error is retried and after how long. */
  oweRetryPause(stateName, state, error) {
    const tracker = this.retrying.get(stateName) ?? { attempts: (state.Retry ?? []).map(() => 0), owed: 0 };
    const index = (state.Retry ?? []).findIndex((r) =>
      r.ErrorEquals.some((e) => e === error.name || e === 'States.ALL' || e === 'States.TaskFailed'),
    );
    const retrier = state.Retry?.[index];
    if (!retrier || tracker.attempts[index] >= (retrier.MaxAttempts ?? 3)) {
      // Not retried: the state is left, and a later entry starts counting afresh.
      this.retrying.delete(stateName);
      return;
    }
    // The pause without jitter: FULL jitter would wait anything up to it.
    const interval = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** tracker.attempts[index];
    tracker.attempts[index] += 1;
    tracker.owed = Math.min(interval, retrier.MaxDelaySeconds ?? Infinity);
    this.retrying.set(stateName, tracker);
  }

  /** A stopped run goes no further; the library only stops between states, and retries within one. */
  refuseIfAborted(stateName) {
    if (this.signal?.aborted) throw new FunctionError('States.Aborted', `${stateName}: the execution was stopped`);
  }

  /**
   * startExecution.sync:2: starts the child and waits for its end, as Step Functions does: its
   * description (Input and Output parsed) on success, else States.TaskFailed with it as the Cause.
   * Not under `exclusive`: the child's own calls take the lock.
   */
  async runChild(stateName, state, parameters) {
    await drainEvents();
    this.refuseIfAborted(stateName);
    const pending = this.retrying.get(stateName);
    if (pending?.owed) {
      await this.exclusive(() => this.advance(stateName, 'retry', pending.owed));
      pending.owed = 0;
    }
    const { StateMachineArn, Name, Input } = parameters;
    const task = (type, details = {}) => this.onEvent({ type, state: stateName, details: { resourceType: 'states', resource: 'startExecution.sync:2', ...details } });
    task('TaskScheduled', { region: StateMachineArn.split(':')[3], parameters: JSON.stringify(parameters) });
    task('TaskStarted');
    let submitted = false;
    const onStarted = ({ executionArn, startDate }) => {
      submitted = true;
      task('TaskSubmitted', { output: JSON.stringify({ ExecutionArn: executionArn, StartDate: startDate }), outputDetails: { truncated: false } });
    };
    let end;
    try {
      end = await this.startChild({ stateMachineArn: StateMachineArn, name: Name, input: Input, signal: this.signal, onStarted });
    } catch (error) {
      task('TaskFailed', { error: error.name, cause: error.message });
      this.oweRetryPause(stateName, state, error);
      throw error;
    }
    this.retrying.delete(stateName);
    if (!submitted) onStarted(end); // a startChild that does not report its start
    const simulated = end.simulated;
    this.record.children.push({
      name: Name,
      executionArn: end.executionArn,
      status: end.status,
      error: end.error,
      simulatedSeconds: simulated ? simulated.waitSeconds + simulated.retrySeconds + simulated.queueSeconds : (end.stopDate - end.startDate) / 1000,
      run: end.run,
    });
    const description = { ExecutionArn: end.executionArn, Name, StateMachineArn, Status: end.status, StartDate: end.startDate, StopDate: end.stopDate };
    if (end.status === 'SUCCEEDED') {
      const result = { ...description, Input, InputDetails: { Included: true }, Output: end.output, OutputDetails: { Included: true } };
      task('TaskSucceeded', { output: JSON.stringify(result), outputDetails: { truncated: false } });
      return result;
    }
    const error = new FunctionError('States.TaskFailed', JSON.stringify({ ...description, Error: end.error, Cause: end.cause }));
    task('TaskFailed', { error: error.name, cause: error.message });
    throw error;
  }

  async notify(stateName, parameters) {
    await drainEvents();
    this.refuseIfAborted(stateName);
    const notification = { state: stateName, topicArn: parameters.TopicArn, subject: parameters.Subject, message: parameters.Message };
    this.record.notifications.push(notification);
    this.onEvent({ type: 'NotificationSent', ...notification });
    return { MessageId: randomUUID() };
  }
}

// The library hands its events over in microtasks: one macrotask later, all so far have been
// delivered, so the bridge's own events come after the StateEntered that led to them.
const drainEvents = () => new Promise((resolve) => setImmediate(resolve));
