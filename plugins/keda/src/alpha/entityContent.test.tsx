import { coreExtensionData } from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import { screen } from '@testing-library/react';
import { kedaApiRef } from '../api';
import { requestsApi } from '../components/KedaRequestsPage/__testUtils__/pageTestUtils';
import { requestRecord } from '../components/KedaRequestsPage/__testUtils__/requestRecords';
import { kedaRequestPickerFormField } from '../components/fields/KedaRequestPicker';
import { createKedaStatusFixtures, ordersWorkerEntity } from '../fixtures';
import kedaPlugin from '../alpha';
import { kedaEntityContent } from './entityContent';
import { kedaScalingEntityCard } from './extensions';
import { kedaRequestPickerField } from './kedaRequestPicker';

jest.setTimeout(90_000);
const LAZY = { timeout: 45_000 };
const fixtures = createKedaStatusFixtures(new Date());

function kedaApi() {
  return {
    getStatus: jest.fn(async () => fixtures.healthy),
    ...requestsApi([requestRecord({ id: 'req-now', state: 'provisioned' })]),
  };
}

describe('kedaEntityContent', () => {
  it('is the "Autoscaling" tab at /autoscaling', () => {
    const tester = createExtensionTester(kedaEntityContent);
    expect(tester.get(coreExtensionData.routePath)).toBe('/autoscaling');
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(
      'Autoscaling',
    );
  });

  it('applies to exactly the entities the scaling card applies to', () => {
    const tab = createExtensionTester(kedaEntityContent).get(
      EntityContentBlueprint.dataRefs.filterFunction,
    )!;
    const card = createExtensionTester(kedaScalingEntityCard).get(
      EntityCardBlueprint.dataRefs.filterFunction,
    )!;
    const entities = [
      ordersWorkerEntity,
      { ...ordersWorkerEntity, metadata: { name: 'no-annotations' } },
      {
        ...ordersWorkerEntity,
        metadata: {
          name: 'selector',
          annotations: { 'backstage.io/kubernetes-label-selector': 'app=x' },
        },
      },
    ];
    expect(entities.map(e => tab(e))).toEqual([true, false, true]);
    expect(entities.map(e => tab(e))).toEqual(entities.map(e => card(e)));
  });

  it("renders the full view with the entity's requests, linked to the requests page", async () => {
    const api = kedaApi();
    const tester = createExtensionTester(kedaEntityContent);
    await renderInTestApp(
      <EntityProvider entity={ordersWorkerEntity}>
        {tester.reactElement()}
      </EntityProvider>,
      { apis: [[kedaApiRef, api]] },
    );
    expect(
      await screen.findByTestId('keda-health-badge', {}, LAZY),
    ).toHaveTextContent('Active');
    expect(
      await screen.findByRole('link', { name: 'req-now' }),
    ).toHaveAttribute('href', '/keda/requests/req-now');
  });

  it('is installed by the plugin, with the picker field', () => {
    expect(
      kedaPlugin.getExtension('entity-content:keda/autoscaling'),
    ).toBeDefined();
    expect(
      kedaPlugin.getExtension('scaffolder-form-field:keda/request-picker'),
    ).toBeDefined();
  });
});

describe('kedaRequestPickerField', () => {
  it('provides the KedaRequestPicker form field to the scaffolder', async () => {
    const tester = createExtensionTester(kedaRequestPickerField);
    const loader = tester.get(FormFieldBlueprint.dataRefs.formFieldLoader);
    await expect(loader()).resolves.toBe(kedaRequestPickerFormField);
  });
});
