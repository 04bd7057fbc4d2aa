/*
 * The GitOps loop's own pages (what Argo CD's UI is to Argo CD): every
 * application's last sync, the objects it applied or pruned, and the errors
 * the API server returned — as HTML at `/` and JSON at `/applications`,
 * with a Sync button for a manual refresh.
 */
import express, { Request, Response, Router } from 'express';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApplicationStatus, GitOpsLoop, SyncResult } from './gitOpsLoop';

function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function describeTrigger(trigger: SyncResult['trigger']): string {
  if (trigger.kind === 'merge') {
    return `merge of pull request #${trigger.pullNumber} by ${escapeHtml(
      trigger.mergedBy,
    )}`;
  }
  return trigger.kind === 'refresh' ? 'periodic refresh' : 'manual sync';
}

function applicationHtml(status: ApplicationStatus): string {
  const { application, lastSync } = status;
  const name = escapeHtml(application.name);
  const header = `<h2 id="${name}">${name}</h2>
    <p>${escapeHtml(application.owner)}/${escapeHtml(
    application.repo,
  )} · branch ${escapeHtml(
    application.branch ?? lastSync?.branch ?? '(default)',
  )} · paths ${application.paths
    .map(p => `<code>${escapeHtml(p)}</code>`)
    .join(', ')}</p>
    <form method="post" action="applications/${encodeURIComponent(
      application.name,
    )}/sync"><button type="submit">Sync now</button></form>`;
  if (!lastSync) return `${header}<p>Never synced.</p>`;
  const trigger = describeTrigger(lastSync.trigger);
  const rows = lastSync.resources
    .map(
      r =>
        `<tr class="${r.action === 'failed' ? 'error' : ''}"><td>${escapeHtml(
          r.action,
        )}</td><td>${escapeHtml(r.kind)}</td><td>${escapeHtml(
          r.namespace ?? '',
        )}</td><td>${escapeHtml(r.name)}</td><td>${escapeHtml(
          r.source ?? '',
        )}</td><td>${escapeHtml(r.message ?? '')}</td></tr>`,
    )
    .join('');
  const errors = lastSync.errors.length
    ? `<h3>Errors</h3><ul class="error">${lastSync.errors
        .map(e => `<li>${escapeHtml(e)}</li>`)
        .join('')}</ul>`
    : '';
  return `${header}
    <p><strong class="${lastSync.phase === 'Succeeded' ? 'ok' : 'error'}">${
    lastSync.phase
  }</strong> at <code>${escapeHtml(
    lastSync.revision?.slice(0, 7) ?? '?',
  )}</code> (${trigger}), finished ${escapeHtml(lastSync.finishedAt)}</p>
    ${errors}
    <table><tr><th>Action</th><th>Kind</th><th>Namespace</th><th>Name</th><th>Source</th><th>Message</th></tr>${rows}</table>
    <p>${status.managed.length} object(s) managed.</p>`;
}

export function renderGitOpsStatusHtml(statuses: ApplicationStatus[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GitOps sync status</title>
    <style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px} td,th{padding:.2rem .6rem;text-align:left}
    .error{color:#cf222e} .ok{color:#1f883d}</style></head>
    <body><h1>GitOps applications</h1>${
      statuses.map(applicationHtml).join('') ||
      '<p>No applications configured.</p>'
    }</body></html>`;
}

export function createGitOpsStatusRouter(loop: GitOpsLoop): Router {
  const router = Router();
  const known = (req: Request, res: Response): boolean => {
    if (loop.statuses().some(s => s.application.name === req.params.name))
      return true;
    res
      .status(404)
      .json({ error: `No GitOps application named '${req.params.name}'` });
    return false;
  };
  router.get('/', (_req, res) => {
    res.type('html').send(renderGitOpsStatusHtml(loop.statuses()));
  });
  router.get('/applications', (_req, res) => {
    res.json({ items: loop.statuses() });
  });
  router.get('/applications/:name', (req, res) => {
    if (known(req, res)) res.json(loop.status(req.params.name));
  });
  router.post('/applications/:name/sync', async (req, res) => {
    if (!known(req, res)) return;
    const result = await loop.sync(req.params.name);
    if ((req.headers.accept ?? '').includes('application/json'))
      res.json(result);
    else res.redirect(303, `../../#${encodeURIComponent(req.params.name)}`);
  });
  return router;
}

/** Serves the status pages on their own port (127.0.0.1; 0 = any free port). */
export async function serveGitOpsStatus(
  loop: GitOpsLoop,
  options: { host?: string; port?: number } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(createGitOpsStatusRouter(loop));
  const host = options.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, host, () =>
      resolve(listening),
    );
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close(error => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
