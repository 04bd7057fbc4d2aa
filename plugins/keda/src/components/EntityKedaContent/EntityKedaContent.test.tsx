import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import { screen, within } from '@testing-library/react';
import { kedaApiRef } from '../../api';
import {
  createKedaStatusFixtures,
  ORDERS_WORKER_REF,
  ordersWorkerEntity,
} from '../../fixtures';
import { requestsApi } from '../KedaRequestsPage/__testUtils__/pageTestUtils';
import { requestRecord } from '../KedaRequestsPage/__testUtils__/requestRecords';
import { EntityKedaContent } from './EntityKedaContent';

jest.setTimeout(90_000);

const fixtures = createKedaStatusFixtures(new Date());

function renderTab(
  status: EntityKedaStatus | Error,
  records = [
    requestRecord({ id: 'req-now', state: 'provisioned' }),
    requestRecord({ id: 'req-old', state: 'decommissioned' }),
  ],
  props: { requestsPagePath?: string } = {},
) {
  const requests = requestsApi(records);
  const getStatus = jest.fn(async () => {
    if (status instanceof Error) throw status;
    return status;
  });
  const api = { getStatus, ...requests };
  return {
    api,
    rendered: renderInTestApp(
      <EntityProvider entity={ordersWorkerEntity}>
        <EntityKedaContent {...props} />
      </EntityProvider>,
      { apis: [[kedaApiRef, api]] },
    ),
  };
}

describe('EntityKedaContent', () => {
  it('shows each ScaledObject in full: health, history, triggers, role chain and its events', async () => {
    const [so] = fixtures.healthy.scaledObjects;
    const second = {
      ...so,
      name: 'orders-replay',
      scaleTarget: { ...so.scaleTarget, name: 'orders-replay' },
      events: [],
    };
    renderTab({ ...fixtures.healthy, scaledObjects: [so, second] });

    const badges = await screen.findAllByTestId('keda-health-badge');
    expect(badges).toHaveLength(2);
    expect(
      screen.getByText(`ScaledObject ${so.namespace}/${so.name}`),
    ).toBeInTheDocument();
    expect(screen.getAllByText(`on cluster ${so.cluster}`)).toHaveLength(2);
    expect(
      screen.getByText(`Deployment ${second.scaleTarget.name}`),
    ).toBeInTheDocument();
    // history sparkline and the trigger table of each
    expect(screen.getAllByRole('table', { name: 'Triggers' })).toHaveLength(2);
    expect(
      screen.getAllByRole('img', { name: /queue depth|messages|Replicas/i })
        .length,
    ).toBeGreaterThanOrEqual(2);

    // events inline, not behind a drawer
    expect(screen.getByText(`Events: ${so.name}`)).toBeInTheDocument();
    expect(screen.getAllByText('SuccessfulRescale').length).toBeGreaterThan(0);
    expect(screen.getByText(`Events: ${second.name}`)).toBeInTheDocument();
    expect(screen.getByText('No recent events.')).toBeInTheDocument();
  });

  it("lists the entity's requests, asking the backend for this entity only, linked to the requests page", async () => {
    const { api } = renderTab(fixtures.healthy, undefined, {
      requestsPagePath: '/platform/keda',
    });

    const link = await screen.findByRole('link', { name: 'req-now' });
    expect(link).toHaveAttribute('href', '/platform/keda/requests/req-now');
    expect(screen.getByRole('link', { name: 'req-old' })).toBeInTheDocument();
    expect(api.listRequests).toHaveBeenCalledWith({
      entityRef: ORDERS_WORKER_REF,
    });
    const row = link.closest('tr')!;
    expect(within(row).getByText('shop/orders-worker')).toBeInTheDocument();
    expect(within(row).getByText('orders-worker-queue')).toBeInTheDocument();
  });

  it('offers to remove the current request and to request autoscaling', async () => {
    renderTab(fixtures.healthy);
    await screen.findAllByTestId('keda-health-badge');
    const remove = screen.getByRole('button', { name: 'Remove autoscaling' });
    const formData = JSON.parse(
      new URL(remove.getAttribute('href')!, 'http://x').searchParams.get(
        'formData',
      )!,
    );
    expect(formData).toEqual({
      component: ORDERS_WORKER_REF,
      requestId: 'kr-7f3a2c',
    });
    expect(
      screen.getByRole('button', { name: 'Request autoscaling' }),
    ).toHaveAttribute(
      'href',
      expect.stringMatching(/keda-sqs-autoscaling\?formData=%7B%22component/),
    );
  });

  it('without a ScaledObject says so and shows the requests still pending', async () => {
    renderTab(fixtures.pendingRequest, []);
    expect(await screen.findByTestId('keda-pending-request')).toHaveTextContent(
      'waiting for approval',
    );
    expect(
      screen.queryByRole('button', { name: 'Remove autoscaling' }),
    ).not.toBeInTheDocument();
    expect(
      await screen.findByText('No KEDA requests for this entity yet.'),
    ).toBeInTheDocument();
  });

  it('shows the status error and still lists the requests', async () => {
    renderTab(new Error('keda backend down'));
    expect(
      await screen.findByText(
        /Could not load the autoscaling status: keda backend down/,
      ),
    ).toBeInTheDocument();
    expect(
      await screen.findByRole('link', { name: 'req-now' }),
    ).toBeInTheDocument();
  });
});
