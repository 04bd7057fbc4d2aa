import {
  deployment,
  hpa,
  OPERATOR_ROLE,
  QUEUE_URL,
  SCALER_ROLE,
  scaledObject,
  triggerAuthentication,
} from '../__fixtures__/objects';
import {
  buildScaledObjectStatus,
  historyValues,
  type ScaledObjectStatusInput,
} from './buildScaledObjectStatus';

function input(
  overrides: Partial<ScaledObjectStatusInput> = {},
): ScaledObjectStatusInput {
  const ta = triggerAuthentication();
  return {
    cluster: {
      name: 'demo-eks',
      accountId: '111111111111',
      operatorRoleArn: OPERATOR_ROLE,
    },
    scaledObject: scaledObject(),
    hpa: hpa(),
    scaleTarget: { found: true, object: deployment() },
    findTriggerAuthentication: (kind, name) =>
      kind === 'TriggerAuthentication' && name === 'orders-sqs'
        ? ta
        : undefined,
    events: [],
    history: [],
    ...overrides,
  };
}

describe('buildScaledObjectStatus', () => {
  it('derives health, replicas, triggers, auth chain, HPA and provenance from cached objects', () => {
    const status = buildScaledObjectStatus(input());
    expect(status).toMatchObject({
      cluster: 'demo-eks',
      namespace: 'orders',
      name: 'orders-worker',
      health: 'Healthy',
      paused: false,
      scaleTarget: { kind: 'Deployment', name: 'orders-worker' },
      replicas: { current: 3, desired: 3, min: 0, max: 20 },
      lastActiveTime: '2026-11-28T05:59:00Z',
      diagnoses: [],
      provenance: {
        requestId: 'req-123',
        pullRequestUrl: 'https://github.com/acme/gitops/pull/7',
      },
    });
    expect(status.triggers).toEqual([
      {
        type: 'aws-sqs-queue',
        metricName: 's0-aws-sqs-orders',
        queueName: 'orders',
        queueUrl: QUEUE_URL,
        accountId: '222222222222',
        region: 'eu-west-1',
        targetPerReplica: 10,
        activationThreshold: 2,
        scaleOnInFlight: true,
        scaleOnDelayed: false,
        currentValuePerReplica: 1.334,
        estimatedQueueDepth: 4,
        numberOfFailures: 0,
        healthStatus: 'Happy',
      },
    ]);
    expect(status.auth).toEqual({
      kind: 'TriggerAuthentication',
      name: 'orders-sqs',
      found: true,
      provider: 'aws',
      identityOwner: undefined,
      roleArn: SCALER_ROLE,
      roleAccountId: '222222222222',
      operatorRoleArn: OPERATOR_ROLE,
      crossAccount: true,
      externalIdSet: true,
      deprecatedProvider: false,
    });
    expect(status.hpa).toEqual({
      name: 'keda-hpa-orders-worker',
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          reason: 'ReadyForNewScale',
          message: undefined,
          lastTransitionTime: undefined,
        },
        {
          type: 'ScalingActive',
          status: 'True',
          reason: 'ValidMetricFound',
          message: undefined,
          lastTransitionTime: undefined,
        },
      ],
      lastScaleTime: '2026-11-28T05:58:00Z',
      currentReplicas: 3,
      desiredReplicas: 3,
    });
  });

  it('accepts Date objects from the typed client as well as strings from the watch', () => {
    const h = hpa();
    (h.status as any).lastScaleTime = new Date('2026-11-28T05:58:00Z');
    expect(buildScaledObjectStatus(input({ hpa: h })).hpa?.lastScaleTime).toBe(
      '2026-11-28T05:58:00.000Z',
    );
  });

  it('estimates depth as value per replica × replicas the HPA averaged over', () => {
    const status = buildScaledObjectStatus(
      input({
        hpa: hpa('12500m', 4),
        scaleTarget: { found: true, object: deployment(4) },
      }),
    );
    expect(status.triggers[0].estimatedQueueDepth).toBe(50);
  });

  it('reports no depth estimate when scaled to zero (the HPA sees no replicas)', () => {
    const status = buildScaledObjectStatus(
      input({
        hpa: hpa('0', 0),
        scaleTarget: { found: true, object: deployment(0) },
      }),
    );
    expect(status.replicas.current).toBe(0);
    expect(status.triggers[0].estimatedQueueDepth).toBeUndefined();
  });

  describe('scaled to zero', () => {
    const drained = (
      activationQueueLength: string,
      active: 'True' | 'False',
      ready: 'True' | 'False' = 'True',
    ) => {
      const so = scaledObject();
      so.spec.triggers[0].metadata!.activationQueueLength =
        activationQueueLength;
      const statusOf: Record<string, 'True' | 'False'> = {
        Active: active,
        Ready: ready,
      };
      so.status!.conditions = so.status!.conditions!.map(c => ({
        ...c,
        status: statusOf[c.type] ?? c.status,
      }));
      return buildScaledObjectStatus(
        input({
          scaledObject: so,
          hpa: hpa('0', 0),
          scaleTarget: { found: true, object: deployment(0) },
        }),
      );
    };

    it('reports depth 0 when KEDA is not Active and activates above 0', () => {
      const status = drained('0', 'False');
      expect(status.triggers[0]).toMatchObject({
        idle: true,
        estimatedQueueDepth: 0,
      });
      expect(historyValues(status)).toEqual({ replicas: 0, queueDepth: 0 });
    });

    it('says only "idle" when the activation threshold is above 0: the depth is at most that', () => {
      const [trigger] = drained('2', 'False').triggers;
      expect(trigger.idle).toBe(true);
      expect(trigger.activationThreshold).toBe(2);
      expect(trigger.estimatedQueueDepth).toBeUndefined();
    });

    it('claims nothing while KEDA is Active or not Ready', () => {
      for (const status of [
        drained('0', 'True'),
        drained('0', 'False', 'False'),
      ]) {
        expect(status.triggers[0].idle).toBeUndefined();
        expect(status.triggers[0].estimatedQueueDepth).toBeUndefined();
      }
    });
  });

  it('is Suspended with the paused replica count when paused by annotation', () => {
    const so = scaledObject({
      annotations: { 'autoscaling.keda.sh/paused-replicas': '2' },
    });
    const status = buildScaledObjectStatus(input({ scaledObject: so }));
    expect(status).toMatchObject({
      health: 'Suspended',
      paused: true,
      replicas: { paused: 2 },
    });
    expect(status.provenance).toBeUndefined();
  });

  it('is Degraded with a diagnosis when Ready=False and a KEDAScalerFailed event explains it', () => {
    const so = scaledObject();
    so.status!.conditions![0] = {
      type: 'Ready',
      status: 'False',
      reason: 'ScaledObjectCheckFailed',
      message: 'Triggers defined in ScaledObject are not working correctly',
    };
    const status = buildScaledObjectStatus(
      input({
        scaledObject: so,
        events: [
          {
            type: 'Warning',
            reason: 'KEDAScalerFailed',
            message:
              'api error AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.',
            involvedObject: { kind: 'ScaledObject', name: 'orders-worker' },
          },
        ],
      }),
    );
    expect(status.health).toBe('Degraded');
    expect(status.diagnoses.map(d => d.code)).toEqual(['NonExistentQueue']);
  });

  it('flags a deprecated aws-eks provider and a missing TriggerAuthentication', () => {
    const ta = triggerAuthentication({ provider: 'aws-eks' });
    const deprecated = buildScaledObjectStatus(
      input({ findTriggerAuthentication: () => ta }),
    );
    expect(deprecated.auth).toMatchObject({
      provider: 'aws-eks',
      deprecatedProvider: true,
      externalIdSet: false,
    });
    expect(deprecated.diagnoses.map(d => d.code)).toEqual([
      'DeprecatedProvider',
    ]);

    const missing = buildScaledObjectStatus(
      input({ findTriggerAuthentication: () => undefined }),
    );
    expect(missing.auth).toMatchObject({ found: false, name: 'orders-sqs' });
    expect(missing.diagnoses.map(d => d.code)).toEqual([
      'TriggerAuthenticationMissing',
    ]);
  });

  it("shows the operator's configured identity: an EKS Pod Identity binding or IRSA", () => {
    const auth = (identity: 'irsa' | 'pod-identity') =>
      buildScaledObjectStatus(
        input({
          cluster: {
            name: 'demo-eks',
            accountId: '111111111111',
            operatorRoleArn: OPERATOR_ROLE,
            identity,
            operatorNamespace: 'keda',
            operatorServiceAccount: 'keda-operator',
          },
        }),
      ).auth;
    expect(auth('pod-identity')?.operatorIdentity).toEqual({
      method: 'pod-identity',
      namespace: 'keda',
      serviceAccount: 'keda-operator',
    });
    expect(auth('irsa')?.operatorIdentity?.method).toBe('irsa');
    // without the cluster's identity config the chain names none
    expect(
      buildScaledObjectStatus(input()).auth?.operatorIdentity,
    ).toBeUndefined();
  });

  it('resolves a ClusterTriggerAuthentication reference', () => {
    const so = scaledObject();
    so.spec.triggers[0].authenticationRef = {
      name: 'platform-sqs',
      kind: 'ClusterTriggerAuthentication',
    };
    const lookups: string[] = [];
    const status = buildScaledObjectStatus(
      input({
        scaledObject: so,
        findTriggerAuthentication: (kind, name) => {
          lookups.push(`${kind}/${name}`);
          return triggerAuthentication();
        },
      }),
    );
    expect(lookups).toEqual(['ClusterTriggerAuthentication/platform-sqs']);
    expect(status.auth?.kind).toBe('ClusterTriggerAuthentication');
  });

  it('reports a missing scale target when its kind is cached', () => {
    const status = buildScaledObjectStatus(
      input({ scaleTarget: { found: false } }),
    );
    expect(status.diagnoses.map(d => d.code)).toContain('ScaleTargetMissing');
    // A missing workload runs no pods, whatever the HPA last saw.
    expect(status.replicas.current).toBe(0);
  });

  it('falls back to the HPA replica counts for targets whose kind is not cached', () => {
    const so = scaledObject();
    so.spec.scaleTargetRef = {
      name: 'orders',
      kind: 'Rollout',
      apiVersion: 'argoproj.io/v1alpha1',
    };
    const status = buildScaledObjectStatus(
      input({ scaledObject: so, scaleTarget: undefined }),
    );
    expect(status.replicas).toMatchObject({ current: 3, desired: 3 });
    expect(status.diagnoses).toEqual([]);
  });

  it('summarises replicas and the largest estimated depth for the history', () => {
    expect(historyValues(buildScaledObjectStatus(input()))).toEqual({
      replicas: 3,
      queueDepth: 4,
    });
  });
});
