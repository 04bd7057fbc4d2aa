import {
  test,
  expect,
  type APIRequestContext,
  type Page,
} from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BACKEND_START_TIMEOUT_MS,
  waitForBackendReady,
} from './support/backend';

// The mission's journey through the running portal and the local stand-ins:
// a developer fills the keda-sqs-autoscaling template's form (pickers,
// inline validation, the live plan preview) and runs it (auto-approved: the
// scaler role is created by the run), merges the pull request on the GitHub
// stand-in's page, the GitOps loop applies the manifests, and the entity
// card shows KEDA scaling orders-worker on the depth of orders-queue.
const backend = 'http://localhost:7007';
const root = resolve(__dirname, '../..');
const shots = resolve(root, 'artifacts/screenshots');
mkdirSync(shots, { recursive: true });

async function personaToken(
  request: APIRequestContext,
  persona: string,
): Promise<string> {
  const res = await request.get(`${backend}/api/auth/localPersonas/refresh`, {
    headers: {
      'x-requested-with': 'XMLHttpRequest',
      'x-keda-portal-persona': persona,
    },
  });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).backstageIdentity.token;
}

async function signInAs(page: Page, persona: string) {
  await page.goto('/');
  await page.evaluate(
    p => localStorage.setItem('keda-portal:local-persona', p),
    persona,
  );
  await page.goto('/');
}

function sendMessages(count: number) {
  execFileSync(
    'node',
    [
      '--require',
      '@backstage/cli/config/nodeTransform.cjs',
      'packages/sandbox/src/cli.ts',
      'send-messages',
      '--queue',
      'orders-queue',
      '--count',
      String(count),
    ],
    { cwd: root, stdio: 'inherit' },
  );
}

test.describe.configure({ mode: 'serial' });

// The web server is up once the frontend answers; the backend may still be
// starting (connection refused, then 503 until its plugins are ready).
test.beforeAll(async ({ request }) => {
  test.setTimeout(BACKEND_START_TIMEOUT_MS + 30_000);
  await waitForBackendReady(request, backend);
});

let pullRequestUrl: string;

/** Runs the keda-sqs-autoscaling template as a persona; returns the finished task and its events. */
async function startTemplate(
  request: APIRequestContext,
  persona: string,
  values: Record<string, unknown>,
): Promise<{ task: any; events: any[] }> {
  const token = await personaToken(request, persona);
  const created = await request.post(`${backend}/api/scaffolder/v2/tasks`, {
    headers: { authorization: `Bearer ${token}` },
    data: { templateRef: 'template:default/keda-sqs-autoscaling', values },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = await created.json();
  return finishedTask(request, persona, id);
}

/** Waits for a scaffolder task to end; returns it and its events. */
async function finishedTask(
  request: APIRequestContext,
  persona: string,
  id: string,
): Promise<{ task: any; events: any[] }> {
  const token = await personaToken(request, persona);
  let task: any;
  await expect
    .poll(
      async () => {
        task = await (
          await request.get(`${backend}/api/scaffolder/v2/tasks/${id}`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json();
        return task.status;
      },
      { timeout: 240_000, intervals: [2000] },
    )
    .toMatch(/completed|failed/);
  const events = await (
    await request.get(`${backend}/api/scaffolder/v2/tasks/${id}/events`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json();
  return { task, events };
}

/** Runs the keda-sqs-autoscaling template as a persona; returns the task's output. */
async function runTemplate(
  request: APIRequestContext,
  persona: string,
  values: Record<string, unknown>,
): Promise<{ links: Array<{ title: string; url?: string }> }> {
  const { task, events } = await startTemplate(request, persona, values);
  if (task.status !== 'completed') {
    throw new Error(`task ${task.status}: ${JSON.stringify(events.slice(-5))}`);
  }
  return events.find((e: any) => e.type === 'completion').body.output;
}

const TEMPLATE_PAGE = '/create/templates/default/keda-sqs-autoscaling';
const ORDERS_QUEUE =
  'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue';
const ROLE_NAME = /keda-sqs-demo-eks-orders-orders-worker-[0-9a-f]{8}/;

/**
 * Fills the request form as a person does: picks the component and the
 * cluster, types a malformed queue URL and reads the inline error, picks
 * the queue from the component's queues instead, sets the scaling, and
 * reads the plan preview. Screenshots of the form with the error and with
 * the preview, suffixed with the theme.
 */
async function fillRequestForm(
  page: Page,
  theme: 'light' | 'dark',
): Promise<string> {
  await page.goto(TEMPLATE_PAGE);
  // MUI's autocomplete inputs are text boxes inside a combobox.
  const component = page.getByRole('textbox', { name: 'Component' });
  await component.click({ timeout: 60_000 });
  await component.fill('Orders worker');
  await page
    .getByRole('option', { name: /Orders worker/ })
    .first()
    .click();
  await expect(component).toHaveValue('component:default/orders-worker');

  // One cluster is configured: it is chosen already; open the list anyway
  // and pick it, reading its account and region.
  await page.getByRole('button', { name: /Cluster/ }).click();
  await page.getByRole('option', { name: /demo-eks/ }).click();
  await expect(page.locator('#root_cluster-helper-text')).toHaveText(
    'account 111111111111 · eu-west-1',
  );

  const queue = page.getByRole('textbox', { name: 'SQS queue URL' });
  await queue.fill('https://sqs.eu-west-1.amazonaws.com/2222/orders-queue');
  await expect(
    page.getByText(
      '"2222" in the queue URL path is not a 12-digit AWS account id',
    ),
  ).toBeVisible();
  await queue.press('Escape'); // close the suggestions to show the form
  await page.screenshot({
    path: `${shots}/request-form-error-${theme}.png`,
    fullPage: true,
  });

  // The queues orders-worker depends on in the catalog.
  await queue.fill('');
  await queue.press('ArrowDown'); // opens the list (a click would toggle it)
  await page.getByRole('option', { name: /orders-queue/ }).click();
  await expect(queue).toHaveValue(ORDERS_QUEUE);
  await expect(
    page.getByText(
      'orders-queue: queue orders-queue in account 222222222222, region eu-west-1',
    ),
  ).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByLabel('Minimum replicas').fill('1');
  await page.getByLabel('Maximum replicas').fill('6');
  await page.getByLabel('Messages per replica').fill('5');
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByLabel('Polling interval (s)').fill('5');
  await page.getByLabel('Cooldown period (s)').fill('30');
  await page.getByRole('button', { name: 'Next' }).click();

  // The keda backend's dry run, as the person typed it.
  await expect(page.getByText('No approval needed')).toBeVisible({
    timeout: 60_000,
  });
  await expect(page.getByText(ROLE_NAME)).toBeVisible();
  await expect(page.getByText('keda-operator', { exact: true })).toBeVisible();
  await expect(
    page.getByText(/orders-queue — account 222222222222, eu-west-1/),
  ).toBeVisible();
  await expect(
    page.getByText(/1–6 replicas, 5 messages per replica/),
  ).toBeVisible();
  await page.screenshot({
    path: `${shots}/request-form-plan-${theme}.png`,
    fullPage: true,
  });
  return (await page.getByText(ROLE_NAME).textContent())!.trim();
}

test('a developer requests SQS autoscaling through the template form', async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  // Dana (orders-team). The dark pass stops at the preview: planning
  // creates nothing.
  await signInAs(page, 'developer');
  await page.evaluate(() => localStorage.setItem('theme', 'dark'));
  await fillRequestForm(page, 'dark');
  await page.evaluate(() => localStorage.removeItem('theme'));

  const previewedRole = await fillRequestForm(page, 'light');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page.getByText(ORDERS_QUEUE)).toBeVisible();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/create\/tasks\/[\w-]+/, { timeout: 60_000 });
  const taskId = page.url().split('/').pop()!;

  const { task, events } = await finishedTask(request, 'developer', taskId);
  if (task.status !== 'completed') {
    throw new Error(`task ${task.status}: ${JSON.stringify(events.slice(-5))}`);
  }
  // The values the form sent are the ones the action inputs always had.
  expect(task.spec.parameters).toMatchObject({
    component: 'component:default/orders-worker',
    cluster: 'demo-eks',
    queueUrl: ORDERS_QUEUE,
    minReplicas: 1,
    maxReplicas: 6,
    queueLength: 5,
    pollingInterval: 5,
    cooldownPeriod: 30,
  });
  const { links } = events.find((e: any) => e.type === 'completion').body
    .output;
  pullRequestUrl = links.find((l: any) => l.title === 'Pull request')!.url!;
  expect(pullRequestUrl).toMatch(/\/example-org\/gitops\/pull\/\d+$/);
  expect(links.find((l: any) => l.title === 'KEDA request')!.url).toMatch(
    /\/keda\/requests\/[\w-]+$/,
  );
  // The task page shows the finished run with its links.
  await expect(page.getByRole('link', { name: 'Pull request' })).toBeVisible({
    timeout: 60_000,
  });
  // The plan the run made is the one the preview showed.
  const planned = events.map((e: any) => e.body?.message ?? '').join('\n');
  expect(planned).toContain('Plan is inside the auto-approve guardrails');
  const record = await (
    await request.get(
      `${backend}/api/keda/requests?entityRef=component:default/orders-worker`,
      {
        headers: {
          authorization: `Bearer ${await personaToken(request, 'developer')}`,
        },
      },
    )
  ).json();
  expect(record.items[0].plan.scalerRole.name).toBe(previewedRole);
});

test('the pull request is merged on the GitHub stand-in and the card shows KEDA scaling the workload', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto(pullRequestUrl);
  await expect(page.getByText('scaledobject.yaml').first()).toBeVisible();
  await page.screenshot({ path: `${shots}/pull-request.png`, fullPage: true });
  await page.getByRole('button', { name: /merge/i }).click();
  await expect(page.getByText(/merged/i).first()).toBeVisible();

  await signInAs(page, 'developer');
  await page.goto('/catalog/default/component/orders-worker');
  const subheader = page.getByText('KEDA · scaling on SQS queue depth');
  await subheader.scrollIntoViewIfNeeded({ timeout: 60_000 });
  // Ready (idle) until messages arrive (the card refreshes by itself).
  await expect(page.getByText(/^(Ready|Active)$/).first()).toBeVisible({
    timeout: 90_000,
  });

  sendMessages(27); // 27 messages at 5 per replica → 6 replicas (the maximum)
  await expect(page.getByText(/^Active$/).first()).toBeVisible({
    timeout: 120_000,
  });
  await expect(
    page.getByRole('img', { name: /Replicas: 6/ }).first(),
  ).toBeVisible({ timeout: 120_000 });
  const card = page.locator('.MuiCard-root', {
    hasText: 'KEDA · scaling on SQS queue depth',
  });
  await card.screenshot({ path: `${shots}/entity-card-light.png` });

  await page.evaluate(() => localStorage.setItem('theme', 'dark'));
  await page.reload();
  await expect(page.getByText(/^Active$/).first()).toBeVisible({
    timeout: 60_000,
  });
  await card.screenshot({ path: `${shots}/entity-card-dark.png` });
  await page.evaluate(() => localStorage.removeItem('theme'));
});

let billingRequestId: string;

test('a request outside the guardrails waits for the platform team, who approve it on the KEDA requests page', async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  // Ben (billing-team) asks for billing-worker, which his team owns. 20
  // replicas is above the auto-approve ceiling (10): approval required.
  const output = await runTemplate(request, 'billing-developer', {
    component: 'component:default/billing-worker',
    cluster: 'demo-eks',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/billing-queue',
    minReplicas: 0,
    maxReplicas: 20,
    queueLength: 10,
  });
  const recorded = output.links.find(l => l.title === 'KEDA request')!.url!;

  await signInAs(page, 'platform-engineer');
  await page.goto('/keda');
  await expect(
    page.getByText('component:default/billing-worker').first(),
  ).toBeVisible({ timeout: 60_000 });
  await page.screenshot({ path: `${shots}/requests-page.png`, fullPage: true });

  await page.goto(new URL(recorded, 'http://localhost:3000').pathname);
  await expect(page.getByText(/pending/i).first()).toBeVisible({
    timeout: 60_000,
  });
  await page.getByRole('button', { name: 'Approve' }).click();
  await page
    .getByRole('dialog')
    .getByRole('textbox')
    .fill('Within the billing budget.');
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Approve' })
    .click();
  // Provisioning runs as a scaffolder task under Priya's identity.
  const requestId = recorded.split('/').pop()!;
  billingRequestId = requestId;
  const priya = await personaToken(request, 'platform-engineer');
  let record: any;
  await expect
    .poll(
      async () => {
        record = await (
          await request.get(`${backend}/api/keda/requests/${requestId}`, {
            headers: { authorization: `Bearer ${priya}` },
          })
        ).json();
        return record.state;
      },
      { timeout: 180_000, intervals: [3000] },
    )
    .toBe('provisioned');
  expect(
    record.decisions.map((d: any) => `${d.decision} by ${d.actor}`),
  ).toEqual(
    expect.arrayContaining([
      'approved by user:default/priya',
      'provisioned by user:default/priya',
    ]),
  );
  // One role per workload identity: a readable name plus a hash of it.
  expect(record.provisioning.roleArns.scaler).toMatch(
    /:role\/keda\/keda-sqs-demo-eks-billing-billing-worker-[0-9a-f]{8}$/,
  );
  await page.reload();
  await expect(page.getByText(/provisioned/i).first()).toBeVisible({
    timeout: 60_000,
  });
  await page.screenshot({
    path: `${shots}/request-approved.png`,
    fullPage: true,
  });
});

test('a developer of another team cannot change it', async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  const priya = await personaToken(request, 'platform-engineer');
  const read = async () =>
    (
      await request.get(`${backend}/api/keda/requests/${billingRequestId}`, {
        headers: { authorization: `Bearer ${priya}` },
      })
    ).json();
  const before = await read();
  expect(before.state).toBe('provisioned');

  // Dana (orders-team) runs the template for billing-worker, inside the
  // auto-approve guardrails and with another queue: refused at the plan,
  // before any role, pull request or record is made.
  const { task, events } = await startTemplate(request, 'developer', {
    component: 'component:default/billing-worker',
    cluster: 'demo-eks',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
    minReplicas: 0,
    maxReplicas: 5,
    queueLength: 5,
  });
  expect(task.status).toBe('failed');
  const log = events.map((e: any) => e.body?.message ?? '').join('\n');
  expect(log).toContain('owned by group:default/billing-team');
  const stepsRun = events
    .filter((e: any) => e.body?.stepId && e.body?.status === 'completed')
    .map((e: any) => e.body.stepId);
  expect(stepsRun).not.toContain('provision');
  expect(stepsRun).not.toContain('publish');

  // The approved request and its role are as the platform team left them.
  const after = await read();
  expect(after.state).toBe('provisioned');
  expect(after.decisions).toEqual(before.decisions);
  expect(after.plan.scalerRole).toEqual(before.plan.scalerRole);

  // Dana sees why on the task page.
  await signInAs(page, 'developer');
  await page.goto(`/create/tasks/${task.id}`);
  await expect(
    page.getByText(/owned by group:default\/billing-team/).first(),
  ).toBeVisible({ timeout: 60_000 });
  await page.screenshot({
    path: `${shots}/other-team-refused.png`,
    fullPage: true,
  });
});
