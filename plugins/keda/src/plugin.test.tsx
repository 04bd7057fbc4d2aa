import { EntityProvider } from '@backstage/plugin-catalog-react';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { KedaApi, kedaApiRef } from './api';
import { createKedaStatusFixtures, ordersWorkerEntity } from './fixtures';
import { EntityKedaScalingCard, kedaPlugin } from './plugin';

jest.setTimeout(30_000);

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
      await screen.findByTestId('keda-health-badge', {}, { timeout: 15_000 }),
    ).toHaveTextContent('Paused');
    expect(getStatus).toHaveBeenCalledWith(
      'component:default/orders-worker',
      expect.anything(),
    );
  });
});
