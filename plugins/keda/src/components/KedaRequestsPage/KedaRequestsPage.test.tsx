import { ResponseError } from '@backstage/errors';
import type { KedaRequestAction } from '@keda-self-service/plugin-keda-common';
import {
  act,
  fireEvent,
  screen,
  waitFor,
  within,
} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  JANE,
  SAM,
  TEAM_ORDERS,
  requestRecord,
  roleChainVerification,
} from './__testUtils__/requestRecords';
import {
  conflict,
  detailPath,
  fakeSignals,
  renderPage,
  requestsApi,
} from './__testUtils__/pageTestUtils';

// Approver's view (the backend allows approve and reject on pending
// requests); the developer's view is in KedaRequestsPage.requester.test.tsx.

const APPROVER: KedaRequestAction[] = ['approve', 'reject'];

// A whole test app renders in seconds on a busy 2-core CI box.
jest.setTimeout(90_000);
const SLOW = { timeout: 45_000 };

describe('KedaRequestsPage: list', () => {
  it('links to the autoscaling template the app config names', async () => {
    await renderPage(requestsApi([]), {
      user: SAM,
      config: {
        keda: { frontend: { templates: { autoscaling: 'platform/our-keda' } } },
      },
    });
    const button = await screen.findByRole(
      'button',
      { name: 'Request autoscaling' },
      SLOW,
    );
    expect(button).toHaveAttribute(
      'href',
      '/create/templates/platform/our-keda',
    );
  });

  it('lists requests with entity, requester, cluster, queue, state in words, creation time and pull request', async () => {
    const record = requestRecord({ allowedActions: APPROVER });
    const api = requestsApi([
      record,
      requestRecord({
        id: 'req-billing',
        workload: 'billing-worker',
        state: 'failed',
      }),
    ]);
    await renderPage(api, { user: SAM });

    const table = await screen.findByRole('table', {}, SLOW);
    const link = await within(table).findByRole('link', {
      name: 'component:default/orders-worker',
    });
    expect(link).toHaveAttribute('href', '/keda/requests/req-orders');
    const row = link.closest('tr') as HTMLElement;
    expect(row).toHaveTextContent(JANE);
    expect(row).toHaveTextContent('prod-eu');
    expect(within(row).getByTitle(record.queueUrl)).toHaveTextContent(
      'orders-worker-queue',
    );
    expect(within(row).getByTestId('keda-request-state')).toHaveTextContent(
      'Pending approval',
    );
    expect(
      within(row).getByRole('link', { name: /pull request #42/ }),
    ).toHaveAttribute('href', 'https://github.com/acme/gitops/pull/42');
    expect(row.querySelector('time')).toHaveAttribute(
      'dateTime',
      '2026-11-28T06:00:00.000Z',
    );
    const billing = within(table)
      .getByRole('link', { name: 'component:default/billing-worker' })
      .closest('tr') as HTMLElement;
    const failed = within(billing).getByTestId('keda-request-state');
    expect(failed).toHaveTextContent('Failed');
    expect(failed).toHaveAttribute('data-tone', 'error');
    expect(api.listRequests).toHaveBeenCalledWith({});
  });

  it('asks the backend again with the state, team and cluster filters', async () => {
    const api = requestsApi([requestRecord({ allowedActions: APPROVER })]);
    await renderPage(api, { user: SAM });
    await screen.findByRole(
      'link',
      { name: 'component:default/orders-worker' },
      SLOW,
    );

    const filters = screen.getByRole('search', {
      name: 'Filter KEDA requests',
    });
    fireEvent.mouseDown(within(filters).getByRole('button', { name: /State/ }));
    await userEvent.click(
      await screen.findByRole('option', { name: 'Pending approval' }),
    );
    await waitFor(() =>
      expect(api.listRequests).toHaveBeenLastCalledWith({ state: 'pending' }),
    );

    await userEvent.type(within(filters).getByLabelText('Team'), TEAM_ORDERS);
    await userEvent.type(within(filters).getByLabelText('Cluster'), 'prod-eu');
    await waitFor(
      () =>
        expect(api.listRequests).toHaveBeenLastCalledWith({
          state: 'pending',
          team: TEAM_ORDERS,
          cluster: 'prod-eu',
        }),
      SLOW,
    );
  });

  it('says so when no request matches', async () => {
    await renderPage(requestsApi([]), { user: SAM });
    expect(
      await screen.findByText(
        'No KEDA requests match these filters.',
        {},
        SLOW,
      ),
    ).toBeInTheDocument();
  });
});

describe('KedaRequestsPage: detail', () => {
  it('shows the plan (IAM documents as JSON, manifests as YAML), guardrail findings, links and the decision log', async () => {
    const record = requestRecord({ state: 'provisioning' });
    record.provisioning = { taskId: 'task-7', taskUrl: '/create/tasks/task-7' };
    record.decisions.push({
      actor: SAM,
      decision: 'approved',
      comment: 'within the team budget',
      at: '2026-11-28T06:30:00.000Z',
    });
    const api = requestsApi([record]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    expect(
      await screen.findByRole(
        'heading',
        { name: 'component:default/orders-worker' },
        SLOW,
      ),
    ).toBeInTheDocument();
    expect(api.getRequest).toHaveBeenCalledWith('req-orders');
    expect(screen.getAllByTestId('keda-request-state')[0]).toHaveTextContent(
      'Provisioning',
    );

    // Plan: the IAM documents pretty-printed, the manifests as planned.
    // Plan: the IAM documents pretty-printed, the manifests as planned
    // (the code blocks load lazily).
    const iam = screen.getByRole('region', { name: 'IAM documents' });
    expect(iam).toHaveTextContent(record.plan.scalerRole.arn);
    await waitFor(
      () =>
        expect(iam).toHaveTextContent(
          '"sts:ExternalId": "5d41402abc4b2a76b9719d911017c592"',
        ),
      SLOW,
    );
    expect(iam).toHaveTextContent('"Action": "sqs:GetQueueAttributes"');
    const manifests = screen.getByRole('region', { name: 'Manifests' });
    const scaledObject = record.plan.manifests.find(f =>
      f.path.endsWith('scaledobject.yaml'),
    )!;
    expect(manifests).toHaveTextContent(scaledObject.path);
    await waitFor(
      () => expect(manifests).toHaveTextContent('kind: ScaledObject'),
      SLOW,
    );
    expect(manifests).toHaveTextContent('awsRegion: eu-west-1');

    // Guardrails: why a platform engineer has to approve.
    const reasons = screen.getByRole('list', {
      name: 'Why approval is needed',
    });
    expect(within(reasons).getAllByRole('listitem')).toHaveLength(
      record.approvalReasons.length,
    );
    expect(reasons).toHaveTextContent(record.approvalReasons[0]);

    // Decision log, oldest first, with actor, decision, comment and time.
    const log = screen.getByRole('table', { name: 'Decision history' });
    const rows = within(log).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent(`${JANE}Requestedorders backlog at peak`);
    expect(rows[1]).toHaveTextContent(`${SAM}Approvedwithin the team budget`);
    expect(rows[1].querySelector('time')).toHaveAttribute(
      'dateTime',
      '2026-11-28T06:30:00.000Z',
    );

    expect(screen.getByRole('link', { name: 'task task-7' })).toHaveAttribute(
      'href',
      '/create/tasks/task-7',
    );
    expect(
      screen.getByRole('link', { name: /pull request #42/ }),
    ).toHaveAttribute('href', 'https://github.com/acme/gitops/pull/42');
    // Nothing to decide while provisioning.
    expect(
      screen.queryByRole('group', { name: 'Decisions' }),
    ).not.toBeInTheDocument();
  });

  it('approve: dialog, comment sent to the API, refreshed state and log', async () => {
    const api = requestsApi([requestRecord({ allowedActions: APPROVER })]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve' }, SLOW),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Approve this request?',
    });
    await userEvent.type(
      within(dialog).getByLabelText('Comment (optional)'),
      'fine for the peak',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Approve' }),
    );

    await waitFor(() =>
      expect(api.approveRequest).toHaveBeenCalledWith('req-orders', {
        comment: 'fine for the peak',
      }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Approved. Provisioning has started.',
    );
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getAllByTestId('keda-request-state')[0]).toHaveTextContent(
      'Provisioning',
    );
    const log = screen.getByRole('table', { name: 'Decision history' });
    expect(within(log).getAllByRole('row')[2]).toHaveTextContent(
      `${SAM}Approvedfine for the peak`,
    );
    // Decided: no more decisions to offer.
    expect(
      screen.queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
  });

  it('reject: refuses to send without a reason, then sends the reason', async () => {
    const api = requestsApi([requestRecord({ allowedActions: APPROVER })]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    await userEvent.click(
      await screen.findByRole('button', { name: 'Reject' }, SLOW),
    );
    const dialog = screen.getByRole('dialog', { name: 'Reject this request?' });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Reject' }),
    );
    expect(
      within(dialog).getByText(
        'A rejection needs a reason: tell the requester what to change.',
      ),
    ).toBeInTheDocument();
    expect(api.rejectRequest).not.toHaveBeenCalled();

    await userEvent.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'use the shared orders queue instead',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Reject' }),
    );
    await waitFor(() =>
      expect(api.rejectRequest).toHaveBeenCalledWith('req-orders', {
        comment: 'use the shared orders queue instead',
      }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('Rejected.');
    expect(screen.getAllByTestId('keda-request-state')[0]).toHaveTextContent(
      'Rejected',
    );
  });

  it('does not offer withdraw to an approver who did not request it', async () => {
    await renderPage(
      requestsApi([requestRecord({ allowedActions: APPROVER })]),
      {
        path: detailPath('req-orders'),
        user: SAM,
      },
    );
    await screen.findByRole('button', { name: 'Approve' }, SLOW);
    expect(
      screen.queryByRole('button', { name: 'Withdraw' }),
    ).not.toBeInTheDocument();
  });

  it("offers only what the backend allows: no approve on the approver's own request when self-approval is off", async () => {
    // The backend's answer for SAM on SAM's own request with
    // keda.approvals.allowSelfApproval off.
    const record = requestRecord({
      requester: SAM,
      allowedActions: ['reject', 'withdraw'],
    });
    await renderPage(requestsApi([record]), {
      path: detailPath('req-orders'),
      user: SAM,
    });
    const decisions = await screen.findByRole(
      'group',
      { name: 'Decisions' },
      SLOW,
    );
    expect(
      within(decisions)
        .getAllByRole('button')
        .map(b => b.textContent),
    ).toEqual(['Reject', 'Withdraw']);
  });

  it('works by keyboard: the dialog focuses the comment field and submits from the keyboard', async () => {
    const api = requestsApi([requestRecord({ allowedActions: APPROVER })]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    const reject = await screen.findByRole('button', { name: 'Reject' }, SLOW);
    reject.focus();
    await userEvent.keyboard('{Enter}');
    const dialog = await screen.findByRole('dialog', {
      name: 'Reject this request?',
    });
    const reason = within(dialog).getByRole('textbox', { name: /Reason/ });
    await waitFor(() => expect(reason).toHaveFocus());
    await userEvent.keyboard('queue belongs to another team');
    await userEvent.tab(); // Cancel
    await userEvent.tab(); // Reject
    expect(
      within(dialog).getByRole('button', { name: 'Reject' }),
    ).toHaveFocus();
    await userEvent.keyboard('{Enter}');

    await waitFor(() =>
      expect(api.rejectRequest).toHaveBeenCalledWith('req-orders', {
        comment: 'queue belongs to another team',
      }),
    );
  });

  it('shows a 409 as "someone else decided first" and reloads the request', async () => {
    const records = [requestRecord({ allowedActions: APPROVER })];
    const api = requestsApi(records);
    api.approveRequest.mockImplementation(async () => {
      // Meanwhile another approver rejected it.
      records[0] = { ...records[0], state: 'rejected', allowedActions: [] };
      throw await conflict(
        "KEDA request 'req-orders' is rejected (rejected by user:default/kim at 2026-11-28T06:59:00.000Z); it cannot become approved from there (only from pending). Reload the request to see the current state",
      );
    });
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve' }, SLOW),
    );
    await userEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', {
        name: 'Approve',
      }),
    );

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(
      /^Someone else decided first: KEDA request 'req-orders' is rejected \(rejected by user:default\/kim/,
    );
    expect(alert).toHaveTextContent('(HTTP 409)');
    await waitFor(() =>
      expect(screen.getAllByTestId('keda-request-state')[0]).toHaveTextContent(
        'Rejected',
      ),
    );
    expect(api.getRequest).toHaveBeenCalledTimes(2);

    // Reload asks again (e.g. to follow provisioning).
    await userEvent.click(screen.getByRole('button', { name: 'Reload' }));
    await waitFor(() => expect(api.getRequest).toHaveBeenCalledTimes(3));
    expect(
      screen.queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
  });

  it('offers retry on a failed request to approvers and shows the failure', async () => {
    const record = requestRecord({
      state: 'failed',
      allowedActions: ['retry'],
    });
    record.provisioning = { error: 'AccessDenied: iam:CreateRole' };
    const api = requestsApi([record]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    expect(
      await screen.findByText('AccessDenied: iam:CreateRole', {}, SLOW),
    ).toBeInTheDocument();
    await userEvent.click(
      screen.getByRole('button', { name: 'Retry provisioning' }),
    );
    await waitFor(() =>
      expect(api.retryRequest).toHaveBeenCalledWith('req-orders'),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Provisioning started again.',
    );
  });

  it('shows the role chain verification of the provisioning run: overall result, each check, warnings explained', async () => {
    const record = requestRecord({ state: 'provisioned' });
    const verification = roleChainVerification(record);
    record.provisioning = {
      taskId: 'task-7',
      roleArns: { scaler: record.plan.scalerRole.arn },
      verification,
    };
    await renderPage(requestsApi([record]), {
      path: detailPath('req-orders'),
      user: SAM,
    });

    const table = await screen.findByRole(
      'table',
      { name: 'Role chain verification' },
      SLOW,
    );
    expect(screen.getByTestId('keda-verification-status')).toHaveTextContent(
      'Verified: 1 of 2 checks passed, 1 with a warning.',
    );
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map(r => r.getAttribute('data-outcome'))).toEqual([
      'pass',
      'warning',
    ]);
    verification.checks.forEach((check, i) => {
      const cells = within(rows[i]).getAllByRole('cell');
      expect(cells.map(c => c.textContent)).toEqual([
        { pass: 'Pass', warning: 'Warning', fail: 'Fail' }[check.outcome],
        check.check,
        check.subject,
        check.detail,
      ]);
    });
    expect(
      screen.getByText(/a warning means a check could not run/i),
    ).toHaveTextContent('access-analyzer:ValidatePolicy');
  });

  it('says when the role chain verification failed', async () => {
    const record = requestRecord({ state: 'failed' });
    record.provisioning = {
      taskId: 'task-7',
      error: 'role chain verification failed',
      verification: roleChainVerification(record, 'fail'),
    };
    await renderPage(requestsApi([record]), {
      path: detailPath('req-orders'),
      user: SAM,
    });

    expect(
      await screen.findByTestId('keda-verification-status', {}, SLOW),
    ).toHaveTextContent('Verification failed: 1 of 2 checks failed.');
    expect(
      screen.getByText(/sqs:GetQueueAttributes on .*: implicitDeny/),
    ).toBeInTheDocument();
  });

  it('shows no verification section before provisioning', async () => {
    await renderPage(requestsApi([requestRecord({ state: 'provisioning' })]), {
      path: detailPath('req-orders'),
      user: SAM,
    });
    expect(
      await screen.findByRole('table', { name: 'Decision history' }, SLOW),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('table', { name: 'Role chain verification' }),
    ).not.toBeInTheDocument();
  });

  it('says when an approval was recorded but provisioning could not start', async () => {
    const records = [requestRecord({ allowedActions: APPROVER })];
    const api = requestsApi(records);
    api.approveRequest.mockImplementation(async () => ({
      ...records[0],
      state: 'failed',
      provisioning: { error: 'template keda-provision-request not found' },
      allowedActions: ['retry'],
    }));
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve' }, SLOW),
    );
    await userEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', {
        name: 'Approve',
      }),
    );

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Decision recorded, but provisioning could not start: template keda-provision-request not found. Retry once the cause is fixed.',
    );
    expect(
      screen.getByRole('button', { name: 'Retry provisioning' }),
    ).toBeInTheDocument();
  });

  it('shows what the backend said when a decision is refused (403)', async () => {
    const api = requestsApi([
      requestRecord({ requester: SAM, allowedActions: APPROVER }),
    ]);
    api.approveRequest.mockRejectedValue(
      await ResponseError.fromResponse(
        new Response(
          JSON.stringify({
            error: {
              name: 'NotAllowedError',
              message:
                'You requested req-orders yourself; another approver has to approve it',
            },
            response: { statusCode: 403 },
          }),
          {
            status: 403,
            statusText: 'Forbidden',
            headers: { 'Content-Type': 'application/json' },
          },
        ),
      ),
    );
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: SAM,
    });

    await userEvent.click(
      await screen.findByRole('button', { name: 'Approve' }, SLOW),
    );
    await userEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', {
        name: 'Approve',
      }),
    );

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'You requested req-orders yourself; another approver has to approve it (HTTP 403)',
    );
    // Still pending: nothing changed, the buttons stay.
    expect(screen.getAllByTestId('keda-request-state')[0]).toHaveTextContent(
      'Pending approval',
    );
  });

  it('shows the backend error when a request cannot be loaded', async () => {
    const api = requestsApi([]);
    api.getRequest.mockRejectedValue(
      new Error("KEDA request 'nope' does not exist"),
    );
    await renderPage(api, {
      path: detailPath('nope'),
      user: SAM,
    });
    expect(
      await screen.findByText(
        'Could not load KEDA request nope',
        { exact: false },
        SLOW,
      ),
    ).toBeInTheDocument();
  });
});

describe('KedaRequestsPage: following changes', () => {
  it('refetches the request shown when the backend signals its change', async () => {
    const records = [requestRecord({ state: 'provisioning' })];
    const api = requestsApi(records);
    const signals = fakeSignals();
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: JANE,
      signals: signals.api,
    });
    await waitFor(
      () =>
        expect(
          screen.getAllByTestId('keda-request-state')[0],
        ).toHaveTextContent('Provisioning'),
      SLOW,
    );
    await waitFor(() =>
      expect(signals.subscriberCount('keda:requests')).toBe(1),
    );
    expect(api.getRequest).toHaveBeenCalledTimes(1);

    // Another request changed: nothing to fetch.
    act(() => signals.emit('keda:requests', { requestId: 'req-other' }));
    // The provisioning task finished: the backend says so.
    records[0] = { ...records[0], state: 'provisioned' };
    act(() => signals.emit('keda:requests', { requestId: 'req-orders' }));

    await waitFor(() =>
      expect(screen.getAllByTestId('keda-request-state')[0]).toHaveTextContent(
        'Provisioned',
      ),
    );
    expect(api.getRequest).toHaveBeenCalledTimes(2);
  });

  it('stops listening once the request is in a final state', async () => {
    const api = requestsApi([requestRecord({ state: 'rejected' })]);
    const signals = fakeSignals();
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: JANE,
      signals: signals.api,
    });
    await screen.findByRole(
      'heading',
      { name: 'component:default/orders-worker' },
      SLOW,
    );
    expect(signals.subscriberCount('keda:requests')).toBe(0);
  });

  it('reloads the list when any request changes', async () => {
    const records = [requestRecord()];
    const api = requestsApi(records);
    const signals = fakeSignals();
    await renderPage(api, { user: SAM, signals: signals.api });
    await screen.findByRole(
      'link',
      { name: 'component:default/orders-worker' },
      SLOW,
    );
    await waitFor(() =>
      expect(signals.subscriberCount('keda:requests')).toBe(1),
    );
    expect(api.listRequests).toHaveBeenCalledTimes(1);
    records.push(
      requestRecord({ id: 'req-billing', workload: 'billing-worker' }),
    );
    act(() => signals.emit('keda:requests', { requestId: 'req-billing' }));
    await waitFor(() => expect(api.listRequests).toHaveBeenCalledTimes(2));
    expect(
      await screen.findByRole(
        'link',
        { name: 'component:default/billing-worker' },
        SLOW,
      ),
    ).toBeInTheDocument();
  });
});
