import { KEDA_REQUEST_STATES } from '@internal/plugin-keda-common';
import {
  availableActions,
  decisionLabel,
  requestStateView,
} from './requestState';

const JANE = 'user:default/jane.doe';
const SAM = 'user:default/sam.approver';

describe('requestStateView', () => {
  it('has a label and a description for every state of the backend', () => {
    for (const state of KEDA_REQUEST_STATES) {
      const view = requestStateView(state);
      expect(view.label).toMatch(/^[A-Z]/);
      expect(view.description.length).toBeGreaterThan(10);
    }
    expect(requestStateView('pending').label).toBe('Pending approval');
    expect(requestStateView('failed').tone).toBe('error');
  });

  it('shows a state unknown to this version in words instead of failing', () => {
    expect(requestStateView('on-hold')).toMatchObject({
      label: 'on hold',
      tone: 'closed',
    });
  });
});

describe('decisionLabel', () => {
  it('names decisions in words and passes unknown ones through', () => {
    expect(decisionLabel('auto-approved')).toBe('Auto-approved');
    expect(decisionLabel('escalated')).toBe('escalated');
  });
});

describe('availableActions', () => {
  it('offers approve and reject on a pending request to an approver, not withdraw', () => {
    expect(
      availableActions({
        record: { state: 'pending', requester: JANE },
        userEntityRef: SAM,
        canApprove: true,
        canProvision: true,
      }),
    ).toEqual({ approve: true, reject: true, withdraw: false, retry: false });
  });

  it('offers only withdraw to the requester without the approve permission', () => {
    expect(
      availableActions({
        record: { state: 'pending', requester: JANE },
        userEntityRef: JANE,
        canApprove: false,
        canProvision: false,
      }),
    ).toEqual({ approve: false, reject: false, withdraw: true, retry: false });
  });

  it('offers nothing once a request has been decided', () => {
    for (const state of ['approved', 'rejected', 'withdrawn'] as const) {
      expect(
        Object.values(
          availableActions({
            record: { state, requester: JANE },
            userEntityRef: JANE,
            canApprove: true,
            canProvision: true,
          }),
        ).some(Boolean),
      ).toBe(false);
    }
  });

  it('offers retry on a failed request only with the provision permission', () => {
    const failed = { state: 'failed' as const, requester: JANE };
    expect(
      availableActions({
        record: failed,
        userEntityRef: SAM,
        canApprove: true,
        canProvision: true,
      }).retry,
    ).toBe(true);
    expect(
      availableActions({
        record: failed,
        userEntityRef: SAM,
        canApprove: true,
        canProvision: false,
      }).retry,
    ).toBe(false);
  });

  it('does not offer withdraw while the identity is still unknown', () => {
    expect(
      availableActions({
        record: { state: 'pending', requester: JANE },
        userEntityRef: undefined,
        canApprove: false,
        canProvision: false,
      }).withdraw,
    ).toBe(false);
  });
});
