import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the API server would see, and a way to cut it off. */
export interface CountingProxy {
  url: string;
  requests: Array<{ method: string; path: string; watch: boolean }>;
  retarget(url: string): void;
  dropConnections(): void;
  /** Ends open watch responses cleanly, as an API server does at its watch timeout. */
  endWatches(): void;
  /**
   * Silences open watches without ending them: no more events, no end, no
   * error, like a connection a NAT dropped without telling either side.
   * Returns how many watches with a response it froze.
   */
  freezeWatches(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a Kubernetes API server (stand-in) that records
 * every request, can be pointed at a restarted server, and can drop every
 * open connection (a network blip) without stopping.
 */
export async function startCountingProxy(
  target: string,
): Promise<CountingProxy> {
  let upstream = new URL(target);
  const requests: CountingProxy['requests'] = [];
  const sockets = new Set<Socket>();
  const watches = new Set<http.ServerResponse>();
  const upstreamOf = new Map<http.ServerResponse, http.IncomingMessage>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      watch: url.searchParams.get('watch') === 'true',
    });
    if (url.searchParams.get('watch') === 'true') {
      watches.add(res);
      res.on('close', () => watches.delete(res));
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      response => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        // Watches send headers before any event; pass them on at once.
        res.flushHeaders();
        response.pipe(res);
        upstreamOf.set(res, response);
        res.on('close', () => upstreamOf.delete(res));
      },
    );
    // Upstream unreachable: drop the client connection, as a dead server would.
    forward.on('error', () => req.socket.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  server.on('connection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    retarget: (url: string) => {
      upstream = new URL(url);
    },
    dropConnections: () => sockets.forEach(s => s.destroy()),
    endWatches: () => watches.forEach(w => w.end()),
    freezeWatches: () => {
      let frozen = 0;
      watches.forEach(w => {
        const response = upstreamOf.get(w);
        if (!response) return;
        response.unpipe(w);
        response.pause();
        frozen++;
      });
      return frozen;
    },
    close: () =>
      new Promise(resolve => {
        sockets.forEach(s => s.destroy());
        server.close(() => resolve());
      }),
  };
}
