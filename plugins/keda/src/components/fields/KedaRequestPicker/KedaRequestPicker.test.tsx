import { renderInTestApp } from '@backstage/frontend-test-utils';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { kedaApiRef } from '../../../api';
import { requestsApi } from '../../KedaRequestsPage/__testUtils__/pageTestUtils';
import { requestRecord } from '../../KedaRequestsPage/__testUtils__/requestRecords';
import {
  KedaRequestPicker,
  type KedaRequestPickerProps,
} from './KedaRequestPicker';

jest.setTimeout(90_000);

const ORDERS = 'component:default/orders-worker';

function renderPicker(
  records: KedaRequestRecord[],
  options: {
    formData?: string;
    form?: Record<string, unknown>;
    uiOptions?: { entityRefField?: string };
  } = {},
) {
  const api = requestsApi(records);
  const onChange = jest.fn();
  const props = {
    formData: options.formData,
    onChange,
    required: true,
    schema: { title: 'Autoscaling to remove', type: 'string' },
    uiSchema: { 'ui:options': options.uiOptions ?? {} },
    formContext: { formData: options.form ?? { component: ORDERS } },
    idSchema: { $id: 'root_requestId' },
    rawErrors: [],
  } as unknown as KedaRequestPickerProps;
  renderInTestApp(<KedaRequestPicker {...props} />, {
    apis: [[kedaApiRef, api]],
  });
  return { api, onChange };
}

describe('KedaRequestPicker', () => {
  const east = requestRecord({ id: 'req-east', state: 'provisioned' });
  const replay = requestRecord({
    id: 'req-replay',
    workload: 'orders-replay',
    state: 'failed',
  });

  it("lists the chosen component's current requests and answers the picked id", async () => {
    const { api, onChange } = renderPicker([east, replay]);

    const option = await screen.findByRole('radio', {
      name: /prod-eu · shop\/orders-replay · queue orders-replay-queue \(failed, req-replay\)/,
    });
    expect(
      screen.getByRole('radio', {
        name: /prod-eu · shop\/orders-worker · queue orders-worker-queue \(provisioned, req-east\)/,
      }),
    ).toBeInTheDocument();
    expect(api.listRequests).toHaveBeenCalledWith({
      entityRef: ORDERS,
      state: ['provisioned', 'failed'],
    });
    expect(onChange).not.toHaveBeenCalled();

    await userEvent.click(option);
    expect(onChange).toHaveBeenLastCalledWith('req-replay');
  });

  it('chooses the only current request by itself', async () => {
    const { onChange } = renderPicker([east]);
    await screen.findByRole('radio', { name: /req-east/ });
    await waitFor(() => expect(onChange).toHaveBeenCalledWith('req-east'));
  });

  it('clears a pre-filled id that is not among the current requests', async () => {
    const { onChange } = renderPicker([east, replay], {
      formData: 'req-gone',
    });
    await screen.findByRole('radio', { name: /req-east/ });
    await waitFor(() => expect(onChange).toHaveBeenCalledWith(undefined));
  });

  it('keeps a pre-filled id that is one of them, checked', async () => {
    const { onChange } = renderPicker([east, replay], {
      formData: 'req-replay',
    });
    expect(
      await screen.findByRole('radio', { name: /req-replay/ }),
    ).toBeChecked();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('asks for the component first and does not call the backend without one', async () => {
    const { api } = renderPicker([east], { form: {} });
    expect(
      await screen.findByText(/Choose the component first/),
    ).toBeInTheDocument();
    expect(api.listRequests).not.toHaveBeenCalled();
  });

  it('says so when the component has no current request', async () => {
    renderPicker([]);
    expect(
      await screen.findByText(/has no current KEDA request/),
    ).toHaveTextContent(`${ORDERS} has no current KEDA request`);
  });

  it('reads the entity from the field named in ui:options', async () => {
    const { api } = renderPicker([east], {
      form: { service: 'component:default/billing-worker' },
      uiOptions: { entityRefField: 'service' },
    });
    await waitFor(() =>
      expect(api.listRequests).toHaveBeenCalledWith({
        entityRef: 'component:default/billing-worker',
        state: ['provisioned', 'failed'],
      }),
    );
  });

  it('shows why the list could not be loaded', async () => {
    const api = requestsApi([]);
    api.listRequests.mockRejectedValue(new Error('403 not allowed'));
    renderInTestApp(
      <KedaRequestPicker
        {...({
          onChange: jest.fn(),
          schema: {},
          uiSchema: {},
          formContext: { formData: { component: ORDERS } },
        } as unknown as KedaRequestPickerProps)}
      />,
      { apis: [[kedaApiRef, api]] },
    );
    expect(
      await screen.findByText(/Could not load the KEDA requests/),
    ).toHaveTextContent(
      `Could not load the KEDA requests of ${ORDERS}: 403 not allowed`,
    );
  });
});
