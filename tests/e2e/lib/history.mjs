// One execution's event history in the shapes GetExecutionHistory returns, built from the events
// aws-local-stepfunctions passes to runExecution's onEvent. States inside Parallel branches and Map
// iterations are included, as in AWS. Task-level events (TaskScheduled, TaskStarted, TaskSubmitted,
// TaskSucceeded, TaskFailed) only for startExecution.sync tasks, which the bridge reports; a
// lambda:invoke or sns:publish task has none here.
import { allStates } from './definition.mjs';

// Library state types -> the prefix of AWS's event types (TaskStateEntered, ChoiceStateExited, ...).
const STATE_TYPES = new Set(['Task', 'Choice', 'Pass', 'Wait', 'Parallel', 'Succeed', 'Fail', 'Map']);
// The bridge's task events (runner.mjs, startExecution.sync:2), recorded as they come.
const TASK_EVENTS = new Set(['TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskFailed']);
// The library's Map iteration events -> AWS's.
const ITERATION_EVENTS = { MapIterationStarted: 'Started', MapIterationSucceeded: 'Succeeded', MapIterationFailed: 'Failed' };

export class History {
  /**
   * `clock()` gives the simulated time in ms; `definition` is the ASL the run uses (for its Wait states).
   */
  constructor({ clock, definition }) {
    this.clock = clock;
    this.waits = new Map(allStates(definition).filter(([, s]) => s.Type === 'Wait'));
    this.maps = new Map(allStates(definition).filter(([, s]) => s.Type === 'Map'));
    this.events = [];
    // Entered and not yet left, by name (and Map iteration): what an abort cuts short.
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

  /**
   * A library or bridge event; those without a counterpart here (retries, catches, branch starts) are
   * left out, and so are a child's (`child`: in-process children have their own history).
   */
  record(event) {
    if (event.child) return;
    if (TASK_EVENTS.has(event.type)) {
      this.add(event.type, { [`${event.type[0].toLowerCase()}${event.type.slice(1)}EventDetails`]: event.details });
      return;
    }
    if (ITERATION_EVENTS[event.type]) {
      this.iteration(ITERATION_EVENTS[event.type], event.parentState.name, event.index);
      return;
    }
    const state = event.state;
    if (!state || !STATE_TYPES.has(state.type)) return;
    // Inside a Map iteration, state names repeat across iterations: keyed by iteration too.
    const key = event.index === undefined ? state.name : `${state.name}#${event.index}`;
    if (event.type === 'StateEntered') {
      this.open.set(key, state.type);
      this.add(`${state.type}StateEntered`, {
        stateEnteredEventDetails: { name: state.name, input: json(state.input), inputDetails: { truncated: false } },
      });
      if (state.type === 'Parallel') this.add('ParallelStateStarted');
      if (state.type === 'Map') this.add('MapStateStarted', { mapStateStartedEventDetails: { length: this.mapLength(state) } });
      if (state.type === 'Wait') this.waitEnds.set(key, this.waitEnd(state));
    } else if (event.type === 'StateExited') {
      this.open.delete(key);
      if (state.type === 'Wait') this.floor = Math.max(this.floor, this.waitEnds.get(key) ?? 0);
      if (state.type === 'Parallel' || state.type === 'Map') this.add(`${state.type}StateSucceeded`);
      this.add(`${state.type}StateExited`, {
        stateExitedEventDetails: { name: state.name, output: json(state.output), outputDetails: { truncated: false } },
      });
    } else if (event.type === 'StateFailed' && state.type === 'Parallel') {
      this.add('ParallelStateFailed', { parallelStateFailedEventDetails: { error: event.Error, cause: text(event.Cause) } });
    } else if (event.type === 'StateFailed' && state.type === 'Map') {
      this.add('MapStateFailed', { mapStateFailedEventDetails: { error: event.Error, cause: text(event.Cause) } });
    }
  }

  /** MapIterationStarted, Succeeded or Failed for item `index` of Map state `name`; an open one can be aborted. */
  iteration(outcome, name, index) {
    const key = `${name}[${index}]`;
    if (outcome === 'Started') this.open.set(key, 'MapIteration');
    else this.open.delete(key);
    this.add(`MapIteration${outcome}`, { [`mapIteration${outcome}EventDetails`]: { name, index } });
  }

  /** How many items the Map state entered now iterates over (its ItemsPath read from its raw input). */
  mapLength(state) {
    const itemsPath = this.maps.get(state.name)?.ItemsPath;
    const items = itemsPath ? path(state.input, itemsPath) : state.input;
    return Array.isArray(items) ? items.length : 0;
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
    for (const [key, type] of [...this.open].reverse()) {
      if (type === 'MapIteration') {
        const [, name, index] = key.match(/^(.*)\[(\d+)\]$/);
        this.add('MapIterationAborted', { mapIterationAbortedEventDetails: { name, index: Number(index) } });
      } else {
        this.add(`${type}StateAborted`);
      }
    }
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
    delete details.parameters; // a TaskScheduled's, which hold the child's input
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
