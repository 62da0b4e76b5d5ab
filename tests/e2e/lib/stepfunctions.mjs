// A local stand-in for the Step Functions API (AWS JSON 1.0 on 127.0.0.1): build-finished starts
// executions on it and an operator CLI reads them back. What it is asked to start it runs with
// runExecution (the real state machine, as the harness runs it) and keeps each run's history. It serves
// the publish machine and, when the stack has it, the release machine, whose children (one publish
// execution per offer) it starts as StartExecution would: listed, described and with a history of their own.
//
// Clock: every date and event timestamp is the emulator's virtual clock (stack.emulator.knownTime(),
// the harness moves it by each Wait's seconds), not the real one, so a publication's history spans the
// days it would in AWS. See lib/history.mjs for which events a history holds.
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

import { loadDefinition } from './definition.mjs';
import { History, withoutExecutionData } from './history.mjs';
import { makeLock } from './lock.mjs';
import { runExecution, taskError } from './runner.mjs';

const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;
// What the API accepts as an execution name (StartExecution: 1-80 characters, none of these).
const BAD_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;
const EXECUTION_ARN = /^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[^:]+:[^:]+$/;

class ApiError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

/**
 * Starts the stand-in for `stack` (it needs the stack's emulator, watchUrl and stateMachineArn, and
 * serves releaseStateMachineArn too when the stack has one).
 * `runOptions`: more options for each runExecution (beforeInvoke, waitMs, ...), or a function of
 * `{executionArn, name, input}` returning them; runs share one lock (`exclusive`) unless it gives one.
 * Returns `{url, stop(), executions(), execution(arn), settled(arn)}`.
 */
export async function startStepFunctions({ stack, runOptions = {}, logFile = join(stack.logDir, 'stepfunctions.log') }) {
  await stack.emulator.clock(); // the first reading: knownTime() runs from it
  const service = new StepFunctions({ stack, runOptions, log: (line) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`) });
  // A request cut off midway is that caller's loss, not a crash of the test process.
  const server = createServer((request, response) => service.handle(request, response).catch(() => response.destroy()));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  service.log(`listening on ${url}`);
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      await service.abortAll();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    })());
  return {
    url,
    stop,
    executions: () => service.list().map(snapshot),
    execution: (arn) => snapshot(service.find(arn)),
    settled: async (arn) => {
      const execution = service.find(arn);
      await execution.done;
      return snapshot(execution);
    },
  };
}

/** What a test sees of an execution: dates in ms of simulated time, input and output parsed, the run's record. */
function snapshot({ executionArn, name, status, startDate, stopDate, input, output, error, cause, run, history }) {
  return {
    executionArn,
    name,
    status,
    startDate,
    stopDate,
    input: JSON.parse(input),
    output: output === undefined ? undefined : JSON.parse(output),
    error,
    cause,
    run,
    events: [...history.events],
  };
}

class StepFunctions {
  constructor({ stack, runOptions, log }) {
    this.stack = stack;
    this.runOptions = runOptions;
    this.log = log;
    this.exclusive = makeLock();
    this.createdAt = this.now();
    // By ARN: which definition each machine runs.
    this.machines = new Map([[stack.stateMachineArn, servedMachine(stack.stateMachineArn, 'publish')]]);
    if (stack.releaseStateMachineArn) this.machines.set(stack.releaseStateMachineArn, servedMachine(stack.releaseStateMachineArn, 'release'));
    this.byArn = new Map();
  }

  /** A machine's definition, substituted as the stack created it. */
  definition({ kind }) {
    return loadDefinition(kind, { PublishStateMachineArn: this.stack.stateMachineArn });
  }

  now() {
    return this.stack.emulator.knownTime();
  }

  list() {
    return [...this.byArn.values()];
  }

  find(executionArn) {
    if (typeof executionArn !== 'string' || !EXECUTION_ARN.test(executionArn)) throw new ApiError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    const execution = this.byArn.get(executionArn);
    if (!execution) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  checkStateMachine(arn) {
    const found = this.machines.get(arn);
    if (!found) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return found;
  }

  async handle(request, response) {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const target = String(request.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    let status = 200;
    let body;
    try {
      const handler = ACTIONS[action];
      if (request.method !== 'POST' || !Object.hasOwn(ACTIONS, action)) throw new ApiError('UnknownOperationException', `unknown operation ${target}`);
      let input;
      try {
        input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        throw new ApiError('SerializationException', 'the request body is not JSON');
      }
      body = handler.call(this, input ?? {});
    } catch (e) {
      status = e instanceof ApiError ? 400 : 500;
      body = { __type: `com.amazonaws.states#${e instanceof ApiError ? e.type : 'InternalFailure'}`, message: e.message };
      this.log(`${action || target} -> ${status} ${body.__type}`);
    }
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    response.end(text);
  }

  start({ stateMachineArn, name = randomUUID(), input = '{}' }) {
    const machine = this.checkStateMachine(stateMachineArn);
    if (typeof name !== 'string' || name.length < 1 || name.length > 80 || BAD_NAME.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    let parsed;
    try {
      parsed = JSON.parse(input);
    } catch (e) {
      throw new ApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${e.message}'`);
    }
    const executionArn = `${machine.executionArnPrefix}${name}`;
    const existing = this.byArn.get(executionArn);
    if (existing) {
      // Idempotent only for the same input while it runs; a closed execution's name stays taken.
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: existing.startDate / 1000 };
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const history = new History({ clock: () => this.now(), definition: this.definition(machine) });
    const execution = {
      executionArn,
      stateMachineArn,
      machine,
      name,
      input,
      status: 'RUNNING',
      startDate: this.now(),
      history,
      controller: new AbortController(),
    };
    history.started(input, machine.roleArn);
    this.byArn.set(executionArn, execution);
    execution.done = this.run(execution, parsed);
    this.log(`StartExecution ${name}`);
    return { executionArn, startDate: execution.startDate / 1000 };
  }

  async run(execution, input) {
    const { executionArn, name, history, machine } = execution;
    const extra = typeof this.runOptions === 'function' ? this.runOptions({ executionArn, name, input }) : this.runOptions;
    let result;
    try {
      result = await runExecution({
        stack: this.stack,
        input,
        executionArn,
        executionName: name,
        exclusive: this.exclusive,
        definition: machine.kind,
        startChild: (child) => this.startChild(child),
        ...extra,
        onEvent: (event) => {
          history.record(event);
          extra?.onEvent?.(event);
        },
        signal: execution.controller.signal,
      });
    } catch (e) {
      // The real-time bound passed, or the harness broke: the run is over all the same.
      result = { status: e.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED', error: e.name, cause: e.message };
    }
    execution.run = result;
    if (execution.status !== 'RUNNING') return; // stopped: StopExecution recorded its end
    execution.status = result.status;
    execution.stopDate = history.now();
    if (result.status === 'SUCCEEDED') execution.output = JSON.stringify(result.output);
    else Object.assign(execution, { error: result.error, cause: result.cause });
    history.ended({ ...result, output: execution.output });
    this.log(`${name} ended ${execution.status}`);
  }

  /**
   * A release's child, as startExecution.sync:2 starts it: through StartExecution (a running one with
   * the same name and input is waited for; a refusal is the task's error), stopped with its parent.
   */
  async startChild({ stateMachineArn, name, input, signal, onStarted }) {
    let started;
    try {
      started = this.start({ stateMachineArn, name, input: JSON.stringify(input) });
    } catch (e) {
      if (e instanceof ApiError) throw taskError(e.type, e.message);
      throw e;
    }
    const child = this.byArn.get(started.executionArn);
    onStarted?.({ executionArn: child.executionArn, startDate: child.startDate });
    const stop = () => this.stopExecution({ executionArn: child.executionArn, cause: 'the parent execution was stopped' });
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
    try {
      await child.done;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    const { executionArn, status, output, error, cause, startDate, stopDate, run } = child;
    return { executionArn, status, output: output === undefined ? undefined : JSON.parse(output), error, cause, startDate, stopDate, simulated: run?.simulated, run };
  }

  stopExecution({ executionArn, error, cause }) {
    const execution = this.find(executionArn);
    if (execution.status === 'RUNNING') {
      Object.assign(execution, { status: 'ABORTED', stopDate: execution.history.now(), error, cause });
      execution.history.aborted({ error, cause });
      execution.controller.abort();
      this.log(`StopExecution ${execution.name}`);
    }
    return { stopDate: execution.stopDate / 1000 };
  }

  /** On stop(): what still runs is stopped, and its run let finish, so no call outlives the stack. */
  async abortAll() {
    const running = this.list().filter((e) => e.status === 'RUNNING');
    for (const execution of running) this.stopExecution({ executionArn: execution.executionArn, error: 'Harness.Stopped', cause: 'the stand-in was stopped' });
    await Promise.all(running.map((e) => e.done));
  }
}

/** A served state machine: its ARN, which definition it runs, its executions' ARN prefix and its role. */
function servedMachine(stateMachineArn, kind) {
  const [, , , , account, , name] = stateMachineArn.split(':');
  return {
    stateMachineArn,
    kind,
    // arn:aws:states:<region>:<account>:stateMachine:<name> -> arn:aws:states:<region>:<account>:execution:<name>:
    executionArnPrefix: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`,
    // The role lib/moto.mjs creates the state machine with.
    roleArn: `arn:aws:iam::${account}:role/${name}-role`,
  };
}

/** The ExecutionListItem / DescribeExecution fields every execution has. */
function summary({ executionArn, stateMachineArn, name, status, startDate, stopDate }) {
  return dropUndefined({ executionArn, stateMachineArn, name, status, startDate: startDate / 1000, stopDate: stopDate === undefined ? undefined : stopDate / 1000 });
}

const dropUndefined = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** maxResults as the API reads it: 0 or absent is the default page. */
function pageSize(maxResults) {
  if (maxResults === undefined || maxResults === 0) return PAGE_DEFAULT;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > PAGE_MAX) {
    throw new ApiError('ValidationException', `maxResults must be between 0 and ${PAGE_MAX}`);
  }
  return maxResults;
}

// Page tokens are opaque to callers; here each names the last item given (a position that later
// executions or events do not shift).
const token = (value) => Buffer.from(JSON.stringify({ after: value })).toString('base64url');
function untoken(nextToken) {
  if (nextToken === undefined || nextToken === null) return undefined;
  try {
    return JSON.parse(Buffer.from(String(nextToken), 'base64url').toString('utf8')).after;
  } catch {
    throw new ApiError('InvalidToken', `Invalid Token: '${nextToken}'`);
  }
}

/** One page of `items` after the one the token names (`key` identifies an item). */
function page(items, { maxResults, nextToken }, key) {
  const size = pageSize(maxResults);
  const after = untoken(nextToken);
  const from = after === undefined ? 0 : items.findIndex((item) => key(item) === after) + 1;
  if (after !== undefined && from === 0) throw new ApiError('InvalidToken', `Invalid Token: '${nextToken}'`);
  const slice = items.slice(from, from + size);
  const more = from + size < items.length;
  return { slice, nextToken: more ? token(key(slice.at(-1))) : undefined };
}

const ACTIONS = {
  StartExecution(request) {
    return this.start(request);
  },

  DescribeExecution({ executionArn }) {
    const execution = this.find(executionArn);
    const { input, output, error, cause } = execution;
    return dropUndefined({
      ...summary(execution),
      input,
      inputDetails: { included: true },
      output,
      outputDetails: output === undefined ? undefined : { included: true },
      error,
      cause,
    });
  },

  ListExecutions({ stateMachineArn, statusFilter, maxResults, nextToken }) {
    this.checkStateMachine(stateMachineArn);
    // Newest first; Map insertion order is the start order.
    const matching = this.list()
      .filter((e) => e.stateMachineArn === stateMachineArn && (!statusFilter || e.status === statusFilter))
      .reverse();
    const { slice, nextToken: next } = page(matching, { maxResults, nextToken }, (e) => e.executionArn);
    return dropUndefined({ executions: slice.map(summary), nextToken: next });
  },

  GetExecutionHistory({ executionArn, reverseOrder = false, maxResults, nextToken, includeExecutionData = true }) {
    const { events } = this.find(executionArn).history;
    const ordered = reverseOrder ? [...events].reverse() : events;
    const { slice, nextToken: next } = page(ordered, { maxResults, nextToken }, (e) => e.id);
    return dropUndefined({ events: includeExecutionData ? slice : slice.map(withoutExecutionData), nextToken: next });
  },

  StopExecution(request) {
    return this.stopExecution(request);
  },

  DescribeStateMachine({ stateMachineArn }) {
    const machine = this.checkStateMachine(stateMachineArn);
    return {
      stateMachineArn,
      name: stateMachineArn.split(':').pop(),
      status: 'ACTIVE',
      definition: JSON.stringify(this.definition(machine)),
      roleArn: machine.roleArn,
      type: 'STANDARD',
      creationDate: this.createdAt / 1000,
    };
  },
};
