// `make demo`: one build goes from the manifest upload to live, on this machine, with the real state
// machine and functions, and days of Microsoft's certification compressed into seconds.
// Environment: DEMO_PACE_MS (real pause per simulated wait, default 80), DEMO_NAME (log folder),
// DEMO_API (cpp, the default, or productIngestion: the Microsoft API the offer is published through).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT, allStates, loadDefinition } from './lib/definition.mjs';
import { planVersions } from './lib/emulator.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { productVersions, testProduct } from './lib/products.mjs';
import { isInterrupted } from './lib/procs.mjs';
import { Pipeline, countByEndpoint } from './lib/pipeline.mjs';
import { BUCKET, startStack } from './lib/stack.mjs';
import { timelineSvg } from './lib/timeline.mjs';

const pace = Number(process.env.DEMO_PACE_MS ?? 80);
const API = process.env.DEMO_API || 'cpp';
const API_NAME = { cpp: 'the Cloud Partner Portal API', productIngestion: 'the Product Ingestion API' }[API];
const events = (name) => JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'events', name), 'utf8'));

// Nothing the demo prints may carry a SAS signature, whatever a message quotes.
const redact = (text) => String(text).replace(/([?&]sig=)[^&\s"\\]+/gi, '$1REDACTED');
const say = (text = '') => isInterrupted() || process.stdout.write(`${redact(text)}\n`);

/** "5 min", "7 min 30 s", "6 h", "1 d 12 h". */
function duration(seconds) {
  const parts = [];
  let left = Math.round(seconds);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1]]) {
    if (left >= size && parts.length < 2) {
      parts.push(`${Math.floor(left / size)} ${unit}`);
      left %= size;
    }
  }
  return parts.join(' ') || '0 s';
}

/** Simulated time since the upload, as "day 2 06:15". */
function stamp(seconds) {
  const day = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  const hh = String(Math.floor(rest / 3_600)).padStart(2, '0');
  const mm = String(Math.floor((rest % 3_600) / 60)).padStart(2, '0');
  return `day ${day} ${hh}:${mm}`;
}

// The states that compose and send a notice (the Pass that names the event, Notify and its branch, and
// CompleteError): the notification line tells all they did.
const NOTICE_STATES = (() => {
  const definition = loadDefinition();
  const names = new Set();
  for (const [name, state] of allStates(definition)) {
    if (state.Type === 'Parallel' || (state.Type === 'Pass' && state.ResultPath === '$.notice')) names.add(name);
    for (const branch of state.Branches ?? []) for (const inner of Object.keys(branch.States)) names.add(inner);
  }
  return names;
})();

/**
 * Prints a run as it goes: one line per state (Choice, Wait and notice states aside: each function's line
 * says what it found and when the next look is), and keeps what the timeline picture shows.
 */
class Narrator {
  constructor() {
    this.elapsed = 0;
    this.checks = [];
    this.notices = [];
  }

  line(state, detail = '') {
    say(`  ${stamp(this.elapsed).padEnd(12)}  ${state.padEnd(24)}  ${detail}`);
  }

  onEvent = (event) => {
    const state = event.state?.name ?? event.state;
    switch (event.type) {
      case 'StateEntered':
        return this.entered(event.state);
      case 'StateExited':
        return event.state.type === 'Task' && !NOTICE_STATES.has(event.state.name) && this.taskDone(event.state.name, event.state.output);
      case 'StateFailed':
        if (event.state.type !== 'Task') return;
        return this.line(state, `failed: ${event.Error}: ${errorMessage(event.Cause)}`);
      case 'StateRetried':
        return this.line(state, `retrying (Retry on ${event.retry.retrier.ErrorEquals.join(', ')}, attempt ${event.retry.attempt})`);
      case 'ClockAdvanced':
        this.elapsed += event.seconds;
        if (event.reason === 'retry') this.line(state, `(the retry waited ${duration(event.seconds)}, simulated)`);
        return;
      case 'NotificationSent':
        this.notices.push({ seconds: this.elapsed, event: event.message.event });
        return this.line('Notify', `notification "${event.subject}": ${event.message.summary}`);
      default:
    }
  };

  entered({ name, type, input }) {
    // Tasks are told when they finish, with the wait that follows them.
    if (type === 'Choice' || type === 'Task' || type === 'Wait' || NOTICE_STATES.has(name)) return;
    if (type === 'Succeed') return this.line(name, 'execution succeeded');
    if (type === 'Fail') return this.line(name, `execution failed: ${input.error?.Error}`);
    if (name.startsWith('Record')) return this.line(name, 'recording the failure');
    this.line(name);
  }

  taskDone(name, output) {
    const state = output ?? {};
    if (name === 'UpdateAndPublish') {
      const what = state.changed ? `added ${state.version} to plan ${state.planId}` : `${state.version} already in the draft: nothing written`;
      const retired = [...(state.evictedVersions ?? []), ...(state.deprecatedVersions ?? [])];
      const evicted = retired.length ? `, ${state.deprecatedVersions?.length ? 'deprecated' : 'evicted'} ${retired.join(', ')}` : '';
      if (state.queue) return this.line(name, `the offer is busy (${state.queue.waitingFor}); next try in ${duration(state.nextCheckSeconds)}`);
      return this.line(name, `${what}${evicted}; publish running (operation ${shortId(state.operation)}) · first check in ${duration(state.nextCheckSeconds)}`);
    }
    if (name === 'CheckLastOperation') {
      const progress = state.progressPercentage === undefined ? '' : ` ${state.progressPercentage}%`;
      const step = state.step ? ` · ${state.step}${progress}` : '';
      const status = state.operationStatus === 'succeeded' ? (state.operation?.kind === 'goLive' ? 'LIVE' : 'PREVIEW READY') : state.operationStatus;
      this.checks.push({ seconds: this.elapsed, stage: state.step ?? status });
      const next = state.operationStatus === 'running' ? ` · next check in ${duration(state.nextCheckSeconds)}` : '';
      return this.line(name, `${status}${step} · check ${state.pollCount}${next}`);
    }
    if (name === 'ValidateAndGoLive') {
      const detail = state.outcome === 'goLiveStarted'
        ? `preview holds ${state.version}; go-live running (operation ${shortId(state.operation)}) · first check in ${duration(state.nextCheckSeconds)}`
        : `preview lacks ${state.version}: it is published first`;
      return this.line(name, detail);
    }
    this.line(name, 'done');
  }
}

const shortId = (operation) => (operation?.id ?? '?').slice(0, 8);
function errorMessage(cause) {
  try {
    return JSON.parse(cause).errorMessage ?? cause;
  } catch {
    return cause;
  }
}

async function main() {
  const started = Date.now();
  if (!API_NAME) throw new Error(`DEMO_API=${API}: use cpp or productIngestion`);
  say('marketplace-publisher demo: one VM image from the manifest upload to live in the Azure Marketplace');
  say('  no AWS, no Azure: the four functions answer through `cargo lambda watch`, moto_server stands in for S3 and');
  say(`  Step Functions, the emulator for Microsoft (${API_NAME}); aws-local-stepfunctions runs infra/statemachine/publish.asl.json.`);
  say('  Microsoft takes days; here every wait moves the emulator\'s clock instead of the real one.');
  say();
  const stack = await startStack({ name: process.env.DEMO_NAME ?? 'demo', log: (m) => say(m) });
  try {
    await demo(stack, started);
  } finally {
    await stack.stop();
    say('stack stopped.');
  }
}

async function demo(stack, started) {
  const pipeline = new Pipeline(stack);
  say(`  emulator ${stack.emulatorUrl} · moto ${stack.motoUrl} · cargo lambda watch ${stack.watchUrl}`);
  say(`  logs: ${stack.logDir}`);
  say();

  // The sample manifest and S3 event of infra/events, with the SAS valid a year from today.
  const manifest = events('manifest-direct.json');
  if (API === 'productIngestion') {
    // A Partner Center offer: no publisher, and the manifest names its API.
    delete manifest.publisherId;
    manifest.api = API;
  }
  const inAYear = new Date(Date.now() + 365 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  manifest.osVhdUrl = manifest.osVhdUrl.replace(/se=[^&]+/, `se=${encodeURIComponent(inAYear)}`);
  const event = events('s3-notification.json');
  const { key } = event.Records[0].s3.object;
  const history = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];
  if (API === 'productIngestion') {
    await stack.emulator.seedProduct(testProduct(manifest.offerId, history));
    say(`Microsoft's side (the emulator): Partner Center offer ${manifest.offerId}, plan ${PLAN} holds ${history.join(', ')}, all live.`);
  } else {
    await stack.emulator.seedOffer(testOffer(manifest.offerId, history));
    say(`Microsoft's side (the emulator): offer ${PUBLISHER}/${manifest.offerId}, plan ${PLAN} holds ${history.join(', ')}.`);
  }
  say();

  say(`1. CI uploads the build manifest to s3://${BUCKET}/${key}`);
  say(`   ${manifest.offerId} plan ${manifest.planId} version ${manifest.version}, goLive ${manifest.goLive}, image ${manifest.osVhdUrl.split('?')[0]}`);
  await stack.moto.putObject(BUCKET, key, JSON.stringify(manifest, null, 2));
  const delivered = await pipeline.deliver(event);
  if (!delivered.ok) throw new Error(`build-finished refused the manifest: ${delivered.errorType}: ${delivered.errorMessage}`);
  const [start] = delivered.payload.started;
  say(`   S3 ObjectCreated:Put -> build-finished -> StartExecution ${start.name}`);
  const again = await pipeline.deliver(event);
  say(`   (the same event delivered again: ${again.payload?.started?.length === 1 && again.payload.started[0].name === start.name ? 'the same execution, nothing new started' : JSON.stringify(again.payload)})`);
  say();

  const narrator = new Narrator();
  say('2. The publish execution: add the version, publish to preview, follow certification');
  const execution = (await pipeline.executions()).find((e) => e.executionArn === start.executionArn);
  const preview = await pipeline.run(execution, { onEvent: narrator.onEvent, waitMs: pace });
  finished(preview);
  say();

  const pause = 14 * 3_600;
  await stack.emulator.advanceClock(pause);
  narrator.elapsed += pause;
  say(`3. ${duration(pause)} later, a release engineer has checked the preview and starts the go-live`);
  say('   (mpub go-live <publish execution ARN>: same input, action goLive)');
  const live = await pipeline.goLive(execution, { onEvent: narrator.onEvent, waitMs: pace });
  finished(live);
  say();

  await summary(stack, manifest, [preview, live], narrator.elapsed, started);
  const picture = `${stack.logDir}/timeline.svg`;
  const title = `${manifest.offerId} plan ${manifest.planId} version ${manifest.version}: upload to live over ${duration(narrator.elapsed)} (simulated)`;
  writeFileSync(picture, timelineSvg({ title, checks: narrator.checks, notices: narrator.notices, totalSeconds: narrator.elapsed }));
  say(`  timeline: ${picture}`);
}

function finished(run) {
  if (run.status !== 'SUCCEEDED') {
    say(`   the execution ended ${run.status}: ${run.error}: ${run.cause}`);
    throw new Error(`the demo's execution ended ${run.status}`);
  }
}

/** What the offer holds now, and its operations, as the API of the demo shows them. */
async function offerSummary(stack, manifest) {
  if (API === 'productIngestion') {
    const product = await stack.emulator.product(manifest.offerId);
    say(`  ${manifest.offerId} plan ${PLAN}:`);
    for (const target of ['draft', 'preview', 'live']) say(`    ${target.padEnd(10)} ${productVersions(product[target]).join(', ')}`);
    say('  submissions of the product:');
    for (const s of product.submissions.filter((e) => e.status)) say(`    ${s.target.targetType.padEnd(8)} ${s.id.split('/').at(-1)}  ${s.status}/${s.result}`);
    return;
  }
  const offer = await stack.emulator.offer(PUBLISHER, manifest.offerId);
  const { body: submissions } = await stack.emulator.api('GET', `/api/publishers/${PUBLISHER}/offers/${manifest.offerId}/submissions`);
  say(`  ${manifest.offerId} plan ${PLAN}:`);
  for (const slot of ['draft', 'preview', 'production']) say(`    ${slot.padEnd(10)} ${planVersions(offer[slot], PLAN).join(', ')}`);
  say('  operations on the offer (newest first):');
  for (const s of submissions) say(`    ${s.submissionType.padEnd(8)} ${s.id.slice(0, 8)}  ${s.submissionState}  (${s.slot} slot)`);
}

async function summary(stack, manifest, runs, elapsed, started) {
  const requests = runs.flatMap((r) => r.requests);
  const simulated = runs.reduce((sum, r) => sum + r.simulated.waitSeconds + r.simulated.retrySeconds, 0);
  const checks = runs.reduce((sum, r) => sum + r.simulated.waits, 0);
  say('Summary');
  await offerSummary(stack, manifest);
  say(`  executions: ${runs.map((r) => `${r.status.toLowerCase()} in ${r.states.length} states`).join(', then ')}`);
  say(`  time: ${duration(elapsed)} simulated (${duration(simulated)} of it waiting, in ${checks} checks), ${((Date.now() - started) / 1000).toFixed(1)} s real`);
  say(`  ${API === 'cpp' ? 'CPP' : 'Product Ingestion'} API calls: ${requests.length} (${requests.filter((r) => r.status === 401).length} answered 401)`);
  const counts = Object.entries(countByEndpoint(requests)).sort((a, b) => b[1] - a[1]);
  for (const [endpoint, count] of counts) say(`    ${String(count).padStart(4)}  ${endpoint}`);
  say(`  notifications: ${runs.flatMap((r) => r.notifications.map((n) => n.message.event)).join(', ')}`);
}

main().catch((e) => {
  say(`demo failed: ${e.message}`);
  process.exitCode = 1;
});
