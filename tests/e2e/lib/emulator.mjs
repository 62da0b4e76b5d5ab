// The emulator's control API (/_emulator/, both APIs), plus the plain CPP calls a scenario makes
// as "someone else" (another person's publish on the offer).

export class Emulator {
  constructor(baseUrl, { clientId, clientSecret }) {
    this.baseUrl = baseUrl;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
  }

  async control(method, path, body) {
    const response = await fetch(`${this.baseUrl}/_emulator${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  seedOffer(offer) {
    return this.control('POST', '/offers', offer);
  }

  /** `{draft, preview, production, eTag, versions}` of one offer. */
  offer(publisherId, offerId) {
    return this.control('GET', `/offers/${publisherId}/${offerId}`);
  }

  /** Seeds a Product Ingestion product from a resource tree (lib/products.mjs), already live as its draft. */
  seedProduct(tree) {
    return this.control('POST', '/ingestion/products?published=true', tree);
  }

  /** `{productId, draft, preview, live, submissions, jobs}` of one Product Ingestion offer. */
  product(offerId) {
    return this.control('GET', `/ingestion/products/${offerId}`);
  }

  /** The next preview submission of the product fails certification. */
  failCertification(offerId, times = 1) {
    return this.control('POST', '/ingestion/certification/fail', { externalId: offerId, times });
  }

  async clock() {
    return this.remember(await this.control('GET', '/clock'));
  }

  async advanceClock(seconds) {
    return this.remember(await this.control('POST', '/clock', { advanceSeconds: seconds }));
  }

  /**
   * The emulator's virtual time (ms since the epoch) as of its last clock answer, run on by its scale
   * (0 here: frozen, it moves only when advanced); null before the first. Read without a request, so
   * events can be stamped with it as they happen.
   */
  knownTime() {
    const known = this.knownClock;
    return known ? known.virtualMs + (Date.now() - known.readAtMs) * known.scale : null;
  }

  remember(state) {
    const virtualMs = Date.parse(state.now);
    // Answers to calls made at once may arrive out of order: the clock never goes back.
    if (!(this.knownClock?.virtualMs > virtualMs)) this.knownClock = { virtualMs, readAtMs: Date.now(), scale: state.scale };
    return state;
  }

  failAtStep(publisherId, offerId, stepId, messageHtml) {
    return this.control('POST', '/operations/fail', { publisherId, offerId, stepId, messageHtml });
  }

  addFault(fault) {
    return this.control('POST', '/faults', fault);
  }

  clearFaults() {
    return this.control('DELETE', '/faults');
  }

  requests() {
    return this.control('GET', '/requests');
  }

  clearRequests() {
    return this.control('DELETE', '/requests');
  }

  /** A CPP API call with a fresh token, as another tool or person would make it. */
  async api(method, path) {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      client_secret: this.clientSecret,
      resource: 'https://cloudpartner.azure.com',
    });
    const token = await fetch(`${this.baseUrl}/someone-else/oauth2/token`, { method: 'POST', body: form });
    if (!token.ok) throw new Error(`token: ${token.status} ${await token.text()}`);
    const { access_token: accessToken } = await token.json();
    const response = await fetch(`${this.baseUrl}${path}?api-version=2017-10-31`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ metadata: { 'notification-emails': 'someone@contoso.com' } }) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`CPP ${method} ${path}: ${response.status} ${text}`);
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }
}

/** Versions of `planId`'s images in an offer document (a slot as the emulator returns it). */
export function planVersions(document, planId) {
  const plan = document?.definition?.plans?.find((p) => p.planId === planId);
  return Object.keys(plan?.['microsoft-azure-virtualmachines.vmImages'] ?? {});
}
