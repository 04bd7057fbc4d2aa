import http from 'node:http';
import { parseOutageRequest } from './outages';
import { startKubernetesStandIn, KubernetesStandIn } from './server';

jest.setTimeout(30_000);

const TOKEN = 'outages-test-token';

let standIn: KubernetesStandIn;

beforeEach(async () => {
  standIn = await startKubernetesStandIn({
    port: 0,
    tokens: [TOKEN],
    bookmarkIntervalMs: 50,
  });
});

afterEach(async () => {
  await standIn.close();
});

async function outage(body: unknown) {
  const res = await fetch(`${standIn.url}/_sandbox/outages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

interface Stream {
  status: Promise<number>;
  lines: any[];
  /** Resolves with how the response ended: 'end' (clean) or 'error'. */
  ended: Promise<'end' | 'error'>;
  abort(): void;
}

/** A raw HTTP GET that records the response's lines and how it ended. */
function get(path: string): Stream {
  const lines: any[] = [];
  let resolveStatus: (n: number) => void;
  const status = new Promise<number>(r => {
    resolveStatus = r;
  });
  let req!: http.ClientRequest;
  const ended = new Promise<'end' | 'error'>(resolve => {
    req = http.get(
      `${standIn.url}${path}`,
      { headers: { Authorization: `Bearer ${TOKEN}` } },
      res => {
        resolveStatus(res.statusCode ?? 0);
        let buffer = '';
        res.on('data', chunk => {
          buffer += chunk;
          const parts = buffer.split('\n');
          buffer = parts.pop()!;
          for (const p of parts) if (p) lines.push(JSON.parse(p));
        });
        res.on('end', () => resolve('end'));
        res.on('error', () => resolve('error'));
        res.on('aborted', () => resolve('error'));
      },
    );
    req.on('error', () => resolve('error'));
  });
  return { status, lines, ended, abort: () => req.destroy() };
}

const settle = (ms: number) => new Promise(r => setTimeout(r, ms));

const WATCH = '/apis/keda.sh/v1alpha1/scaledobjects?watch=true';

describe('outage knobs (/_sandbox/outages)', () => {
  it('validates requests and names the field', async () => {
    expect((await outage({ outage: 'flood' })).body.error).toBe(
      'outage must be one of drop, down, gone, half-open',
    );
    expect((await outage({ outage: 'down' })).body.error).toMatch(
      /^durationMs must be an integer/,
    );
    expect(() => parseOutageRequest({ outage: 'drop', durationMs: 5 })).toThrow(
      'drop is instantaneous',
    );
    expect(() => parseOutageRequest({ outage: 'gone', durationMs: 5 })).toThrow(
      'gone is instantaneous',
    );
    expect(() =>
      parseOutageRequest({ outage: 'down', durationMs: 5, headers: true }),
    ).toThrow('headers only applies to half-open');
    expect((await outage({ outage: 'down' })).status).toBe(400);
  });

  it('drop cuts open watches mid-stream (no clean end) and counts them', async () => {
    const watch = get(WATCH);
    expect(await watch.status).toBe(200);
    await settle(20);
    expect(standIn.outages().open.watches).toBe(1);
    const { body } = await outage({ outage: 'drop' });
    expect(body.counters.watchesCut).toBe(1);
    expect(await watch.ended).toBe('error');
    expect(standIn.outages().open.watches).toBe(0);
    // The server itself is fine.
    const again = get(`${WATCH}&timeoutSeconds=1`);
    expect(await again.status).toBe(200);
    again.abort();
  });

  it('down refuses connections for its duration, then serves again by itself', async () => {
    const watch = get(WATCH);
    expect(await watch.status).toBe(200);
    const { body } = await outage({ outage: 'down', durationMs: 400 });
    expect(body.active).toEqual([
      { outage: 'down', endsInMs: expect.any(Number) },
    ]);
    expect(await watch.ended).toBe('error');
    await expect(fetch(`${standIn.url}/version`)).rejects.toThrow();
    expect(standIn.outages().counters.connectionsRefused).toBeGreaterThan(0);
    await settle(500);
    expect((await fetch(`${standIn.url}/version`)).status).toBe(200);
    expect(standIn.outages().active).toEqual([]);
  });

  it('gone ends open watches and answers every resume, even from the latest resourceVersion, with an in-stream 410; a re-list resumes fine', async () => {
    const { resourceVersion } = standIn.store.list('scaledobjects');
    const watch = get(`${WATCH}&resourceVersion=${resourceVersion}`);
    expect(await watch.status).toBe(200);
    await settle(20);
    expect((await outage({ outage: 'gone' })).body.active).toEqual([]);
    expect(await watch.ended).toBe('end');

    const resumed = get(`${WATCH}&resourceVersion=${resourceVersion}`);
    expect(await resumed.ended).toBe('end');
    expect(resumed.lines).toEqual([
      {
        type: 'ERROR',
        object: expect.objectContaining({ code: 410, reason: 'Expired' }),
      },
    ]);
    const relisted = standIn.store.list('scaledobjects').resourceVersion;
    const fresh = get(
      `${WATCH}&allowWatchBookmarks=true&resourceVersion=${relisted}`,
    );
    expect(await fresh.status).toBe(200);
    await settle(120);
    expect(fresh.lines.some(l => l.type === 'BOOKMARK')).toBe(true);
    fresh.abort();
    expect(standIn.outages().counters).toMatchObject({
      goneAnswered: 1,
      watchResumes: 3,
    });
  });

  it.each([true, false])(
    'half-open (headers: %s) silences open watches and holds new requests unanswered, then serves new ones again',
    async headers => {
      const watch = get(`${WATCH}&allowWatchBookmarks=true`);
      expect(await watch.status).toBe(200);
      await outage({ outage: 'half-open', durationMs: 400, headers });
      await settle(30);
      const seen = watch.lines.length;
      const held = get('/apis/keda.sh/v1alpha1/scaledobjects');
      let status: number | undefined;
      held.status.then(s => {
        status = s;
      });
      await settle(250);
      // No bookmark, no end, no error on the silenced watch.
      expect(watch.lines.length).toBe(seen);
      expect(status).toBe(headers ? 200 : undefined);
      expect(held.lines).toEqual([]);
      expect(standIn.outages().open).toMatchObject({ watches: 0, silent: 2 });
      await settle(250);
      // After the outage new requests are answered; the silent ones stay silent.
      const list = await fetch(
        `${standIn.url}/apis/keda.sh/v1alpha1/scaledobjects`,
        { headers: { Authorization: `Bearer ${TOKEN}` } },
      );
      expect(list.status).toBe(200);
      expect(watch.lines.length).toBe(seen);
      // Only the client can give up on them.
      watch.abort();
      held.abort();
      await settle(50);
      expect(standIn.outages().open.silent).toBe(0);
      expect(standIn.outages().counters).toMatchObject({
        requestsHeld: 1,
        watchesSilenced: 1,
      });
    },
  );

  it('counts lists and watches per resource', async () => {
    await fetch(`${standIn.url}/apis/keda.sh/v1alpha1/scaledobjects`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const watch = get(`${WATCH}&timeoutSeconds=1`);
    await watch.status;
    watch.abort();
    const res = await fetch(`${standIn.url}/_sandbox/outages`);
    expect((await res.json()).counters).toMatchObject({
      lists: { scaledobjects: 1 },
      watches: { scaledobjects: 1 },
    });
  });
});
