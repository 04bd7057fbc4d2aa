import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { kedaApiRef } from '../../api';
import { KedaRequestsPage } from './KedaRequestsPage';
import { JANE, requestRecord } from './__testUtils__/requestRecords';
import {
  detailPath,
  renderPage,
  requestsApi,
} from './__testUtils__/pageTestUtils';

// Developer's view (the backend allows no approve, reject or retry).

jest.setTimeout(90_000);
const SLOW = { timeout: 45_000 };

describe('KedaRequestsPage for a developer', () => {
  it('offers no approve or reject to a user without the approve permission', async () => {
    const api = requestsApi([requestRecord()]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: 'user:default/someone.else',
    });

    await screen.findByRole(
      'heading',
      { name: 'component:default/orders-worker' },
      SLOW,
    );
    expect(
      screen.queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Reject' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Withdraw' }),
    ).not.toBeInTheDocument();
  });

  it('offers withdraw to the requester only, and withdraws', async () => {
    const api = requestsApi([requestRecord({ allowedActions: ['withdraw'] })]);
    await renderPage(api, {
      path: detailPath('req-orders'),
      user: JANE,
    });

    await userEvent.click(
      await screen.findByRole('button', { name: 'Withdraw' }, SLOW),
    );
    expect(
      screen.queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
    const dialog = screen.getByRole('dialog', {
      name: 'Withdraw your request?',
    });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Withdraw' }),
    );
    await waitFor(() =>
      expect(api.withdrawRequest).toHaveBeenCalledWith('req-orders', {}),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('Withdrawn.');
  });

  it('lists requests for a developer too', async () => {
    const api = requestsApi([requestRecord()]);
    await renderPage(api, { user: JANE });
    expect(
      await screen.findByRole(
        'link',
        { name: 'component:default/orders-worker' },
        SLOW,
      ),
    ).toHaveAttribute('href', '/keda/requests/req-orders');
  });
});

describe('KedaRequestsPage with a status-only keda API', () => {
  it('names the missing request methods instead of failing on a click', async () => {
    await renderInTestApp(<KedaRequestsPage />, {
      mountPath: '/keda',
      initialRouteEntries: ['/keda'],
      apis: [[kedaApiRef, { getStatus: jest.fn() }]],
    });
    const matches = await screen.findAllByText(
      /does not implement the request API: missing listRequests, getRequest/,
      {},
      SLOW,
    );
    expect(matches.length).toBeGreaterThan(0);
  });
});
