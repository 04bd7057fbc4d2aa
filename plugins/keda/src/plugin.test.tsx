import { featureFlagsApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import {
  ScaffolderFieldExtensions,
  useCustomFieldExtensions,
} from '@backstage/plugin-scaffolder-react';
import { renderHook, screen } from '@testing-library/react';
import { KedaRequestPicker } from './components/fields/KedaRequestPicker';
import { KedaApi, kedaApiRef } from './api';
import { createKedaStatusFixtures, ordersWorkerEntity } from './fixtures';
import { requestsApi } from './components/KedaRequestsPage/__testUtils__/pageTestUtils';
import { requestRecord } from './components/KedaRequestsPage/__testUtils__/requestRecords';
import {
  EntityKedaContent,
  EntityKedaScalingCard,
  KedaRequestPickerFieldExtension,
  kedaPlugin,
} from './plugin';

jest.setTimeout(90_000);

describe('legacy kedaPlugin', () => {
  it('has the id keda and registers a factory for kedaApiRef', () => {
    expect(kedaPlugin.getId()).toBe('keda');
    const apiIds = [...kedaPlugin.getApis()].map(factory => factory.api.id);
    expect(apiIds).toContain(kedaApiRef.id);
  });

  it('renders EntityKedaScalingCard in a legacy app', async () => {
    const getStatus = jest.fn<
      ReturnType<KedaApi['getStatus']>,
      Parameters<KedaApi['getStatus']>
    >(async () => createKedaStatusFixtures().paused);

    await renderInTestApp(
      <TestApiProvider apis={[[kedaApiRef, { getStatus }]]}>
        <EntityProvider entity={ordersWorkerEntity}>
          <EntityKedaScalingCard refreshIntervalSeconds={60} />
        </EntityProvider>
      </TestApiProvider>,
    );

    expect(
      await screen.findByTestId('keda-health-badge', {}, { timeout: 45_000 }),
    ).toHaveTextContent('Paused');
    expect(getStatus).toHaveBeenCalledWith(
      'component:default/orders-worker',
      expect.anything(),
    );
  });

  it('renders the EntityKedaContent tab in a legacy app, linking requests to the given page', async () => {
    const api = {
      getStatus: jest.fn(async () => createKedaStatusFixtures().healthy),
      ...requestsApi([requestRecord({ id: 'req-now', state: 'provisioned' })]),
    };
    await renderInTestApp(
      <TestApiProvider apis={[[kedaApiRef, api]]}>
        <EntityProvider entity={ordersWorkerEntity}>
          <EntityKedaContent requestsPagePath="/autoscaling-requests" />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findByRole('link', { name: 'req-now' }, { timeout: 45_000 }),
    ).toHaveAttribute('href', '/autoscaling-requests/requests/req-now');
    expect(await screen.findByTestId('keda-health-badge')).toHaveTextContent(
      'Active',
    );
  });

  it('exports the KedaRequestPicker field extension for the legacy scaffolder', () => {
    const { result } = renderHook(
      () =>
        useCustomFieldExtensions(
          <ScaffolderFieldExtensions>
            <KedaRequestPickerFieldExtension />
          </ScaffolderFieldExtensions>,
        ),
      {
        wrapper: ({ children }) => (
          <TestApiProvider
            apis={[[featureFlagsApiRef, { isActive: () => false }]]}
          >
            {children}
          </TestApiProvider>
        ),
      },
    );
    expect(result.current).toEqual([
      expect.objectContaining({
        name: 'KedaRequestPicker',
        component: KedaRequestPicker,
      }),
    ]);
  });
});
