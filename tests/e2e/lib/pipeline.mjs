// The pipeline as CI and a release engineer drive it: upload a manifest, let the storage event
// reach build-finished, run the execution it started, and later start a go-live.
import { REGION } from './definition.mjs';
import { BUCKET, invokeFunction } from './stack.mjs';
import { runExecution } from './runner.mjs';

/** A SAS URL for an image, far from expiring, with a signature that tests check never leaks. */
export function sasUrl(name) {
  return `https://contosobuilds.blob.core.windows.net/vhds/${name}.vhd?sv=2021-08-06&sr=b&sp=rl&se=2099-01-31T00:00:00Z&sig=SECRETsig-${name}`;
}

/** A build manifest (README, *The build manifest*) for `version` of a plan; `overrides` changes or adds fields. */
export function manifest({ publisherId = 'contoso', offerId, planId = 'gen2', version, goLive = 'manual', ...overrides }) {
  return {
    publisherId,
    offerId,
    planId,
    version,
    osVhdUrl: sasUrl(`${offerId}-${version}`),
    lunVhdDetails: [],
    notificationEmails: 'release@contoso.com',
    goLive,
    ...overrides,
  };
}

export const manifestKey = (m) => `manifests/${m.offerId}/${m.planId}/${m.version}.json`;

/** An S3 "ObjectCreated:Put" notification for an object, as S3 delivers it to the function. */
export function s3Event(key, size = 400) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: REGION,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'build-manifest-uploaded',
          bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodeURIComponent(key).replaceAll('%2F', '/'), size },
        },
      },
    ],
  };
}

export class Pipeline {
  constructor(stack) {
    this.stack = stack;
  }

  /** Puts the manifest (any JSON value, or raw text) into the bucket; returns its key and the event S3 would send. */
  async upload(content, key = manifestKey(content)) {
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    await this.stack.moto.putObject(BUCKET, key, text);
    return { key, event: s3Event(key, Buffer.byteLength(text)) };
  }

  /** Delivers a storage event to build-finished through watch: `{ok, payload}` or the function's error. */
  deliver(event) {
    return invokeFunction(this.stack.watchUrl, 'build-finished', event);
  }

  executions() {
    return this.stack.moto.executions(this.stack.stateMachineArn);
  }

  /** Runs the execution that moto recorded (its input as build-finished wrote it) to its end. */
  async run(execution, options = {}) {
    const logged = (await this.stack.emulator.requests()).length;
    const result = await runExecution({
      stack: this.stack,
      input: execution.input,
      executionArn: execution.executionArn,
      executionName: execution.name,
      ...options,
    });
    // The run is over: moto closes the execution too, so its name cannot be started again (as in AWS).
    await this.stack.moto.sfn('StopExecution', { executionArn: execution.executionArn }).catch(() => {});
    const requests = (await this.stack.emulator.requests()).slice(logged);
    return { ...result, requests, requestCounts: countByEndpoint(requests) };
  }

  /** Upload -> storage event -> build-finished -> the execution it started, run to its end. */
  async publish(content, options = {}) {
    const { key, event } = await this.upload(content);
    const delivered = await this.deliver(event);
    if (!delivered.ok) throw new Error(`build-finished failed for ${key}: ${delivered.errorType}: ${delivered.errorMessage}`);
    const [started] = delivered.payload.started;
    if (!started) throw new Error(`build-finished started nothing for ${key}: ${JSON.stringify(delivered.payload)}`);
    const execution = (await this.executions()).find((e) => e.executionArn === started.executionArn);
    return { delivered, execution, ...(await this.run(execution, options)) };
  }

  /** A person takes a previewed version live: a new execution with the same request and action goLive. */
  async goLive(publishExecution, options = {}) {
    const input = { ...publishExecution.input, action: 'goLive' };
    // Named as mpub go-live names it (shared::workflow::go_live): deterministic, so the same go-live cannot be started twice.
    const name = `golive_${publishExecution.name.slice(-(80 - 'golive_'.length))}`;
    const { executionArn } = await this.stack.moto.startExecution(this.stack.stateMachineArn, name, input);
    return this.run({ executionArn, name, input }, options);
  }
}

/** Requests from the emulator's log counted by method and endpoint: {"GET offer": 3, ...}. */
export function countByEndpoint(requests) {
  const counts = {};
  for (const request of requests) {
    const key = `${request.method} ${endpoint(request.path)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** A request path reduced to its endpoint: ids dropped, so calls group by kind ("offer preview slot"). */
export function endpoint(path) {
  if (path.endsWith('/oauth2/token')) return 'token';
  if (path.startsWith('/rp/product-ingestion/')) return ingestionEndpoint(path.slice('/rp/product-ingestion/'.length));
  if (path.startsWith('/api/operations/')) return 'operation (legacy path)';
  const offer = path.match(/^\/api\/publishers\/[^/]+\/offers\/[^/]+(.*?)\/?$/);
  if (!offer) return path;
  const rest = offer[1];
  if (rest === '') return 'offer';
  if (rest.startsWith('/operations/')) return 'operation';
  if (rest.startsWith('/slot/')) return `offer ${rest.slice('/slot/'.length)} slot`;
  if (rest.startsWith('/versions/')) return 'offer version';
  return rest.slice(1);
}

/** A Product Ingestion path by endpoint: "configure", "configure status", "resource-tree", "submissions". */
function ingestionEndpoint(rest) {
  const [first, ...more] = rest.split('/');
  if (first === 'configure') return more.at(-1) === 'status' ? 'configure status' : more.length ? `configure ${more.at(-1)}` : 'configure';
  if (first === 'submission') return more.length > 1 ? 'submission' : 'submissions';
  if (first === 'virtual-machine-plan-technical-configuration') return 'technical configuration';
  return first;
}
