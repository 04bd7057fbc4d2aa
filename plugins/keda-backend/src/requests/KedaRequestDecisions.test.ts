import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import {
  canTransition,
  KEDA_REQUEST_ACTIONS,
  KEDA_REQUEST_STATES,
  type KedaDecisionKind,
  type KedaRequestAction,
  type KedaRequestRecord,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import {
  allowedActions,
  DECISION_RULES,
  type DecisionApprovals,
} from './KedaRequestDecisions';
import { BOB, JANE, PAT } from './__testUtils__/policyPermissions';
import {
  APPROVER_GROUP,
  newOrdersRequest,
  ownWorkload,
} from './__testUtils__/requests';
import { startRequestsApp } from './__testUtils__/requestsApp';
import type { Caller } from './requestCallers';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

const APPROVALS: DecisionApprovals = {
  approverGroups: [APPROVER_GROUP],
  allowSelfApproval: false,
};

/** The callers of the matrix; JANE requested the request. */
const CALLERS = {
  requester: { userRef: JANE, mayApprove: false, mayProvision: false },
  other: { userRef: BOB, mayApprove: false, mayProvision: false },
  approver: { userRef: PAT, mayApprove: true, mayProvision: true },
  approvingRequester: { userRef: JANE, mayApprove: true, mayProvision: true },
  service: { mayApprove: true, mayProvision: true },
} satisfies Record<string, Caller>;
type CallerName = keyof typeof CALLERS;

// Written out here rather than read from DECISION_RULES, so that a changed
// rule fails this test.
const FROM: Record<KedaRequestAction, KedaRequestState[]> = {
  approve: ['pending'],
  reject: ['pending'],
  withdraw: ['pending'],
  retry: ['failed'],
  decommission: ['provisioned', 'failed'],
};

const TO: Record<KedaRequestAction, KedaRequestState> = {
  approve: 'approved',
  reject: 'rejected',
  withdraw: 'withdrawn',
  retry: 'approved',
  decommission: 'decommissioned',
};

const approverGroupsMay = `Members of ${APPROVER_GROUP} may`;

/** Each caller's answer per action, the state aside: undefined = allowed. */
const REFUSALS: Record<
  KedaRequestAction,
  Record<CallerName, string | undefined>
> = {
  approve: {
    requester: `You may not approve KEDA requests: permission 'keda.request.approve' was denied. ${approverGroupsMay}`,
    other: `You may not approve KEDA requests: permission 'keda.request.approve' was denied. ${approverGroupsMay}`,
    approver: undefined,
    approvingRequester:
      'You requested r-1 yourself; another approver has to approve it (or set keda.approvals.allowSelfApproval: true)',
    service: 'Only a person may approve a KEDA request; a service cannot',
  },
  reject: {
    requester: `You may not reject KEDA requests: permission 'keda.request.approve' was denied. ${approverGroupsMay}`,
    other: `You may not reject KEDA requests: permission 'keda.request.approve' was denied. ${approverGroupsMay}`,
    approver: undefined,
    approvingRequester: undefined,
    service: 'Only a person may reject a KEDA request; a service cannot',
  },
  withdraw: {
    requester: undefined,
    other: `Only the requester (${JANE}) may withdraw KEDA request r-1; approvers reject instead`,
    approver: `Only the requester (${JANE}) may withdraw KEDA request r-1; approvers reject instead`,
    approvingRequester: undefined,
    service: `Only the requester (${JANE}) may withdraw KEDA request r-1; approvers reject instead`,
  },
  retry: {
    requester: `You may not retry provisioning of KEDA requests: permission 'keda.iam.provision' was denied. ${approverGroupsMay}`,
    other: `You may not retry provisioning of KEDA requests: permission 'keda.iam.provision' was denied. ${approverGroupsMay}`,
    approver: undefined,
    approvingRequester: undefined,
    service: 'Only a person may retry provisioning',
  },
  decommission: {
    requester: undefined,
    other: `Only the requester (${JANE}) or the platform team may decommission KEDA request r-1`,
    approver: undefined,
    approvingRequester: undefined,
    service: undefined,
  },
};

const recordIn = (state: KedaRequestState): KedaRequestRecord =>
  ({ id: 'r-1', requester: JANE, state } as KedaRequestRecord);

describe('DECISION_RULES', () => {
  it('has a rule for every action', () => {
    expect(Object.keys(DECISION_RULES).sort()).toEqual(
      [...KEDA_REQUEST_ACTIONS].sort(),
    );
  });

  it.each(KEDA_REQUEST_ACTIONS)(
    '%s moves a request along edges of KEDA_REQUEST_TRANSITIONS only',
    action => {
      const rule = DECISION_RULES[action];
      expect([...rule.from]).toEqual(FROM[action]);
      expect(rule.to).toBe(TO[action]);
      for (const from of rule.from) {
        expect(`${from} → ${rule.to}: ${canTransition(from, rule.to)}`).toBe(
          `${from} → ${rule.to}: true`,
        );
      }
    },
  );

  describe.each(KEDA_REQUEST_ACTIONS)('%s', action => {
    it.each(Object.keys(CALLERS) as CallerName[])(
      'answers the %s exactly',
      name => {
        expect(
          DECISION_RULES[action].denial(
            recordIn(FROM[action][0]),
            CALLERS[name],
            APPROVALS,
          ),
        ).toBe(REFUSALS[action][name]);
      },
    );
  });

  it('names the config key when no approver group is configured', () => {
    expect(
      DECISION_RULES.approve.denial(recordIn('pending'), CALLERS.other, {
        approverGroups: [],
        allowSelfApproval: false,
      }),
    ).toBe(
      "You may not approve KEDA requests: permission 'keda.request.approve' was denied. Members of the approver groups (keda.approvals.approverGroups) may",
    );
  });

  it('lets an approver approve their own request with allowSelfApproval', () => {
    expect(
      DECISION_RULES.approve.denial(
        recordIn('pending'),
        CALLERS.approvingRequester,
        { ...APPROVALS, allowSelfApproval: true },
      ),
    ).toBeUndefined();
  });
});

describe('allowedActions', () => {
  describe.each(KEDA_REQUEST_STATES)('of a request in %s', state => {
    it.each(Object.keys(CALLERS) as CallerName[])('for the %s', name => {
      expect(allowedActions(recordIn(state), CALLERS[name], APPROVALS)).toEqual(
        KEDA_REQUEST_ACTIONS.filter(
          action => FROM[action].includes(state) && !REFUSALS[action][name],
        ),
      );
    });
  });
});

/** How the store gets a pending request into each state. */
const PATH_TO: Record<KedaRequestState, KedaRequestState[]> = {
  pending: [],
  approved: ['approved'],
  provisioning: ['approved', 'provisioning'],
  provisioned: ['approved', 'provisioning', 'provisioned'],
  failed: ['approved', 'failed'],
  rejected: ['rejected'],
  withdrawn: ['withdrawn'],
  decommissioned: ['approved', 'provisioning', 'provisioned', 'decommissioned'],
  superseded: ['approved', 'provisioning', 'provisioned', 'superseded'],
};

/** Who takes each action in the service test: someone the rule allows. */
const ACTOR: Record<KedaRequestAction, string> = {
  approve: PAT,
  reject: PAT,
  withdraw: JANE,
  retry: PAT,
  decommission: PAT,
};

/** Where an allowed action leaves the request (approvals start a task). */
const AFTER: Record<KedaRequestAction, KedaRequestState> = {
  approve: 'provisioning',
  reject: 'rejected',
  withdraw: 'withdrawn',
  retry: 'provisioning',
  decommission: 'decommissioned',
};

/** A request of its own workload, walked by the store into `state`. */
async function requestIn(
  app: Awaited<ReturnType<typeof startRequestsApp>>,
  id: string,
  state: KedaRequestState,
) {
  await app.store.insert(newOrdersRequest(id, ownWorkload(id)), []);
  let from: KedaRequestState = 'pending';
  for (const to of PATH_TO[state]) {
    await app.store.transition({
      id,
      from: [from],
      to,
      decision: { actor: 'policy', decision: to as KedaDecisionKind },
    });
    from = to;
  }
}

/** Takes `action` on `id` through the service, as ACTOR[action]. */
function decide(
  app: Awaited<ReturnType<typeof startRequestsApp>>,
  action: KedaRequestAction,
  id: string,
) {
  const credentials = mockCredentials.user(ACTOR[action]);
  return action === 'retry'
    ? app.service.retry(id, credentials)
    : app.service[action](id, { comment: 'as the matrix says' }, credentials);
}

/** The audit event each route records, whether it applies or not. */
const AUDIT_EVENT: Record<KedaRequestAction, string> = {
  approve: 'request-approve',
  reject: 'request-reject',
  withdraw: 'request-withdraw',
  retry: 'request-provision',
  decommission: 'request-decommission',
};

const CASES = KEDA_REQUEST_ACTIONS.flatMap(action =>
  KEDA_REQUEST_STATES.map(state => ({ action, state })),
);

describe('the decision routes, every action from every state', () => {
  it.each(CASES.filter(c => FROM[c.action].includes(c.state)))(
    '$action applies from $state',
    async ({ action, state }) => {
      const app = await startRequestsApp(databases);
      await requestIn(app, 'r-1', state);
      await expect(decide(app, action, 'r-1')).resolves.toMatchObject({
        id: 'r-1',
        state: AFTER[action],
      });
      expect(app.auditEvents).toEqual([
        { eventId: AUDIT_EVENT[action], outcome: 'success' },
      ]);
      expect(app.launches).toHaveLength(
        action === 'approve' || action === 'retry' ? 1 : 0,
      );
    },
  );

  it.each(CASES.filter(c => !FROM[c.action].includes(c.state)))(
    '$action is refused from $state with a conflict, changing nothing',
    async ({ action, state }) => {
      const app = await startRequestsApp(databases);
      await requestIn(app, 'r-1', state);
      await expect(decide(app, action, 'r-1')).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringMatching(
          new RegExp(
            `^KEDA request 'r-1' is ${state}( \\(.*\\))?; it cannot become ${
              TO[action]
            } from there \\(only from ${FROM[action].join(' or ')}\\)`,
          ),
        ),
      });
      expect((await app.store.get('r-1'))!.state).toBe(state);
      expect(app.auditEvents).toEqual([
        { eventId: AUDIT_EVENT[action], outcome: 'fail' },
      ]);
      expect(app.launches).toEqual([]);
    },
  );
});
