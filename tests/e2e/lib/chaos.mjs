// A seeded chaos run: the whole pipeline, executions one after another over several offers, plans and
// versions, with faults injected at random (on a fixed seed) before function calls. Used by
// reliability.test.mjs (a short run in `make test`) and chaos.mjs (`make chaos`, a long one with figures).
import { planVersions } from './emulator.mjs';
import { PUBLISHER, testOffer } from './offers.mjs';
import { manifest } from './pipeline.mjs';

/**
 * The errorTypes of shared::workflow (README "Errors"), and the names Lambda gives a function it ended
 * (a timeout, a process that died) once the state machine's retries are spent: every failed execution
 * must end with one.
 */
export const NAMED_ERRORS = [
  'InvalidInput', 'ConfigError', 'OfferNotFound', 'PlanNotFound', 'VersionConflict', 'VersionNotHigher',
  'OfferBusy', 'Throttled', 'Transient', 'WriteConflict', 'Unauthorized', 'Rejected',
  'OperationFailed', 'PollLimitExceeded', 'Sandbox.Timedout', 'Runtime.ExitError', 'Lambda.Unknown',
];

/** mulberry32: a small seeded PRNG, so a seed replays the same run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (rand, list) => list[Math.floor(rand() * list.length)];

// Where a fault may hit, per function (paths relative to the offer; '' = the offer document itself).
const TARGETS = {
  'update-and-publish': [['GET', '/submissions'], ['GET', ''], ['PUT', ''], ['POST', '/publish']],
  'check-last-operation': [['GET', '/operations/'], ['GET', '/slot/']],
  'validate-and-go-live': [['GET', '/submissions'], ['GET', '/slot/'], ['POST', '/golive'], ['GET', '/operations/']],
};

/** One random fault for the call about to be made to `fn` on `offerId`, or null. */
function randomFault(rand, fn, offerId, serial) {
  const offerPath = `/api/publishers/${PUBLISHER}/offers/${offerId}`;
  const kinds = ['429', '503burst', 'delay', 'dropBefore', 'dropAfter', 'concurrentWrite', 'token429', 'lambdaTimeout', 'lambdaKilled'];
  const kind = pick(rand, kinds);
  // Lambda itself ends the call: after the function's writes (a timeout) or before any (a dead process).
  if (kind === 'lambdaTimeout') return { kind, lambda: 'timeout' };
  if (kind === 'lambdaKilled') return { kind, lambda: 'killed' };
  if (kind === 'token429') return { kind, fault: { method: 'POST', pathContains: '/oauth2/token', times: 1, action: { status: 429, retryAfter: '1' } } };
  if (kind === 'concurrentWrite') {
    // Someone edits the offer in the portal just before our next write: a 412, re-applied on a fresh read.
    const note = `chaos-${serial}`;
    return {
      kind,
      note,
      fault: {
        method: 'PUT',
        pathContains: offerPath,
        times: 1,
        action: { concurrentWrite: { pointer: '/definition/offer', patch: { 'microsoft-azure-marketplace.chaosNote': note } } },
      },
    };
  }
  const [method, suffix] = pick(rand, TARGETS[fn]);
  const where = { method, pathContains: `${offerPath}${suffix}` };
  switch (kind) {
    case '429':
      return { kind, fault: { ...where, times: 1, action: { status: 429, retryAfter: '1' } } };
    case '503burst':
      return { kind, fault: { ...where, times: 1 + Math.floor(rand() * 3), action: { status: 503 } } };
    case 'delay':
      // Well below the client's 30 s request timeout.
      return { kind, fault: { ...where, times: 1, action: { delayMs: 100 + Math.floor(rand() * 300) } } };
    case 'dropBefore':
      return { kind, fault: { ...where, times: 1, action: { drop: 'beforeHandling' } } };
    default:
      return { kind, fault: { ...where, times: 1, action: { drop: 'afterHandling' } } };
  }
}

/**
 * Runs `executions` executions on `seed` against a running stack (`pipeline` from lib/pipeline.mjs):
 * offers of 3 versions per plan and two plans each; half the publishes go live automatically, the others
 * are taken live by a separate go-live execution. Before each function call a fault is injected with
 * probability `faultRate`. Returns the figures and every check that failed (`problems`, empty when all
 * held).
 */
export async function chaosRun({ stack, pipeline, seed = 1, executions = 8, faultRate = 0.35, prefix = 'chaos' }) {
  const rand = prng(seed);
  const figures = { seed, executions: 0, faults: {}, outcomes: {}, documents: 0, faultedRequests: 0 };
  const problems = [];
  const offers = new Map(); // offerId -> {plans: {gen1: [...], gen2: [...]}, live: Set, notes: []}
  let serial = 0;
  let planned = 0;
  const seeded = (offerId) => testOffer(offerId, ['1.0.0']);

  const beforeInvoke = (offerId, state) => async ({ function: fn }) => {
    if (!TARGETS[fn] || rand() >= faultRate) return;
    const chosen = randomFault(rand, fn, offerId, ++serial);
    figures.faults[chosen.kind] = (figures.faults[chosen.kind] ?? 0) + 1;
    if (chosen.lambda) return { lambda: chosen.lambda };
    await stack.emulator.addFault(chosen.fault);
    if (chosen.note) state.notes.push(chosen.note);
  };
  const record = (label, run) => {
    figures.executions += 1;
    const outcome = run.status === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED ${run.error}`;
    figures.outcomes[outcome] = (figures.outcomes[outcome] ?? 0) + 1;
    figures.faultedRequests += run.requests.filter((r) => r.fault).length;
    if (run.status !== 'SUCCEEDED' && !NAMED_ERRORS.includes(run.error)) problems.push(`${label}: ended ${run.status} with unnamed error ${run.error}: ${run.cause}`);
    if (run.status !== 'SUCCEEDED' && !run.notifications.some((n) => n.message?.event === 'failed')) problems.push(`${label}: failed without a failed notification`);
  };

  while (planned < executions) {
    const offerId = `${prefix}-${seed}-${offers.size + 1}`;
    await stack.emulator.seedOffer(seeded(offerId));
    const state = { plans: { gen1: ['0.9.0'], gen2: ['1.0.0'] }, succeeded: { gen1: [], gen2: [] }, live: new Set(), notes: [] };
    offers.set(offerId, state);
    // Three builds per offer, on a random plan each; versions go up per plan.
    for (let build = 0; build < 3 && planned < executions; build++) {
      const planId = rand() < 0.5 ? 'gen1' : 'gen2';
      const [major] = state.plans[planId].at(-1).split('.').map(Number);
      const version = `${major + 1}.${build}.0`;
      state.plans[planId].push(version);
      const goLive = rand() < 0.5 ? 'auto' : 'manual';
      const label = `${offerId} ${planId} ${version} (${goLive})`;
      const run = await pipeline.publish(manifest({ offerId, planId, version, goLive }), { beforeInvoke: beforeInvoke(offerId, state) });
      await stack.emulator.clearFaults();
      planned += 1;
      record(label, run);
      if (run.status !== 'SUCCEEDED') continue;
      let live = goLive === 'auto';
      if (!live) {
        // A person takes it live: a go-live execution, under faults too.
        const golive = await pipeline.goLive(run.execution, { beforeInvoke: beforeInvoke(offerId, state) });
        await stack.emulator.clearFaults();
        planned += 1;
        record(`${label} go-live`, golive);
        live = golive.status === 'SUCCEEDED';
      }
      state.succeeded[planId].push(version);
      if (live) state.live.add(`${planId}/${version}`);
    }
  }

  // The documents: every succeeded version in its plan's draft and preview, every live one in
  // production, the seeded unknown fields and the other writers' changes intact.
  for (const [offerId, state] of offers) {
    const doc = await stack.emulator.offer(PUBLISHER, offerId);
    const seed0 = seeded(offerId);
    for (const planId of ['gen1', 'gen2']) {
      for (const slot of ['draft', 'preview']) {
        const have = planVersions(doc[slot], planId);
        for (const v of state.succeeded[planId]) if (!have.includes(v)) problems.push(`${offerId}: ${slot} ${planId} lacks succeeded ${v} (has ${have})`);
      }
      const production = planVersions(doc.production, planId);
      for (const key of state.live) {
        const [p, v] = key.split('/');
        if (p === planId && !production.includes(v)) problems.push(`${offerId}: production ${planId} lacks live ${v} (has ${production})`);
      }
      const draftPlan = doc.draft.definition.plans.find((p) => p.planId === planId);
      const seededPlan = seed0.definition.plans.find((p) => p.planId === planId);
      for (const [k, v] of Object.entries(seededPlan)) {
        if (k === 'microsoft-azure-virtualmachines.vmImages') continue;
        if (JSON.stringify(draftPlan?.[k]) !== JSON.stringify(v)) problems.push(`${offerId}: plan ${planId} field ${k} changed`);
      }
    }
    for (const k of ['offerTypeVersions', 'pcMigrationStatus', 'isvUpgradeRequest']) {
      if (JSON.stringify(doc.draft[k]) !== JSON.stringify(seed0[k])) problems.push(`${offerId}: ${k} changed`);
    }
    for (const [k, v] of Object.entries(seed0.definition.offer)) {
      if (JSON.stringify(doc.draft.definition.offer[k]) !== JSON.stringify(v)) problems.push(`${offerId}: offer field ${k} changed`);
    }
    // Another writer's change (concurrentWrite) survives our writes: the note found is one that was written.
    const note = doc.draft.definition.offer['microsoft-azure-marketplace.chaosNote'];
    if (note !== undefined && !state.notes.includes(note)) problems.push(`${offerId}: unexpected chaosNote ${note}`);
    figures.documents += 1;
  }
  figures.offers = offers.size;
  return { figures, problems };
}
