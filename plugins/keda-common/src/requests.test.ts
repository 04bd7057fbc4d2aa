import {
  canTransition,
  isFinalRequestState,
  KEDA_REQUEST_STATES,
  KEDA_REQUEST_TRANSITIONS,
  scaffolderTaskPagePath,
} from './requests';

describe('request state machine', () => {
  it('lets a decision apply only to a pending request (approval also to a failed one, as retry)', () => {
    for (const from of KEDA_REQUEST_STATES) {
      expect(canTransition(from, 'approved')).toBe(
        from === 'pending' || from === 'failed',
      );
      expect(canTransition(from, 'rejected')).toBe(from === 'pending');
      expect(canTransition(from, 'withdrawn')).toBe(from === 'pending');
    }
  });

  it('never provisions a request that was not approved', () => {
    for (const to of ['provisioning', 'provisioned', 'failed'] as const) {
      expect(canTransition('pending', to)).toBe(false);
      expect(canTransition('rejected', to)).toBe(false);
      expect(canTransition('withdrawn', to)).toBe(false);
    }
  });

  it('offers a retry after a failure and decommissioning after success', () => {
    expect(canTransition('failed', 'approved')).toBe(true);
    expect(canTransition('failed', 'provisioned')).toBe(false);
    expect(canTransition('provisioned', 'decommissioned')).toBe(true);
    expect(canTransition('failed', 'decommissioned')).toBe(true);
    expect(canTransition('pending', 'decommissioned')).toBe(false);
    expect(canTransition('provisioned', 'provisioning')).toBe(false);
  });

  it('treats rejected, withdrawn, decommissioned and superseded as final', () => {
    expect(KEDA_REQUEST_STATES.filter(isFinalRequestState).sort()).toEqual([
      'decommissioned',
      'rejected',
      'superseded',
      'withdrawn',
    ]);
  });

  it('only names known states as targets', () => {
    for (const targets of Object.values(KEDA_REQUEST_TRANSITIONS)) {
      for (const t of targets) expect(KEDA_REQUEST_STATES).toContain(t);
    }
  });

  it('links a task log page', () => {
    expect(scaffolderTaskPagePath('a b')).toBe('/create/tasks/a%20b');
  });
});
