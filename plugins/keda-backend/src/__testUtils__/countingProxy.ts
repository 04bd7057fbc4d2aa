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
    close: () =>
      new Promise(resolve => {
        sockets.forEach(s => s.destroy());
        server.close(() => resolve());
      }),
  };
}
