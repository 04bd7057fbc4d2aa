import { ResponseError } from '@backstage/errors';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  CLUSTERS,
  formApi,
  recordingValidation,
  renderField,
} from '../common/__testUtils__/fieldHarness';
import {
  KedaClusterPicker,
  kedaClusterPickerValidation,
} from './KedaClusterPicker';

jest.setTimeout(90_000);

describe('KedaClusterPicker', () => {
  it('lists the configured clusters with account and region and sets the chosen one', async () => {
    const { onChange, api } = await renderField(KedaClusterPicker, {
      field: 'cluster',
      schema: { title: 'Cluster' },
    });
    expect(api.listClusters).toHaveBeenCalledTimes(1);
    const select = await screen.findByRole('button', { name: /Cluster/ });
    fireEvent.mouseDown(select);
    const listbox = await screen.findByRole('listbox');
    expect(within(listbox).getByText('demo-eks')).toBeInTheDocument();
    expect(
      within(listbox).getByText('account 111111111111 · eu-west-1'),
    ).toBeInTheDocument();
    expect(within(listbox).getByText('Production US')).toBeInTheDocument();
    expect(
      within(listbox).getByText('prod-us · account 333333333333 · us-east-1'),
    ).toBeInTheDocument();

    fireEvent.click(within(listbox).getByText('Production US'));
    expect(onChange).toHaveBeenLastCalledWith('prod-us');
    expect(
      await screen.findByText('account 333333333333 · us-east-1'),
    ).toBeInTheDocument();
  });

  it('chooses the only cluster for the person', async () => {
    const { onChange } = await renderField(KedaClusterPicker, {
      field: 'cluster',
      api: formApi({ listClusters: jest.fn(async () => [CLUSTERS[0]]) }),
    });
    await waitFor(() => expect(onChange).toHaveBeenCalledWith('demo-eks'));
    expect(
      await screen.findByText('account 111111111111 · eu-west-1'),
    ).toBeInTheDocument();
  });

  it('does not override a choice when there are several clusters', async () => {
    const { onChange } = await renderField(KedaClusterPicker, {
      field: 'cluster',
      value: 'prod-us',
    });
    expect(
      await screen.findByText('account 333333333333 · us-east-1'),
    ).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('falls back to typing the name when the clusters cannot be listed, saying why', async () => {
    const forbidden = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: {
            name: 'NotAllowedError',
            message: "permission 'keda.status.read' was denied",
          },
          response: { statusCode: 403 },
        }),
        { status: 403, headers: { 'Content-Type': 'application/json' } },
      ),
    );
    const { onChange } = await renderField(KedaClusterPicker, {
      field: 'cluster',
      schema: { title: 'Cluster' },
      api: formApi({
        listClusters: jest.fn(async () => {
          throw forbidden;
        }),
      }),
    });
    expect(
      await screen.findByText(
        /Could not list the clusters: .*keda\.status\.read/,
      ),
    ).toBeInTheDocument();
    fireEvent.change(screen.getByRole('textbox', { name: /Cluster/ }), {
      target: { value: 'prod-eu' },
    });
    expect(onChange).toHaveBeenLastCalledWith('prod-eu');
  });
});

describe('kedaClusterPickerValidation', () => {
  const apiHolder = (api: ReturnType<typeof formApi>) => ({
    get: () => api as any,
  });

  it('refuses a cluster the backend does not know, naming the configured ones', async () => {
    const { errors, validation } = recordingValidation();
    await kedaClusterPickerValidation('prod-eu', validation, {
      apiHolder: apiHolder(formApi()),
      formData: {},
      schema: {},
    });
    expect(errors).toEqual([
      'cluster: "prod-eu" is not a configured cluster; choose one of demo-eks, prod-us',
    ]);
  });

  it('accepts a configured cluster', async () => {
    const { errors, validation } = recordingValidation();
    await kedaClusterPickerValidation('demo-eks', validation, {
      apiHolder: apiHolder(formApi()),
      formData: {},
      schema: {},
    });
    expect(errors).toEqual([]);
  });

  it('leaves the decision to the run when the list cannot be read', async () => {
    const { errors, validation } = recordingValidation();
    await kedaClusterPickerValidation('prod-eu', validation, {
      apiHolder: apiHolder(
        formApi({
          listClusters: jest.fn(async () => {
            throw new Error('offline');
          }),
        }),
      ),
      formData: {},
      schema: {},
    });
    expect(errors).toEqual([]);
  });
});
