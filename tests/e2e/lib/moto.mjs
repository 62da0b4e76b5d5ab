// The few S3 and Step Functions calls the harness makes to moto_server, as plain HTTP.
// moto does not check signatures; the Authorization header only tells it which service is meant.

const ACCOUNT = '123456789012';

export class Moto {
  constructor(baseUrl, region) {
    this.baseUrl = baseUrl;
    this.region = region;
  }

  auth(service) {
    return `AWS4-HMAC-SHA256 Credential=testing/20240101/${this.region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
  }

  async s3(method, path, body) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: this.auth('s3'), 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`S3 ${method} ${path}: ${response.status} ${text}`);
    return text;
  }

  async createBucket(bucket) {
    // Outside us-east-1, S3 wants the region named in the request body.
    const body =
      this.region === 'us-east-1'
        ? undefined
        : `<CreateBucketConfiguration><LocationConstraint>${this.region}</LocationConstraint></CreateBucketConfiguration>`;
    await this.s3('PUT', `/${bucket}`, body);
  }

  async putObject(bucket, key, text) {
    await this.s3('PUT', `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, text);
  }

  sfn(action, request) {
    return stepFunctionsCall(this.baseUrl, action, request, { authorization: this.auth('states') });
  }

  async createStateMachine(name, definition) {
    const { stateMachineArn } = await this.sfn('CreateStateMachine', {
      name,
      definition: JSON.stringify(definition),
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-role`,
      type: 'STANDARD',
    });
    return stateMachineArn;
  }

  /** Executions of the state machine, newest first, with their input. */
  async executions(stateMachineArn) {
    const { executions = [] } = await this.sfn('ListExecutions', { stateMachineArn, maxResults: 1000 });
    const described = [];
    for (const { executionArn } of executions) {
      const execution = await this.sfn('DescribeExecution', { executionArn });
      described.push({ ...execution, input: JSON.parse(execution.input) });
    }
    return described;
  }

  async startExecution(stateMachineArn, name, input) {
    return this.sfn('StartExecution', { stateMachineArn, name, input: JSON.stringify(input) });
  }
}

/** One Step Functions API call (AWS JSON 1.0) as plain HTTP; an error is thrown named by its `__type`. */
export async function stepFunctionsCall(baseUrl, action, request, headers = {}) {
  const response = await fetch(`${baseUrl}/`, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AWSStepFunctions.${action}`,
    },
    body: JSON.stringify(request),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(`StepFunctions ${action}: ${response.status} ${JSON.stringify(body)}`);
    error.name = String(body.__type ?? 'StepFunctionsError').split('#').pop();
    error.status = response.status;
    throw error;
  }
  return body;
}
