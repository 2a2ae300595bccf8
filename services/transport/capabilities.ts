// PROTOCOL.md §13: publishing the device's interfaces before connecting, and again only when
// something changed (the SDK keeps the last accepted body with endpoint and ids, and skips the PUT
// when all are the same).
import { createHash } from 'node:crypto';
import { INTERFACES } from '../../machines/catalog';
import type { KeyValueStore } from '../store/kv';
import { oneShot } from './one-shot';

export const CAPABILITIES_PATH = '/v1/devices/@self/capabilities';

export interface CapabilityEntry {
  readonly type: 'AlexaInterface';
  readonly interface: string;
  readonly version: string;
  readonly configurations?: Record<string, unknown>;
}

export interface CapabilitiesDocument {
  readonly envelopeVersion: '20160207';
  readonly capabilities: readonly CapabilityEntry[];
}

/** §13: the body for the interfaces this runtime implements, at their versions (§3). */
export function capabilitiesDocument(options: { maximumAlerts?: { overall: number; alarms: number; timers: number } } = {}): CapabilitiesDocument {
  return {
    envelopeVersion: '20160207',
    capabilities: INTERFACES.map((spec) => ({
      type: 'AlexaInterface' as const,
      interface: spec.namespace,
      version: spec.version,
      ...(spec.namespace === 'Alerts' ? { configurations: { maximumAlerts: options.maximumAlerts ?? { overall: 30, alarms: 15, timers: 15 } } } : {}),
    })),
  };
}

/**
 * §13 regional hosts for Amazon's endpoints; any other endpoint (a private one, the simulator)
 * serves the capabilities path itself.
 */
export function capabilitiesUrlFor(endpoint: string): string {
  const host = new URL(endpoint).hostname;
  const amazon = /(^|\.)(amazon\.com|a2z\.com)$/.test(host);
  if (!amazon) return new URL(CAPABILITIES_PATH, endpoint).toString();
  const region = /(^|[.-])(eu|fe)([.-])/.exec(host)?.[2];
  return `https://api.${region ? `${region}.` : ''}amazonalexa.com${CAPABILITIES_PATH}`;
}

export interface PublisherOptions {
  readonly document: CapabilitiesDocument;
  readonly token: () => string | undefined;
  /** What identifies the device: a change of any of them means publishing again (§13). */
  readonly identity: { readonly clientId: string; readonly productId: string; readonly deviceSerialNumber: string };
  readonly store: KeyValueStore;
  readonly ca?: string | Buffer;
  /** §16 #7: the SDK sends `x-amz-access-token`; others send `Authorization: Bearer`. */
  readonly authHeader?: 'x-amz-access-token' | 'authorization';
  /** Where to PUT; by default derived from the AVS endpoint. */
  readonly url?: (endpoint: string) => string;
  readonly timeoutMs?: number;
}

const STORE_KEY = 'capabilities.published';

export class CapabilitiesPublisher {
  constructor(private readonly options: PublisherOptions) {}

  /** PUTs the document unless exactly this was accepted before; resolves with the status (204 when skipped). */
  async publish(endpoint: string): Promise<{ status: number; skipped: boolean }> {
    const body = JSON.stringify(this.options.document);
    const url = (this.options.url ?? capabilitiesUrlFor)(endpoint);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([body, url, this.options.identity]))
      .digest('hex');
    if (this.options.store.get(STORE_KEY) === fingerprint) return { status: 204, skipped: true };
    const status = await this.put(url, body);
    if (status >= 200 && status < 300) this.options.store.set(STORE_KEY, fingerprint);
    return { status, skipped: false };
  }

  private async put(url: string, body: string): Promise<number> {
    const token = this.options.token() ?? '';
    const auth = (this.options.authHeader ?? 'x-amz-access-token') === 'authorization' ? { authorization: `Bearer ${token}` } : { 'x-amz-access-token': token };
    const res = await oneShot({
      url,
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth },
      body,
      ca: this.options.ca,
      timeoutMs: this.options.timeoutMs,
    });
    return res.status;
  }
}
