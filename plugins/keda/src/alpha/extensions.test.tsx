import type { Entity } from '@backstage/catalog-model';
import {
  ApiBlueprint,
  coreExtensionData,
} from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  mockApis,
  renderInTestApp,
  renderTestApp,
} from '@backstage/frontend-test-utils';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { createTestEntityPage } from '@backstage/plugin-catalog-react/testUtils';
import { screen, waitFor, within } from '@testing-library/react';
import { KedaApi, KedaClient, kedaApiRef } from '../api';
import { createKedaStatusFixtures, ordersWorkerEntity } from '../fixtures';
import kedaPlugin from '../alpha';
import { kedaApi, kedaRequestsPage, kedaScalingEntityCard } from './extensions';

jest.setTimeout(90_000);

// Lazy extension loaders compile their modules on first use under Jest, which
// can take seconds on a busy machine: poll for the first paint with a deadline.
const LAZY = { timeout: 45_000 };

const fixtures = createKedaStatusFixtures(new Date());

function statusApi() {
  return jest.fn<
    ReturnType<KedaApi['getStatus']>,
    Parameters<KedaApi['getStatus']>
  >(async () => fixtures.healthy);
}

describe('kedaScalingEntityCard', () => {
  it('is shown on the entity page of an entity with a Kubernetes id', async () => {
    const getStatus = statusApi();
    renderTestApp({
      extensions: [
        createTestEntityPage({ entity: ordersWorkerEntity }),
        kedaScalingEntityCard,
      ],
      apis: [[kedaApiRef, { getStatus }]],
    });

    expect(
      await screen.findByText('Autoscaling', {}, LAZY),
    ).toBeInTheDocument();
    expect(await screen.findByTestId('keda-health-badge')).toHaveTextContent(
      'Active',
    );
  });

  it('is left out for an entity without Kubernetes annotations', async () => {
    const getStatus = statusApi();
    const website: Entity = {
      ...ordersWorkerEntity,
      metadata: { name: 'marketing-site', annotations: {} },
    };
    renderTestApp({
      extensions: [
        createTestEntityPage({ entity: website }),
        kedaScalingEntityCard,
        EntityCardBlueprint.make({
          name: 'marker',
          params: { loader: async () => <div>other card</div> },
        }),
      ],
      apis: [[kedaApiRef, { getStatus }]],
    });

    expect(await screen.findByText('other card', {}, LAZY)).toBeInTheDocument();
    expect(screen.queryByText('Autoscaling')).not.toBeInTheDocument();
    expect(getStatus).not.toHaveBeenCalled();
  });

  it('outputs an entity filter that matches the label-selector annotation too', () => {
    const tester = createExtensionTester(kedaScalingEntityCard);
    const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction)!;
    expect(filter(ordersWorkerEntity)).toBe(true);
    expect(
      filter({
        ...ordersWorkerEntity,
        metadata: {
          name: 'x',
          annotations: {
            'backstage.io/kubernetes-label-selector': 'app=x',
          },
        },
      }),
    ).toBe(true);
    expect(filter({ ...ordersWorkerEntity, metadata: { name: 'y' } })).toBe(
      false,
    );
  });

  it('accepts a refreshIntervalSeconds card option and rejects a negative one', () => {
    expect(() =>
      createExtensionTester(kedaScalingEntityCard, {
        config: { refreshIntervalSeconds: 30, title: 'Scaling' },
      }).get(coreExtensionData.reactElement),
    ).not.toThrow();
    const reported: string[] = [];
    expect(() =>
      createExtensionTester(kedaScalingEntityCard, {
        config: { refreshIntervalSeconds: -1 },
        isExpectedError: error => {
          reported.push(error.message);
          return true;
        },
      }).get(coreExtensionData.reactElement),
    ).toThrow();
    expect(reported.join('\n')).toMatch(/refreshIntervalSeconds/);
  });

  it('takes its title from the extension config in app-config', async () => {
    renderTestApp({
      // Installed through the plugin so the card gets its app-config id.
      features: [kedaPlugin],
      extensions: [createTestEntityPage({ entity: ordersWorkerEntity })],
      apis: [[kedaApiRef, { getStatus: statusApi() }]],
      config: {
        app: {
          extensions: [
            {
              'entity-card:keda/scaling': {
                config: {
                  title: 'Queue autoscaling',
                  refreshIntervalSeconds: 60,
                },
              },
            },
          ],
        },
      },
    });

    expect(
      await screen.findByText('Queue autoscaling', {}, LAZY),
    ).toBeInTheDocument();
  });
});

describe('kedaApi', () => {
  it('builds a KedaClient from the discovery and fetch APIs', async () => {
    const tester = createExtensionTester(kedaApi);
    const factory = tester.get(ApiBlueprint.dataRefs.factory);
    expect(factory.api.id).toBe(kedaApiRef.id);

    const fetch = jest.fn(
      async (_url: string, _init?: RequestInit) =>
        new Response(JSON.stringify(fixtures.healthy)),
    );
    const client = factory.factory({
      discoveryApi: mockApis.discovery({ baseUrl: 'http://backstage.test' }),
      fetchApi: { fetch },
    }) as KedaClient;
    expect(client).toBeInstanceOf(KedaClient);
    await client.getStatus('component:default/orders-worker');
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0];
    expect(init?.method).toBe('GET');
    expect(url).toBe(
      'http://backstage.test/api/keda/status?entityRef=component%3Adefault%2Forders-worker',
    );
  });
});

describe('kedaRequestsPage', () => {
  it('renders the requests page with the request list and a link to the template', async () => {
    const tester = createExtensionTester(kedaRequestsPage);
    expect(tester.get(coreExtensionData.routePath)).toBe('/keda');
    expect(tester.get(coreExtensionData.title)).toBe('KEDA requests');

    const listRequests = jest.fn(async () => []);
    const unused = () =>
      jest.fn(async () => Promise.reject(new Error('unused')));
    await renderInTestApp(tester.reactElement(), {
      apis: [
        [
          kedaApiRef,
          {
            getStatus: statusApi(),
            listRequests,
            getRequest: unused(),
            approveRequest: unused(),
            rejectRequest: unused(),
            withdrawRequest: unused(),
            retryRequest: unused(),
          },
        ],
      ],
    });
    expect(
      await screen.findByText(
        'No KEDA requests match these filters.',
        {},
        LAZY,
      ),
    ).toBeInTheDocument();
    expect(listRequests).toHaveBeenCalledWith({});
    expect(
      screen.getByRole('button', { name: 'Request autoscaling' }),
    ).toHaveAttribute('href', '/create/templates/default/keda-sqs-autoscaling');
  });
  it('shows one request at /keda/requests/<id>, the link keda:request:record hands out', async () => {
    const record = {
      id: 'req-7',
      entityRef: 'component:default/orders-worker',
      requester: 'user:default/jane.doe',
      cluster: 'prod-eu',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      state: 'rejected',
      autoApproved: false,
      approvalReasons: [],
      createdAt: '2026-11-28T06:00:00.000Z',
      updatedAt: '2026-11-28T06:10:00.000Z',
      decisions: [],
    };
    const getRequest = jest.fn(async () => record as any);
    const unused = () =>
      jest.fn(async () => Promise.reject(new Error('unused')));
    renderTestApp({
      features: [kedaPlugin],
      initialRouteEntries: ['/keda/requests/req-7'],
      apis: [
        [
          kedaApiRef,
          {
            getStatus: statusApi(),
            listRequests: unused(),
            getRequest,
            approveRequest: unused(),
            rejectRequest: unused(),
            withdrawRequest: unused(),
            retryRequest: unused(),
          },
        ],
      ],
    });
    expect(
      await screen.findByRole(
        'heading',
        { name: 'component:default/orders-worker' },
        LAZY,
      ),
    ).toBeInTheDocument();
    expect(getRequest).toHaveBeenCalledWith('req-7');
    expect(
      screen.getByRole('link', { name: 'Back to all requests' }),
    ).toHaveAttribute('href', '/keda');
  });
});

describe('the keda frontend plugin', () => {
  it('has the pluginId keda and provides the card, the API and the page', () => {
    expect(kedaPlugin.pluginId).toBe('keda');
    expect(kedaPlugin.getExtension('entity-card:keda/scaling')).toBeDefined();
    expect(kedaPlugin.getExtension('api:keda')).toBeDefined();
    expect(kedaPlugin.getExtension('page:keda')).toBeDefined();
  });

  it('mounts the requests page in an app with a nav entry titled "KEDA requests"', async () => {
    renderTestApp({
      features: [kedaPlugin],
      initialRouteEntries: ['/keda'],
    });
    await waitFor(
      () =>
        expect(
          screen.getByRole('heading', { name: 'KEDA autoscaling requests' }),
        ).toBeInTheDocument(),
      LAZY,
    );
    const sidebar = screen.getByRole('navigation', { name: 'sidebar nav' });
    expect(
      within(sidebar).getByRole('link', { name: 'KEDA requests' }),
    ).toHaveAttribute('href', '/keda');
  });
});
