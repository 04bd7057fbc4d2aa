import { EntityProvider } from '@backstage/plugin-catalog-react';
import { ResponseError } from '@backstage/errors';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { KedaApi, kedaApiRef } from '../../api';
import {
  createKedaStatusFixtures,
  ORDERS_WORKER_REF,
  ordersWorkerEntity,
} from '../../fixtures';
import { scaffolderTemplateRouteRef } from '../../routes';
import { EntityKedaScalingCard } from './EntityKedaScalingCard';

// The first render of a whole test app takes seconds on a busy 2-core CI box.
jest.setTimeout(90_000);

const fixtures = createKedaStatusFixtures(new Date());

function renderCard(
  getStatus: KedaApi['getStatus'],
  options: { config?: Record<string, unknown> } = {},
) {
  return renderInTestApp(
    <EntityProvider entity={ordersWorkerEntity}>
      <EntityKedaScalingCard />
    </EntityProvider>,
    {
      apis: [[kedaApiRef, { getStatus }]],
      config: options.config as any,
    },
  );
}

function answering(status: EntityKedaStatus) {
  return jest.fn<
    ReturnType<KedaApi['getStatus']>,
    Parameters<KedaApi['getStatus']>
  >(async () => status);
}

describe('EntityKedaScalingCard', () => {
  it('asks for the status of the entity on the page', async () => {
    const getStatus = answering(fixtures.healthy);
    await renderCard(getStatus);
    await screen.findByTestId('keda-health-badge');
    expect(getStatus).toHaveBeenCalledWith(
      ORDERS_WORKER_REF,
      expect.anything(),
    );
  });

  it('healthy: shows Active, replicas in range, the trigger, role chain and provenance', async () => {
    await renderCard(answering(fixtures.healthy));

    const badge = await screen.findByTestId('keda-health-badge');
    expect(badge).toHaveTextContent('Active');
    expect(badge).toHaveAttribute('data-tone', 'ok');
    expect(screen.getByText('Scaling on queue depth.')).toBeInTheDocument();
    // Normal conditions are not listed up front, but all are one click away.
    expect(
      screen.queryByRole('list', { name: 'Conditions' }),
    ).not.toBeInTheDocument();
    const allConditions = screen.getByRole('list', { name: 'All conditions' });
    expect(within(allConditions).getAllByRole('listitem')).toHaveLength(4);
    expect(allConditions).toHaveTextContent(
      'Ready=True (ScaledObjectReady): ScaledObject is defined correctly and is ready for scaling',
    );
    expect(screen.getByTestId('keda-current-replicas')).toHaveTextContent('3');
    expect(screen.getByText(/at desired count/)).toBeInTheDocument();
    expect(
      screen.getByRole('img', {
        name: 'Replicas: 3 running, 3 desired, range 1–10',
      }),
    ).toBeInTheDocument();

    const triggers = screen.getByRole('table', { name: 'Triggers' });
    const row = within(triggers).getAllByRole('row')[1];
    expect(within(row).getByText('orders-queue')).toBeInTheDocument();
    expect(
      within(row).getByText('222222222222 / eu-west-1'),
    ).toBeInTheDocument();
    expect(within(row).getByText('50')).toBeInTheDocument();
    expect(within(row).getByText('≈ 120')).toBeInTheDocument();
    expect(within(row).getByText('0')).toBeInTheDocument();

    const chain = screen.getByRole('group', { name: 'Role chain' });
    expect(chain).toHaveTextContent('keda-operator (111111111111)');
    expect(chain).toHaveTextContent(
      'keda-orders-worker-orders-queue (222222222222)',
    );
    expect(screen.getByText('Cross-account')).toBeInTheDocument();
    expect(screen.getByText('ExternalId set')).toBeInTheDocument();

    expect(screen.getByText('kr-7f3a2c')).toBeInTheDocument();
    expect(screen.getByText(/provisioned/)).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: /pull request #42/ }),
    ).toHaveAttribute('href', 'https://github.com/acme/gitops/pull/42');

    expect(screen.getByText(/Last scale:/)).toHaveTextContent('4 minutes ago');
    expect(
      screen.getByRole('img', {
        name: /^Over the last 30 minutes: replicas 1–3, queue depth 0–150\.$/,
      }),
    ).toBeInTheDocument();
    expect(screen.queryByTestId('keda-stale-banner')).not.toBeInTheDocument();
  });

  it('scaling: shows the move from current to desired replicas', async () => {
    await renderCard(answering(fixtures.scaling));

    await screen.findByTestId('keda-health-badge');
    expect(screen.getByText(/scaling up/)).toBeInTheDocument();
    expect(
      screen.getByRole('img', {
        name: 'Replicas: 3 running, 7 desired, range 1–10',
      }),
    ).toBeInTheDocument();
    expect(screen.getByText('≈ 330')).toBeInTheDocument();
  });

  it('degraded: shows the badge, the failing condition and the diagnosis with cause, fix and evidence', async () => {
    await renderCard(answering(fixtures.degraded));

    const badge = await screen.findByTestId('keda-health-badge');
    expect(badge).toHaveTextContent('Degraded');
    expect(badge).toHaveAttribute('data-tone', 'error');
    expect(screen.getByTestId('keda-health-summary')).toHaveTextContent(
      'Failed to ensure HPA is correctly created for ScaledObject',
    );
    expect(
      within(screen.getByRole('list', { name: 'Conditions' })).getByText(
        /Active=False/,
      ),
    ).toBeInTheDocument();
    // The Ready message is the summary already; it is not listed again
    // among the conditions shown up front.
    expect(
      within(screen.getByRole('list', { name: 'Conditions' })).queryByText(
        /Ready=False/,
      ),
    ).not.toBeInTheDocument();

    const diagnosis = screen.getByTestId(
      'keda-diagnosis-AssumeRoleAccessDenied',
    );
    expect(diagnosis).toHaveTextContent(
      'The KEDA operator role in account 111111111111 may not assume the scaler role',
    );
    expect(diagnosis).toHaveTextContent(/Fix:\s*Re-run the provisioning step/);
    expect(
      within(diagnosis).getByText(/Message from AWS \/ KEDA/),
    ).toBeInTheDocument();
    expect(diagnosis).toHaveTextContent(
      'not authorized to perform: sts:AssumeRole',
    );
    expect(screen.getByText('unknown (14 failed reads)')).toBeInTheDocument();
  });

  it('degraded: the events drawer lists the warning events and closes from the keyboard', async () => {
    await renderCard(answering(fixtures.degraded));

    const open = await screen.findByRole('button', {
      name: 'Recent events (3, 1 warning)',
    });
    open.focus();
    await userEvent.keyboard('{Enter}');

    const drawer = await screen.findByRole('dialog', {
      name: 'Recent events: orders-worker',
    });
    const items = within(drawer).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent('KEDAScalerFailed');
    expect(items[0]).toHaveTextContent('×14');
    expect(within(items[0]).getByTitle('Warning')).toBeInTheDocument();

    expect(
      within(drawer).getByRole('button', { name: 'Close events' }),
    ).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it('paused: shows Paused with the held replica count', async () => {
    await renderCard(answering(fixtures.paused));

    const badge = await screen.findByTestId('keda-health-badge');
    expect(badge).toHaveTextContent('Paused');
    expect(badge).toHaveAttribute('data-tone', 'paused');
    expect(screen.getByTestId('keda-health-summary')).toHaveTextContent(
      'held at 2 replicas',
    );
    expect(screen.getByText(/paused at 2/)).toBeInTheDocument();
  });

  it('no ScaledObject: offers the request template with the entity preselected', async () => {
    await renderCard(answering(fixtures.noScaledObject));

    expect(await screen.findByTestId('keda-empty-state')).toBeInTheDocument();
    const link = screen.getByRole('button', { name: 'Request autoscaling' });
    const href = link.getAttribute('href')!;
    expect(href).toMatch(
      /^\/create\/templates\/default\/keda-sqs-autoscaling\?formData=/,
    );
    const formData = new URL(href, 'http://x').searchParams.get('formData');
    expect(JSON.parse(formData!)).toEqual({ component: ORDERS_WORKER_REF });
    expect(
      screen.queryByRole('button', { name: 'Remove autoscaling' }),
    ).not.toBeInTheDocument();
  });

  it('no ScaledObject: follows the scaffolder template route when the app mounts the scaffolder elsewhere', async () => {
    await renderInTestApp(
      <EntityProvider entity={ordersWorkerEntity}>
        <EntityKedaScalingCard />
      </EntityProvider>,
      {
        apis: [[kedaApiRef, { getStatus: answering(fixtures.noScaledObject) }]],
        mountedRoutes: {
          '/self-service/templates/:namespace/:templateName':
            scaffolderTemplateRouteRef,
        },
      },
    );

    const button = await screen.findByRole('button', {
      name: 'Request autoscaling',
    });
    expect(button.getAttribute('href')).toMatch(
      /^\/self-service\/templates\/default\/keda-sqs-autoscaling\?formData=%7B%22component/,
    );
  });

  it('pending request: shows the request state and its pull request instead of the empty state', async () => {
    await renderCard(answering(fixtures.pendingRequest));

    const pending = await screen.findByTestId('keda-pending-request');
    expect(pending).toHaveTextContent(
      'Autoscaling request waiting for approval',
    );
    expect(pending).toHaveTextContent('kr-9b41d0 (pending)');
    expect(pending).toHaveTextContent('kr-9b41d0');
    expect(
      within(pending).getByRole('link', { name: /pull request #42/ }),
    ).toBeInTheDocument();
    expect(screen.queryByTestId('keda-empty-state')).not.toBeInTheDocument();
  });

  it('stale cluster: keeps the last known data under a banner naming the cluster', async () => {
    await renderCard(answering(fixtures.staleCluster));

    const banner = await screen.findByTestId('keda-stale-banner');
    expect(banner).toHaveTextContent(
      'Cluster eks-prod-eu-west-1 is unreachable',
    );
    expect(banner).toHaveTextContent('from 9 minutes ago');
    expect(banner).toHaveTextContent('connect ETIMEDOUT');
    expect(screen.getByTestId('keda-health-badge')).toHaveTextContent('Active');
  });

  it('loading: shows a progress indicator until the first answer', async () => {
    let resolve: (status: EntityKedaStatus) => void = () => {};
    const getStatus = jest.fn(
      () =>
        new Promise<EntityKedaStatus>(r => {
          resolve = r;
        }),
    );
    await renderCard(getStatus);

    expect(await screen.findByRole('progressbar')).toBeInTheDocument();
    expect(screen.queryByTestId('keda-health-badge')).not.toBeInTheDocument();

    resolve(fixtures.healthy);
    expect(await screen.findByTestId('keda-health-badge')).toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
  });

  it('error: shows the server error and recovers on "Try again"', async () => {
    const response = new Response(
      JSON.stringify({
        error: {
          name: 'NotAllowedError',
          message: 'Missing permission keda.status.read',
        },
        request: { method: 'GET', url: '/api/keda/status' },
        response: { statusCode: 403 },
      }),
      {
        status: 403,
        statusText: 'Forbidden',
        headers: { 'Content-Type': 'application/json' },
      },
    );
    const failure = await ResponseError.fromResponse(response);
    const getStatus = jest
      .fn<ReturnType<KedaApi['getStatus']>, Parameters<KedaApi['getStatus']>>()
      .mockRejectedValueOnce(failure)
      .mockResolvedValue(fixtures.healthy);
    await renderCard(getStatus);

    expect(
      await screen.findByText(
        /Could not load the autoscaling status: .*Missing permission keda.status.read/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/Missing permission keda.status.read/).length,
    ).toBeGreaterThan(0);

    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('keda-health-badge')).toHaveTextContent(
      'Active',
    );
    expect(getStatus).toHaveBeenCalledTimes(2);
  });

  it('failed refresh: keeps the data on screen and says the refresh failed', async () => {
    const getStatus = jest
      .fn<ReturnType<KedaApi['getStatus']>, Parameters<KedaApi['getStatus']>>()
      .mockResolvedValueOnce(fixtures.healthy)
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValue(fixtures.scaling);
    await renderCard(getStatus);
    await screen.findByTestId('keda-health-badge');

    fireEvent.click(
      screen.getByRole('button', { name: 'Refresh autoscaling status' }),
    );
    const banner = await screen.findByTestId('keda-refresh-error');
    expect(banner).toHaveTextContent('Refreshing failed (Failed to fetch)');
    expect(screen.getByTestId('keda-current-replicas')).toHaveTextContent('3');

    fireEvent.click(within(banner).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText(/scaling up/)).toBeInTheDocument();
    expect(screen.queryByTestId('keda-refresh-error')).not.toBeInTheDocument();
  });

  it('failed request: shows the failure as an error instead of a pending notice', async () => {
    await renderCard(
      answering({
        ...fixtures.pendingRequest,
        pendingRequests: [{ requestId: 'kr-9b41d0', requestState: 'failed' }],
      }),
    );

    const notice = await screen.findByTestId('keda-pending-request');
    expect(notice).toHaveTextContent('Autoscaling request failed');
    expect(notice).toHaveTextContent('Provisioning stopped');
    expect(notice).toHaveClass('MuiAlert-standardError');
  });

  describe('Remove autoscaling', () => {
    function removeLinkFormData() {
      const href = screen
        .getByRole('button', { name: 'Remove autoscaling' })
        .getAttribute('href')!;
      expect(href).toMatch(
        /^\/create\/templates\/default\/keda-sqs-decommission\?formData=/,
      );
      return JSON.parse(
        new URL(href, 'http://x').searchParams.get('formData')!,
      );
    }

    it('links to the decommission template with the component and its current request', async () => {
      await renderCard(answering(fixtures.healthy));
      await screen.findByTestId('keda-health-badge');
      expect(removeLinkFormData()).toEqual({
        component: ORDERS_WORKER_REF,
        requestId: 'kr-7f3a2c',
      });
    });

    it('offers it for a failed request not yet on the cluster', async () => {
      await renderCard(
        answering({
          ...fixtures.pendingRequest,
          pendingRequests: [{ requestId: 'kr-9b41d0', requestState: 'failed' }],
        }),
      );
      await screen.findByTestId('keda-pending-request');
      expect(removeLinkFormData()).toEqual({
        component: ORDERS_WORKER_REF,
        requestId: 'kr-9b41d0',
      });
    });

    it('leaves the request to the template when the entity has several', async () => {
      const [so] = fixtures.healthy.scaledObjects;
      await renderCard(
        answering({
          ...fixtures.healthy,
          scaledObjects: [
            so,
            {
              ...so,
              name: 'orders-worker-b',
              provenance: { requestId: 'kr-0000b', requestState: 'failed' },
            },
          ],
        }),
      );
      await screen.findAllByTestId('keda-health-badge');
      expect(removeLinkFormData()).toEqual({ component: ORDERS_WORKER_REF });
    });

    it('is hidden while the only request is still in flight', async () => {
      await renderCard(answering(fixtures.pendingRequest));
      await screen.findByTestId('keda-pending-request');
      expect(
        screen.queryByRole('button', { name: 'Remove autoscaling' }),
      ).not.toBeInTheDocument();
    });

    it('is hidden when the ScaledObject has no request on record', async () => {
      const [so] = fixtures.healthy.scaledObjects;
      await renderCard(
        answering({
          ...fixtures.healthy,
          scaledObjects: [{ ...so, provenance: undefined }],
        }),
      );
      await screen.findByTestId('keda-health-badge');
      expect(
        screen.queryByRole('button', { name: 'Remove autoscaling' }),
      ).not.toBeInTheDocument();
    });
  });
});
