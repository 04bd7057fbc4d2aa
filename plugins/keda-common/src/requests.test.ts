import {
  canTransition,
  isFinalRequestState,
  KEDA_REQUEST_STATES,
  KEDA_REQUEST_TRANSITIONS,
  pullRequestUrlProblem,
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

// Bad-input corpus (#16): the request page links to the pull request.
describe('pullRequestUrlProblem', () => {
  it.each([
    'https://github.com/acme/gitops/pull/7',
    'http://127.0.0.1:4567/acme/gitops/pull/7',
  ])('accepts %s', url => {
    expect(pullRequestUrlProblem(url)).toBeUndefined();
  });

  it.each([
    // eslint-disable-next-line no-script-url
    ['javascript:alert(document.cookie)', /http\(s\) URL/],
    ['data:text/html,<script>alert(1)</script>', /http\(s\) URL/],
    ['pull 7', /spaces/],
    ['[PR](https://attacker.example)', /not a URL/],
    [`https://github.com/acme/gitops/pull/${'7'.repeat(3000)}`, /at most 2048/],
    ['https://github.com/acme/gitops/pull/7\n', /control/],
  ])('refuses %s', (url, says) => {
    expect(pullRequestUrlProblem(url)).toMatch(says);
  });

  it('leaves values that are not strings to the schema', () => {
    expect(pullRequestUrlProblem(7)).toBeUndefined();
  });
});
