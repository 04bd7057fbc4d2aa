import {
  KubernetesObject,
  KubernetesObjectStore,
  WatchHandle,
} from '../kubernetes/store';
import { ServiceAccountIssuer } from '../kubernetes/oidc';
import { hpaNameOf } from '../kubernetes/admission';
import {
  AwsCredentials,
  KedaAwsIdentity,
  KedaAwsIdentityOptions,
  sqsCallError,
} from './awsIdentity';
import { EventRecorder, EventSpec } from './events';
import {
  decideScaling,
  HealthStatus,
  hpaMaxReplicas,
  hpaMinReplicas,
  KedaCondition,
  pauseState,
  READY_MESSAGE,
  TriggerReading,
} from './scaling';
import { parseSqsTriggerMetadata, SqsTriggerMetadata } from './sqsTrigger';

const SCALED_OBJECTS = 'scaledobjects.keda.sh';
const HPAS = 'horizontalpodautoscalers.autoscaling';
const DEPLOYMENTS = 'deployments.apps';
const KEDA_VERSION = '2.20.2';
const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

export interface KedaLoopOptions {
  /** The stand-in cluster's objects (the loop runs in-process beside the API server). */
  store: KubernetesObjectStore;
  /** The cluster's service account issuer, which signs the operator's token. */
  issuer: ServiceAccountIssuer;
  /** AWS endpoint (the AWS stand-in URL) for STS, and for SQS unless a trigger sets awsEndpoint. */
  awsEndpoint: string;
  /** The KEDA operator's IRSA role (Helm `podIdentity.aws.irsa.roleArn`). */
  operatorRoleArn: string;
  /** Default `keda`. */
  operatorNamespace?: string;
  /** Default `keda-operator`. */
  operatorServiceAccount?: string;
  /** Default `sts.amazonaws.com` (Helm `podIdentity.aws.irsa.audience`). */
  audience?: string;
  /** EKS Pod Identity instead of IRSA for the operator's own identity (see KedaAwsIdentityOptions). */
  podIdentityAgent?: KedaAwsIdentityOptions['podIdentityAgent'];
  /** Caps every ScaledObject's pollingInterval (demos: e.g. 2). */
  pollingIntervalOverrideSeconds?: number;
  /** Caps every ScaledObject's cooldownPeriod (demos). */
  cooldownPeriodOverrideSeconds?: number;
  /** HPA scale-down stabilization when the ScaledObject sets no behavior; Kubernetes' default 300. */
  scaleDownStabilizationSeconds?: number;
  /** Start watching and polling at once (default true); tests drive `reconcileAll()` instead. */
  autoStart?: boolean;
  /**
   * Most polls in flight at once (default 16). With the rate cap below it
   * bounds the loop's share of a core however many ScaledObjects exist;
   * polls beyond it wait their turn, so intervals stretch under load.
   */
  maxConcurrentPolls?: number;
  /** Most polls started per second (default 100). */
  maxPollsPerSecond?: number;
  now?: () => number;
  logger?: (message: string) => void;
}

export interface KedaLoop {
  /** Runs one poll of every ScaledObject now and waits for it. */
  reconcileAll(): Promise<void>;
  /** Runs one poll of one ScaledObject now and waits for it. */
  reconcile(namespace: string, name: string): Promise<void>;
  /** How the operator obtained a role's credentials (for diagnostics and tests). */
  identity: KedaAwsIdentity;
  /** What the scheduler did so far (for tests and benchmarks). */
  stats(): KedaLoopStats;
  stop(): void;
}

export interface KedaLoopStats {
  /** Scheduled polls started. */
  polls: number;
  /** Most scheduled polls that were ever in flight at once. */
  maxInFlight: number;
  /** Scheduled polls waiting (due or not). */
  queued: number;
}

/**
 * Due times of scheduled polls, earliest first (a binary heap). One timer
 * serves the whole loop instead of one per ScaledObject; a key's entry is
 * valid only while it carries the key's latest sequence number.
 */
class PollQueue {
  private heap: Array<{ at: number; key: string; seq: number }> = [];
  private readonly latest = new Map<string, number>();
  private seq = 0;

  get size() {
    return this.latest.size;
  }

  /** Schedules `key` at `at`, replacing an earlier schedule of it. */
  push(key: string, at: number) {
    this.seq += 1;
    this.latest.set(key, this.seq);
    this.heap.push({ at, key, seq: this.seq });
    this.up(this.heap.length - 1);
  }

  remove(key: string) {
    this.latest.delete(key);
  }

  /** The earliest valid due time, dropping stale entries on the way. */
  peek(): number | undefined {
    while (
      this.heap.length &&
      this.latest.get(this.heap[0].key) !== this.heap[0].seq
    ) {
      this.pop();
    }
    return this.heap[0]?.at;
  }

  /** Takes the earliest valid key if it is due at `now`. */
  takeDue(now: number): string | undefined {
    const at = this.peek();
    if (at === undefined || at > now) return undefined;
    const { key } = this.pop();
    this.latest.delete(key);
    return key;
  }

  clear() {
    this.heap = [];
    this.latest.clear();
  }

  private pop() {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    if (this.heap.length) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number) {
    let at = i;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.heap[parent].at <= this.heap[at].at) break;
      [this.heap[parent], this.heap[at]] = [this.heap[at], this.heap[parent]];
      at = parent;
    }
  }

  private down(i: number) {
    let at = i;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (
        left < this.heap.length &&
        this.heap[left].at < this.heap[smallest].at
      )
        smallest = left;
      if (
        right < this.heap.length &&
        this.heap[right].at < this.heap[smallest].at
      )
        smallest = right;
      if (smallest === at) return;
      [this.heap[smallest], this.heap[at]] = [
        this.heap[at],
        this.heap[smallest],
      ];
      at = smallest;
    }
  }
}

interface ScaledObjectState {
  running?: Promise<void>;
  rerun?: boolean;
  seenGeneration?: number;
  seenAnnotations?: string;
  builtGeneration?: number;
  recommendations: Array<{ at: number; replicas: number }>;
  fallbackActive?: boolean;
  paused?: boolean;
  uid?: string;
}

/** How a trigger's AWS credentials are obtained. */
type AuthPlan =
  | { kind: 'operator' }
  | { kind: 'pod-identity-role'; roleArn: string; externalId?: string }
  | { kind: 'aws-eks-role'; roleArn: string };

/** Failures of the setup phase (KEDA's reconcile), as KEDA reports them. */
class SetupError extends Error {
  constructor(readonly conditionMessage: string, readonly event: EventSpec) {
    super(event.message);
  }
}

function statusTime(ms: number) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function initialConditions(): KedaCondition[] {
  return (['Ready', 'Active', 'Fallback', 'Paused'] as const).map(type => ({
    type,
    status: 'Unknown',
  }));
}

function conditionOf(
  so: KubernetesObject,
  type: string,
): KedaCondition | undefined {
  return (so.status?.conditions ?? []).find(
    (c: KedaCondition) => c.type === type,
  );
}

function containerEnv(deployment: KubernetesObject, containerName?: string) {
  const containers: any[] = deployment.spec?.template?.spec?.containers ?? [];
  const container =
    (containerName && containers.find(c => c.name === containerName)) ||
    containers[0];
  const env: Record<string, string> = {};
  for (const e of container?.env ?? []) {
    if (typeof e.value === 'string') env[e.name] = e.value;
  }
  return env;
}

/**
 * A KEDA operator stand-in: for every ScaledObject it builds the
 * `aws-sqs-queue` scalers, authenticates like KEDA with IRSA, reads the queue
 * depth from SQS on `pollingInterval`, and writes what KEDA and the HPA
 * controller write: the `keda-hpa-<name>` HPA (spec and status), the
 * Deployment's replicas, the ScaledObject status and Events.
 */
export function startKedaLoop(options: KedaLoopOptions): KedaLoop {
  const store = options.store;
  const now = options.now ?? Date.now;
  const log = options.logger ?? (() => {});
  const identity = new KedaAwsIdentity({
    endpoint: options.awsEndpoint,
    issuer: options.issuer,
    operatorRoleArn: options.operatorRoleArn,
    operatorNamespace: options.operatorNamespace ?? 'keda',
    operatorServiceAccount: options.operatorServiceAccount ?? 'keda-operator',
    audience: options.audience ?? 'sts.amazonaws.com',
    podIdentityAgent: options.podIdentityAgent,
    now,
  });
  const kedaEvents = new EventRecorder(store, 'keda-operator', now);
  const hpaEvents = new EventRecorder(store, 'horizontal-pod-autoscaler', now);
  const states = new Map<string, ScaledObjectState>();
  let stopped = false;
  let watch: WatchHandle | undefined;

  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
  const stateOf = (key: string) => {
    let state = states.get(key);
    if (!state) {
      state = { recommendations: [] };
      states.set(key, state);
    }
    return state;
  };

  const pollingIntervalMs = (so: KubernetesObject) => {
    const seconds = so.spec?.pollingInterval ?? 30;
    const cap = options.pollingIntervalOverrideSeconds;
    return (
      Math.max(0.05, cap !== undefined ? Math.min(seconds, cap) : seconds) *
      1000
    );
  };

  /**
   * Resolves a trigger's `authenticationRef` into how credentials are
   * obtained (KEDA's `ResolveAuthRefAndPodIdentity`, done when scalers are
   * built, so its failures are setup failures).
   */
  const resolveAuth = (
    so: KubernetesObject,
    trigger: any,
    deployment: KubernetesObject,
  ): AuthPlan => {
    const namespace = so.metadata!.namespace!;
    const ref = trigger.authenticationRef;
    if (!ref?.name) {
      // Without pod identity the scaler wants static keys, which the
      // stand-in does not model.
      throw new Error('awsAccessKeyID not found');
    }
    const clusterScoped = ref.kind === 'ClusterTriggerAuthentication';
    const kind = clusterScoped
      ? 'ClusterTriggerAuthentication'
      : 'TriggerAuthentication';
    const auth = store.find(
      clusterScoped
        ? 'clustertriggerauthentications.keda.sh'
        : 'triggerauthentications.keda.sh',
      clusterScoped ? undefined : namespace,
      ref.name,
    );
    if (!auth) {
      // KEDA only logs the missing object and then fails for lack of
      // credentials; both halves are in the message here.
      throw new Error(
        `error getting ${kind} ${ref.name}: ${kind}.keda.sh "${ref.name}" not found; awsAccessKeyID not found`,
      );
    }
    const podIdentity = auth.spec?.podIdentity ?? {};
    const serviceAccountName =
      deployment.spec?.template?.spec?.serviceAccountName ?? 'default';
    const serviceAccountRole = (required: boolean) => {
      const sa = store.find('serviceaccounts', namespace, serviceAccountName);
      if (!sa) {
        throw new Error(
          `error getting service account: '${serviceAccountName}', error: serviceaccounts "${serviceAccountName}" not found`,
        );
      }
      const arn = sa.metadata?.annotations?.[ROLE_ARN_ANNOTATION];
      if (!arn && required) {
        throw new Error(
          `error getting service account: '${serviceAccountName}', error: annotation '${ROLE_ARN_ANNOTATION}' not found on the service account`,
        );
      }
      return arn;
    };
    switch (podIdentity.provider) {
      case 'aws': {
        const workloadOwner = podIdentity.identityOwner === 'workload';
        const roleArn: string | undefined = workloadOwner
          ? serviceAccountRole(true)
          : podIdentity.roleArn;
        return roleArn
          ? {
              kind: 'pod-identity-role',
              roleArn,
              externalId: workloadOwner ? undefined : podIdentity.externalID,
            }
          : { kind: 'operator' };
      }
      case 'aws-eks': {
        const roleArn = serviceAccountRole(false);
        return roleArn
          ? { kind: 'aws-eks-role', roleArn }
          : { kind: 'operator' };
      }
      default:
        throw new Error(
          podIdentity.provider && podIdentity.provider !== 'none'
            ? `pod identity provider ${podIdentity.provider} not supported`
            : 'awsAccessKeyID not found',
        );
    }
  };

  const credentialsFor = async (
    plan: AuthPlan,
    meta: SqsTriggerMetadata,
    usage: string,
  ): Promise<AwsCredentials> => {
    switch (plan.kind) {
      case 'pod-identity-role':
        return (
          await identity.podIdentityRoleCredentials(
            usage,
            plan.roleArn,
            meta.awsRegion,
            plan.externalId,
          )
        ).credentials;
      case 'aws-eks-role':
        return identity.awsEksRoleCredentials(plan.roleArn, meta.awsRegion);
      default:
        return identity.operatorCredentials(meta.awsRegion);
    }
  };

  const writeStatus = (
    so: KubernetesObject,
    status: Record<string, unknown>,
  ) => {
    const current = store.find(
      SCALED_OBJECTS,
      so.metadata!.namespace,
      so.metadata!.name!,
    );
    if (!current || current.metadata!.uid !== so.metadata!.uid) return;
    const next = { ...(current.status ?? {}), ...status };
    for (const [k, v] of Object.entries(next))
      if (v === undefined) delete next[k];
    if (JSON.stringify(next) === JSON.stringify(current.status ?? {})) return;
    store.update(
      SCALED_OBJECTS,
      current.metadata!.namespace,
      current.metadata!.name!,
      { ...current, status: next },
      { subresource: 'status' },
    );
  };

  const desiredHpa = (so: KubernetesObject, metas: SqsTriggerMetadata[]) => {
    const name = so.metadata!.name!;
    const spec = so.spec ?? {};
    const behavior = spec.advanced?.horizontalPodAutoscalerConfig?.behavior;
    return {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: {
        name: hpaNameOf(so),
        namespace: so.metadata!.namespace,
        // KEDA copies the ScaledObject's labels (so backstage.io/kubernetes-id
        // reaches the HPA) and adds its own.
        labels: {
          ...(so.metadata!.labels ?? {}),
          'app.kubernetes.io/managed-by': 'keda-operator',
          'app.kubernetes.io/name': hpaNameOf(so),
          'app.kubernetes.io/part-of': name,
          'app.kubernetes.io/version': KEDA_VERSION,
          'scaledobject.keda.sh/name': name,
        },
        ownerReferences: [
          {
            apiVersion: 'keda.sh/v1alpha1',
            kind: 'ScaledObject',
            name,
            uid: so.metadata!.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        scaleTargetRef: {
          apiVersion: spec.scaleTargetRef?.apiVersion ?? 'apps/v1',
          kind: spec.scaleTargetRef?.kind ?? 'Deployment',
          name: spec.scaleTargetRef?.name,
        },
        minReplicas: hpaMinReplicas(spec),
        maxReplicas: hpaMaxReplicas(spec),
        metrics: metas.map(meta => ({
          type: 'External',
          external: {
            metric: {
              name: meta.metricName,
              selector: { matchLabels: { 'scaledobject.keda.sh/name': name } },
            },
            target: {
              type: 'AverageValue',
              averageValue: String(meta.queueLength),
            },
          },
        })),
        ...(behavior ? { behavior } : {}),
      },
    };
  };

  const ensureHpa = (so: KubernetesObject, metas: SqsTriggerMetadata[]) => {
    const wanted = desiredHpa(so, metas);
    const existing = store.find(
      HPAS,
      so.metadata!.namespace,
      wanted.metadata.name,
    );
    if (!existing) {
      return store.create(HPAS, so.metadata!.namespace, wanted);
    }
    if (
      JSON.stringify(existing.spec) !== JSON.stringify(wanted.spec) ||
      JSON.stringify(existing.metadata?.labels) !==
        JSON.stringify(wanted.metadata.labels)
    ) {
      return store.update(HPAS, so.metadata!.namespace, wanted.metadata.name, {
        ...existing,
        metadata: { ...existing.metadata, labels: wanted.metadata.labels },
        spec: wanted.spec,
      });
    }
    return existing;
  };

  const deleteHpa = (namespace: string, name: string) => {
    if (store.find(HPAS, namespace, name)) store.delete(HPAS, namespace, name);
  };

  /** The setup KEDA's ScaledObject controller does; throws SetupError. */
  const setUp = (so: KubernetesObject) => {
    const ref = so.spec?.scaleTargetRef ?? {};
    const apiVersion = ref.apiVersion ?? 'apps/v1';
    const kind = ref.kind ?? 'Deployment';
    if (apiVersion !== 'apps/v1' || kind !== 'Deployment') {
      throw new SetupError(
        "ScaledObject doesn't have correct scaleTargetRef specification",
        {
          type: 'Warning',
          reason: 'ScaledObjectCheckFailed',
          message: `the sandbox's KEDA scales apps/v1 Deployments only, not ${apiVersion}.${kind}`,
        },
      );
    }
    const deployment = store.find(
      DEPLOYMENTS,
      so.metadata!.namespace,
      ref.name,
    );
    if (!deployment) {
      throw new SetupError(
        "ScaledObject doesn't have correct scaleTargetRef specification",
        {
          type: 'Warning',
          reason: 'ScaledObjectCheckFailed',
          message: `Target resource doesn't exist: deployments.apps "${ref.name}" not found`,
        },
      );
    }
    const metas: SqsTriggerMetadata[] = [];
    const auths: AuthPlan[] = [];
    const triggers: any[] = so.spec?.triggers ?? [];
    triggers.forEach((trigger, index) => {
      try {
        if (trigger.type !== 'aws-sqs-queue') {
          throw new Error(`no scaler found for type: ${trigger.type}`);
        }
        metas.push(
          parseSqsTriggerMetadata(
            trigger.metadata,
            index,
            containerEnv(deployment, ref.envSourceContainerName),
          ),
        );
        auths.push(resolveAuth(so, trigger, deployment));
      } catch (e) {
        throw new SetupError(
          'Failed to ensure HPA is correctly created for ScaledObject',
          {
            type: 'Warning',
            reason: 'KEDAScalerFailed',
            message: (e as Error).message,
          },
        );
      }
    });
    return { deployment, metas, triggers, auths };
  };

  const poll = async (namespace: string, name: string) => {
    const key = keyOf(namespace, name);
    const state = stateOf(key);
    const so = store.find(SCALED_OBJECTS, namespace, name);
    if (!so) return;
    state.uid = so.metadata!.uid;
    state.seenGeneration = so.metadata!.generation;
    state.seenAnnotations = JSON.stringify(so.metadata!.annotations ?? {});
    const soName = so.metadata!.name!;
    const hpaName = hpaNameOf(so);
    const usage = `ScaledObject-${namespace}-${soName}`;
    const conditions: KedaCondition[] =
      so.status?.conditions ?? initialConditions();

    let setup: ReturnType<typeof setUp>;
    try {
      setup = setUp(so);
    } catch (e) {
      if (!(e instanceof SetupError)) throw e;
      kedaEvents.record(so, e.event);
      writeStatus(so, {
        conditions: conditions.map(c => {
          if (c.type === 'Ready') {
            return {
              type: 'Ready',
              status: 'False',
              reason: 'ScaledObjectCheckFailed',
              message: e.conditionMessage,
            };
          }
          if (c.type === 'Active') {
            return {
              type: 'Active',
              status: 'Unknown',
              reason: 'UnknownState',
              message: 'ScaledObject check failed',
            };
          }
          return c;
        }),
      });
      state.builtGeneration = undefined;
      return;
    }
    const { deployment, metas, triggers, auths } = setup;
    const currentReplicas: number = deployment.spec?.replicas ?? 1;
    const pause = pauseState(so.metadata!.annotations);
    const baseStatus: Record<string, unknown> = {
      scaleTargetKind: 'apps/v1.Deployment',
      scaleTargetGVKR: {
        group: 'apps',
        kind: 'Deployment',
        resource: 'deployments',
        version: 'v1',
      },
      originalReplicaCount: so.status?.originalReplicaCount ?? currentReplicas,
      hpaName,
      externalMetricNames: metas.map(m => m.metricName),
      triggersTypes: [...new Set(triggers.map(t => t.type))].join(','),
      authenticationsTypes:
        [
          ...new Set(
            triggers.map(t => t.authenticationRef?.name).filter(Boolean),
          ),
        ].join(',') || undefined,
    };

    if (state.builtGeneration !== so.metadata!.generation) {
      for (const trigger of triggers) {
        kedaEvents.record(so, {
          type: 'Normal',
          reason: 'KEDAScalersStarted',
          message: `Scaler ${trigger.type} is built`,
        });
      }
      kedaEvents.record(so, {
        type: 'Normal',
        reason: 'KEDAScalersStarted',
        message: 'Started scalers watch',
      });
      state.builtGeneration = so.metadata!.generation;
    }
    const ready = conditionOf(so, 'Ready');
    if (!ready || ready.status !== 'True') {
      kedaEvents.record(so, {
        type: 'Normal',
        reason: 'ScaledObjectReady',
        message: 'ScaledObject is ready for scaling',
      });
    }

    if (pause.paused) {
      // KEDA removes the HPA while paused, so nothing scales the target.
      deleteHpa(namespace, hpaName);
    } else {
      ensureHpa(so, metas);
    }

    const readings: TriggerReading[] = [];
    if (!pause.paused) {
      for (let i = 0; i < metas.length; i++) {
        const meta = metas[i];
        const reading: TriggerReading = {
          metricName: meta.metricName,
          target: meta.queueLength,
          activationTarget: meta.activationQueueLength,
        };
        try {
          const credentials = await credentialsFor(auths[i], meta, usage);
          reading.value = await identity.queueDepth(meta, credentials);
        } catch (e) {
          reading.error = sqsCallError(e).message;
          log(
            `keda: ${namespace}/${soName} ${meta.metricName}: ${reading.error}`,
          );
        }
        readings.push(reading);
      }
    }

    const spec = so.spec ?? {};
    const cooldownCap = options.cooldownPeriodOverrideSeconds;
    const stabilization =
      spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown
        ?.stabilizationWindowSeconds ??
      options.scaleDownStabilizationSeconds ??
      300;
    const at = now();
    const decision = decideScaling(
      {
        spec: {
          minReplicaCount: spec.minReplicaCount,
          maxReplicaCount: spec.maxReplicaCount,
          idleReplicaCount: spec.idleReplicaCount,
          cooldownPeriod:
            cooldownCap !== undefined
              ? Math.min(spec.cooldownPeriod ?? 300, cooldownCap)
              : spec.cooldownPeriod,
          initialCooldownPeriod: spec.initialCooldownPeriod,
          fallback: spec.fallback,
        },
        annotations: so.metadata!.annotations,
        creationTimestamp: so.metadata!.creationTimestamp!,
        currentReplicas,
        readings,
        previous: {
          health: so.status?.health as Record<string, HealthStatus> | undefined,
          lastActiveTime: so.status?.lastActiveTime,
          fallbackActive: state.fallbackActive,
          paused: state.paused ?? conditionOf(so, 'Paused')?.status === 'True',
        },
        recommendations: state.recommendations,
        scaleDownStabilizationSeconds: stabilization,
        now: at,
      },
      {
        kind: 'apps/v1.Deployment',
        namespace,
        name: spec.scaleTargetRef?.name,
      },
    );
    state.fallbackActive = decision.fallbackActive;
    state.paused = decision.paused;
    if (decision.hpa.recommendation !== undefined) {
      state.recommendations = [
        ...state.recommendations.filter(r => r.at > at - stabilization * 1000),
        { at, replicas: decision.hpa.recommendation },
      ];
    }

    for (const event of decision.events) kedaEvents.record(so, event);

    if (decision.desiredReplicas !== currentReplicas) {
      store.update(
        DEPLOYMENTS,
        namespace,
        deployment.metadata!.name!,
        { spec: { replicas: decision.desiredReplicas } },
        { subresource: 'scale' },
      );
    }

    const hpa = store.find(HPAS, namespace, hpaName);
    if (hpa && !pause.paused) {
      const hpaCurrent = decision.hpa.disabled
        ? decision.desiredReplicas
        : decision.hpa.observedReplicas;
      // The HPA's own rescale (not KEDA's 0↔1 move) gets SuccessfulRescale.
      const rescaled =
        !decision.hpa.disabled &&
        decision.hpa.desiredReplicas !== decision.hpa.observedReplicas &&
        decision.desiredReplicas === decision.hpa.desiredReplicas;
      if (rescaled) {
        const above = decision.desiredReplicas > decision.hpa.observedReplicas;
        hpaEvents.record(hpa, {
          type: 'Normal',
          reason: 'SuccessfulRescale',
          message: `New size: ${decision.desiredReplicas}; reason: ${
            above
              ? `external metric ${metas[0]?.metricName}(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: ${soName},},MatchExpressions:[]LabelSelectorRequirement{},}) above target`
              : 'All metrics below target'
          }`,
        });
      }
      const status = {
        ...(rescaled || !hpa.status?.lastScaleTime
          ? { lastScaleTime: rescaled ? statusTime(at) : undefined }
          : { lastScaleTime: hpa.status.lastScaleTime }),
        currentReplicas: hpaCurrent,
        desiredReplicas: decision.hpa.disabled
          ? decision.desiredReplicas
          : decision.hpa.desiredReplicas,
        ...(decision.hpa.currentMetrics.length
          ? {
              currentMetrics: decision.hpa.currentMetrics.map(m => ({
                type: 'External',
                external: {
                  metric: {
                    name: m.metricName,
                    selector: {
                      matchLabels: { 'scaledobject.keda.sh/name': soName },
                    },
                  },
                  current: { averageValue: m.averageValue },
                },
              })),
            }
          : {}),
        conditions: decision.hpa.conditions.map(c => ({
          ...c,
          lastTransitionTime:
            (hpa.status?.conditions ?? []).find(
              (old: any) => old.type === c.type && old.status === c.status,
            )?.lastTransitionTime ?? statusTime(at),
        })),
      };
      if (status.lastScaleTime === undefined) delete status.lastScaleTime;
      if (JSON.stringify(status) !== JSON.stringify(hpa.status ?? {})) {
        store.update(
          HPAS,
          namespace,
          hpaName,
          { ...hpa, status },
          { subresource: 'status' },
        );
      }
    }

    writeStatus(so, {
      ...baseStatus,
      conditions: decision.conditions.map(c =>
        c.type === 'Ready' && c.status === 'True'
          ? { ...c, message: READY_MESSAGE }
          : c,
      ),
      health: decision.health,
      lastActiveTime: decision.lastActiveTime,
      pausedReplicaCount: decision.pausedReplicaCount,
    });
  };

  // The scheduler: due polls start from one queue, at most
  // `maxConcurrentPolls` at once and `maxPollsPerSecond` (a token bucket),
  // so 10,000 ScaledObjects cost a bounded share of a core, not 10,000 timers
  // firing in bursts.
  const queue = new PollQueue();
  const maxConcurrent = Math.max(1, options.maxConcurrentPolls ?? 16);
  const ratePerSecond = Math.max(1, options.maxPollsPerSecond ?? 100);
  const stats: KedaLoopStats = { polls: 0, maxInFlight: 0, queued: 0 };
  let inFlight = 0;
  let tokens = ratePerSecond;
  let refilledAt = Date.now();
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAt = Infinity;

  const refill = (at: number) => {
    tokens = Math.min(
      ratePerSecond,
      tokens + ((at - refilledAt) * ratePerSecond) / 1000,
    );
    refilledAt = at;
  };

  /** Sets the one timer for when the next poll may start, if any. */
  const arm = () => {
    if (stopped || inFlight >= maxConcurrent) return;
    const due = queue.peek();
    if (due === undefined) return;
    const at = Date.now();
    const tokenWait = tokens >= 1 ? 0 : ((1 - tokens) * 1000) / ratePerSecond;
    const next = Math.max(due, at + tokenWait);
    if (wakeTimer && wakeAt <= next) return;
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeAt = next;
    wakeTimer = setTimeout(pump, Math.max(0, next - at));
    wakeTimer.unref?.();
  };

  /** Runs one scheduled poll; its end frees its slot and re-arms the timer. */
  const startPoll = (namespace: string, name: string) => {
    reconcile(namespace, name)
      .catch(e =>
        log(`keda: poll of ${namespace}/${name} failed: ${(e as Error).stack}`),
      )
      .finally(() => {
        inFlight -= 1;
        arm();
      });
  };

  function pump() {
    wakeTimer = undefined;
    wakeAt = Infinity;
    if (stopped) return;
    const at = Date.now();
    refill(at);
    while (inFlight < maxConcurrent && tokens >= 1) {
      const key = queue.takeDue(at);
      if (key === undefined) break;
      tokens -= 1;
      inFlight += 1;
      stats.polls += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      const [namespace, name] = key.split('/');
      startPoll(namespace, name);
    }
    arm();
  }

  const schedule = (namespace: string, name: string, delayMs: number) => {
    if (stopped || options.autoStart === false) return;
    queue.push(keyOf(namespace, name), Date.now() + delayMs);
    arm();
  };

  /** Serialises polls per ScaledObject; a request during a poll reruns it once. */
  async function reconcile(namespace: string, name: string): Promise<void> {
    const state = stateOf(keyOf(namespace, name));
    if (state.running) {
      state.rerun = true;
      await state.running;
      return;
    }
    let failure: unknown;
    state.running = (async () => {
      try {
        do {
          state.rerun = false;
          await poll(namespace, name);
        } while (state.rerun && !stopped);
      } catch (e) {
        // E.g. the target vanished mid-poll; the next poll starts afresh.
        failure = e;
      } finally {
        state.running = undefined;
      }
    })();
    await state.running;
    const so = store.find(SCALED_OBJECTS, namespace, name);
    // Keep polling whatever happened in this poll, as KEDA's loop does.
    if (so) schedule(namespace, name, pollingIntervalMs(so));
    if (failure) throw failure;
  }

  const forget = (namespace: string, name: string, so: KubernetesObject) => {
    const key = keyOf(namespace, name);
    queue.remove(key);
    states.delete(key);
    identity.release(`ScaledObject-${namespace}-${name}`);
    // The HPA is owned by the ScaledObject; the store's garbage collector
    // removes it too, this covers objects created before the owner reference.
    deleteHpa(namespace, hpaNameOf(so));
    if (
      so.spec?.advanced?.restoreToOriginalReplicaCount &&
      so.status?.originalReplicaCount !== undefined
    ) {
      const target = so.spec?.scaleTargetRef?.name;
      if (store.find(DEPLOYMENTS, namespace, target)) {
        store.update(
          DEPLOYMENTS,
          namespace,
          target,
          { spec: { replicas: so.status.originalReplicaCount } },
          { subresource: 'scale' },
        );
      }
    }
  };

  if (options.autoStart !== false) {
    watch = store.watch(SCALED_OBJECTS, {}, event => {
      const so = event.object;
      const namespace = so.metadata!.namespace!;
      const name = so.metadata!.name!;
      if (event.type === 'DELETED') {
        forget(namespace, name, so);
        return;
      }
      if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
      const state = stateOf(keyOf(namespace, name));
      // Our own status writes must not cause polls; spec and annotation
      // changes (generation, pause) must, at once.
      const changed =
        state.uid !== so.metadata!.uid ||
        state.seenGeneration !== so.metadata!.generation ||
        state.seenAnnotations !==
          JSON.stringify(so.metadata!.annotations ?? {});
      if (changed) schedule(namespace, name, 0);
    });
  }

  return {
    identity,
    reconcile,
    reconcileAll: async () => {
      for (const so of store.list(SCALED_OBJECTS).items) {
        await reconcile(so.metadata!.namespace!, so.metadata!.name!);
      }
    },
    stats: () => ({ ...stats, queued: queue.size }),
    stop: () => {
      stopped = true;
      watch?.stop();
      if (wakeTimer) clearTimeout(wakeTimer);
      queue.clear();
      identity.close();
    },
  };
}
