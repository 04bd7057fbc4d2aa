import { KEDA_REQUEST_STATES } from '@keda-self-service/plugin-keda-common';
import {
  availableActions,
  decisionLabel,
  requestStateView,
} from './requestState';

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
  it('offers the decisions the backend allows, and only those', () => {
    expect(availableActions({ allowedActions: ['approve', 'reject'] })).toEqual(
      { approve: true, reject: true, withdraw: false, retry: false },
    );
    // e.g. an approver's own request while self-approval is off
    expect(
      availableActions({ allowedActions: ['reject', 'withdraw'] }),
    ).toEqual({ approve: false, reject: true, withdraw: true, retry: false });
    expect(availableActions({ allowedActions: ['retry'] })).toEqual({
      approve: false,
      reject: false,
      withdraw: false,
      retry: true,
    });
  });

  it('offers nothing when the backend allows nothing or did not say', () => {
    for (const record of [{ allowedActions: [] }, {}]) {
      expect(Object.values(availableActions(record)).some(Boolean)).toBe(false);
    }
  });
});
