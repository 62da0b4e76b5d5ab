// One execution's event history in the shapes GetExecutionHistory returns, built from the events
// aws-local-stepfunctions passes to runExecution's onEvent. States inside Parallel branches are included,
// as in AWS. Task-level events (TaskScheduled, TaskStarted, TaskSucceeded, TaskFailed) are not.
import { allStates } from './definition.mjs';

// Library state types -> the prefix of AWS's event types (TaskStateEntered, ChoiceStateExited, ...).
const STATE_TYPES = new Set(['Task', 'Choice', 'Pass', 'Wait', 'Parallel', 'Succeed', 'Fail', 'Map']);

export class History {
  /**
   * `clock()` gives the simulated time in ms; `definition` is the ASL the run uses (for its Wait states).
   */
  constructor({ clock, definition }) {
    this.clock = clock;
    this.waits = new Map(allStates(definition).filter(([, s]) => s.Type === 'Wait'));
    this.events = [];
    // Entered and not yet left, by name: what an abort cuts short.
    this.open = new Map();
    // A Wait ends at its entry + its seconds, before the harness moves the emulator's clock (at the
    // check that follows): from its exit on, stamps never fall behind that, so a Wait reads as long as
    // it was. (A stop during a Wait is stamped at its entry: the clock does not move inside one.)
    this.floor = 0;
    this.waitEnds = new Map();
    this.closed = false;
  }

  /** The simulated time of the next event, in ms: the emulator's clock, or a Wait's end if later. */
  now() {
    return Math.max(this.clock(), this.floor);
  }

  add(type, details = {}) {
    if (this.closed) return null;
    const id = this.events.length + 1;
    const event = { timestamp: this.now() / 1000, type, id, previousEventId: id - 1, ...details };
    this.events.push(event);
    return event;
  }

  started(input, roleArn) {
    this.add('ExecutionStarted', { executionStartedEventDetails: { input, inputDetails: { truncated: false }, roleArn } });
  }

  /** A library event; those without a counterpart here (retries, catches, branch starts) are left out. */
  record(event) {
    const state = event.state;
    if (!state || !STATE_TYPES.has(state.type)) return;
    if (event.type === 'StateEntered') {
      this.open.set(state.name, state.type);
      this.add(`${state.type}StateEntered`, {
        stateEnteredEventDetails: { name: state.name, input: json(state.input), inputDetails: { truncated: false } },
      });
      if (state.type === 'Parallel') this.add('ParallelStateStarted');
      if (state.type === 'Wait') this.waitEnds.set(state.name, this.waitEnd(state));
    } else if (event.type === 'StateExited') {
      this.open.delete(state.name);
      if (state.type === 'Wait') this.floor = Math.max(this.floor, this.waitEnds.get(state.name) ?? 0);
      if (state.type === 'Parallel') this.add('ParallelStateSucceeded');
      this.add(`${state.type}StateExited`, {
        stateExitedEventDetails: { name: state.name, output: json(state.output), outputDetails: { truncated: false } },
      });
    } else if (event.type === 'StateFailed' && state.type === 'Parallel') {
      this.add('ParallelStateFailed', { parallelStateFailedEventDetails: { error: event.Error, cause: text(event.Cause) } });
    }
  }

  /** When the Wait state entered now ends on the simulated clock, in ms (its paths read its raw input: no InputPath here). */
  waitEnd(state) {
    const wait = this.waits.get(state.name) ?? {};
    const at = this.now();
    const seconds = wait.Seconds ?? (wait.SecondsPath && path(state.input, wait.SecondsPath));
    if (Number.isFinite(seconds)) return at + seconds * 1000;
    const timestamp = Date.parse(wait.Timestamp ?? (wait.TimestampPath && path(state.input, wait.TimestampPath)));
    return Number.isFinite(timestamp) ? timestamp : at;
  }

  /** The terminal event of a run that ended by itself (status as runExecution reports it). */
  ended({ status, output, error, cause }) {
    if (status === 'SUCCEEDED') {
      this.add('ExecutionSucceeded', { executionSucceededEventDetails: { output, outputDetails: { truncated: false } } });
    } else if (status === 'TIMED_OUT') {
      this.add('ExecutionTimedOut', { executionTimedOutEventDetails: { error, cause } });
    } else {
      this.add('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
    }
    this.closed = true;
  }

  /** StopExecution: the states under way are aborted (innermost first), then the execution. */
  aborted({ error, cause }) {
    for (const [, type] of [...this.open].reverse()) this.add(`${type}StateAborted`);
    this.add('ExecutionAborted', { executionAbortedEventDetails: dropUndefined({ error, cause }) });
    this.closed = true;
  }
}

/** The events as GetExecutionHistory gives them without execution data: no input or output. */
export function withoutExecutionData(event) {
  const copy = structuredClone(event);
  for (const [key, details] of Object.entries(copy)) {
    if (!key.endsWith('EventDetails')) continue;
    delete details.input;
    delete details.output;
  }
  return copy;
}

const json = (value) => JSON.stringify(value ?? null);
const text = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
const dropUndefined = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A reference path such as `$.nextCheckSeconds` or `$.a.b` (all this definition's Waits use). */
function path(value, reference) {
  return reference
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce((node, key) => node?.[key], value);
}
