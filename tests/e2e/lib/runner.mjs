// Runs the real state machine in-process with aws-local-stepfunctions. Its Task states reach the
// functions through the bridge below; Wait and Retry pauses take no real time, and the emulator's
// clock is moved instead, so days of certification pass in seconds and always the same way.
import { randomUUID } from 'node:crypto';

import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';

import { allStates, functionName, loadDefinition } from './definition.mjs';
import { invokeFunction } from './stack.mjs';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const SNS_PUBLISH = 'arn:aws:states:::sns:publish';
// The function that reads the operation after a Wait: the clock moves by the wait before it runs.
const CHECK_FUNCTION = 'check-last-operation';
// The function a queued run calls again after waiting for the offer.
const QUEUE_FUNCTION = 'update-and-publish';

/**
 * Runs one execution to its end. Returns
 * `{status, output, error, cause, states, notifications, invocations, simulated: {waitSeconds, retrySeconds, queueSeconds, waits, retries, queueWaits}}`;
 * status is SUCCEEDED, FAILED, TIMED_OUT when the simulated time passed the definition's TimeoutSeconds,
 * or ABORTED when `signal` aborted it.
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
}) {
  const definition = loadDefinition();
  // The definition's own limit (45 days) is enforced on the simulated clock instead: Node's setTimeout
  // overflows past 24.8 days (and fires at once), and a local run must end in minutes anyway.
  const simulatedLimitSeconds = definition.TimeoutSeconds;
  definition.TimeoutSeconds = timeoutSeconds;
  const record = {
    states: [],
    notifications: [],
    invocations: [],
    simulated: { waitSeconds: 0, retrySeconds: 0, queueSeconds: 0, waits: 0, retries: 0, queueWaits: 0 },
  };
  const bridge = new Bridge({ stack, definition, record, beforeInvoke, onEvent, exclusive, signal });
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
  const events = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') record.states.push(event.state.name);
      onEvent(event);
    }
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
  if (outcome.status !== 'ABORTED' && waitSeconds + retrySeconds + queueSeconds > simulatedLimitSeconds) {
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

/** The local stand-in for the Lambda and SNS integrations, keyed by Task state name. */
class Bridge {
  constructor({ stack, definition, record, beforeInvoke, onEvent, exclusive, signal }) {
    this.stack = stack;
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
