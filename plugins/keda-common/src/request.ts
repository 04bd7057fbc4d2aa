import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { parseQueueUrl, QueueUrlError } from './queueUrl';

// Kubernetes: a namespace or label value is a DNS label (≤ 63), an object
// name a DNS subdomain (≤ 253).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const ENTITY_REF = /^[A-Za-z0-9-_]+:([A-Za-z0-9-_.]+\/)?[A-Za-z0-9-_.]+$/;

/**
 * Workload kinds KEDA scales through the `/scale` subresource, with the
 * apiVersion written into `scaleTargetRef`.
 * @public
 */
export const WORKLOAD_API_VERSIONS = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
} as const;

/** @public */
export type WorkloadKind = keyof typeof WORKLOAD_API_VERSIONS;

const int = (description: string) => z.number().int().describe(description);

/**
 * The input of a KEDA autoscaling request: one schema for the template form,
 * the scaffolder action and the backend. Field rules mirror KEDA's own
 * admission checks so a request that passes here is one KEDA accepts.
 * @public
 */
export const kedaRequestSchema = z
  .object({
    entityRef: z
      .string()
      .max(255, 'entityRef is at most 255 characters')
      .regex(
        ENTITY_REF,
        'entityRef must be a catalog entity ref like component:default/orders-worker',
      )
      .describe(
        'Catalog entity whose workload is scaled, e.g. component:default/orders-worker',
      ),
    cluster: z
      .string()
      .min(1, 'cluster is required')
      .describe('Name of the cluster in keda.clusters[]'),
    namespace: z
      .string()
      .max(63, 'namespace is at most 63 characters')
      .regex(
        DNS_LABEL,
        'namespace must be lower-case letters, digits and "-" (a DNS label)',
      )
      .describe('Kubernetes namespace of the workload'),
    workload: z
      .object({
        kind: z
          .enum(['Deployment', 'StatefulSet'])
          .default('Deployment')
          .describe('Kind of the scaled workload'),
        name: z
          .string()
          .max(253, 'workload.name is at most 253 characters')
          .regex(
            DNS_SUBDOMAIN,
            'workload.name must be a Kubernetes object name (lower-case letters, digits, "-" and ".")',
          )
          .describe('Name of the Deployment or StatefulSet'),
      })
      .describe('The workload KEDA scales'),
    kubernetesId: z
      .string()
      .min(1, 'kubernetesId is required')
      .max(63, 'kubernetesId is at most 63 characters (it is a label value)')
      .regex(
        LABEL_VALUE,
        'kubernetesId must be a Kubernetes label value (letters, digits, "-", "_", ".")',
      )
      .describe(
        "Value of the entity's backstage.io/kubernetes-id annotation; set as label on generated objects",
      ),
    queueUrl: z
      .string()
      .describe(
        'SQS queue URL, e.g. https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      ),
    minReplicas: int(
      'Replicas when the queue is empty (0 lets KEDA scale to zero)',
    )
      .min(0, 'minReplicas must be 0 or more')
      .default(0),
    maxReplicas: int('Upper bound of replicas')
      .min(1, 'maxReplicas must be at least 1')
      .default(10),
    idleReplicas: int('Replicas while no messages arrive; KEDA only supports 0')
      .min(0)
      .max(
        0,
        'idleReplicas can only be 0 (a limitation of the HPA controller); leave it empty otherwise',
      )
      .optional(),
    queueLength: int('Target messages per replica (KEDA queueLength)')
      .min(1, 'queueLength must be at least 1 message per replica')
      .default(5),
    activationQueueLength: int(
      'KEDA activates the workload (0 → 1) when depth is greater than this',
    )
      .min(0, 'activationQueueLength must be 0 or more')
      .default(0),
    pollingInterval: int('Seconds between queue depth checks')
      .min(1, 'pollingInterval must be at least 1 second')
      .default(30),
    cooldownPeriod: int(
      "Seconds after the trigger was last active before KEDA scales to zero; only applies when scaling to 0 (minReplicas 0 or idleReplicas 0). Scaling between 1 and maxReplicas follows the HPA's scale-down stabilization window",
    )
      .min(0, 'cooldownPeriod must be 0 or more')
      .default(300),
    scaleOnInFlight: z
      .boolean()
      .default(true)
      .describe('Count in-flight (received, not deleted) messages'),
    scaleOnDelayed: z
      .boolean()
      .default(false)
      .describe('Count delayed messages'),
    providerMode: z
      .enum(['aws', 'aws-eks'])
      .default('aws')
      .describe(
        'aws: TriggerAuthentication with roleArn (recommended). aws-eks: the deprecated provider reading the workload ServiceAccount annotation',
      ),
    serviceAccountName: z
      .string()
      .max(253, 'serviceAccountName is at most 253 characters')
      .regex(
        DNS_SUBDOMAIN,
        'serviceAccountName must be a Kubernetes object name',
      )
      .optional()
      .describe(
        'Workload ServiceAccount to annotate (providerMode aws-eks only)',
      ),
    fallback: z
      .object({
        failureThreshold: int('Failed polls before falling back').min(
          1,
          'fallback.failureThreshold must be at least 1',
        ),
        replicas: int('Replicas while the queue cannot be read').min(
          0,
          'fallback.replicas must be 0 or more',
        ),
      })
      .optional()
      .describe('Replicas to run while KEDA cannot read the queue'),
    awsEndpoint: z
      .string()
      .superRefine((value, ctx) => {
        // One issue per value: the scheme first, then the form.
        const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1];
        if (scheme !== undefined && scheme.toLowerCase() !== 'https') {
          ctx.addIssue({
            code: 'custom',
            message: `awsEndpoint must use https (KEDA sends signed SQS requests to it), got "${scheme}:"; use https://… (e.g. https://vpce-….sqs.eu-west-1.vpce.amazonaws.com) or leave awsEndpoint empty to use the queue's regional endpoint`,
          });
        } else if (!/^https:\/\/[^\s/?#]+\/?$/i.test(value)) {
          ctx.addIssue({
            code: 'custom',
            message:
              'awsEndpoint must be a URL like https://vpce-….sqs.eu-west-1.vpce.amazonaws.com (https, a host, no path)',
          });
        }
      })
      .optional()
      .describe(
        "Custom SQS endpoint KEDA calls (https only: the queue region's SQS endpoint or one of keda.guardrails.allowedSqsEndpoints; any other host needs approval)",
      ),
    requestId: z
      .string()
      .max(63, 'requestId is at most 63 characters')
      .regex(LABEL_VALUE, 'requestId must be letters, digits, "-", "_" or "."')
      .optional()
      .describe(
        'Id of the request record; the backend sets one (a UUID) when the request names none',
      ),
  })
  .superRefine((req, ctx) => {
    try {
      parseQueueUrl(req.queueUrl);
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['queueUrl'],
        message: e instanceof QueueUrlError ? e.message : String(e),
      });
    }
    if (req.minReplicas > req.maxReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['minReplicas'],
        message: `minReplicas (${req.minReplicas}) must not exceed maxReplicas (${req.maxReplicas})`,
      });
    }
    if (req.idleReplicas !== undefined && req.idleReplicas >= req.minReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['idleReplicas'],
        message: `idleReplicas (${req.idleReplicas}) must be less than minReplicas (${req.minReplicas}); raise minReplicas or leave idleReplicas empty`,
      });
    }
    if (req.fallback && req.fallback.replicas > req.maxReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['fallback', 'replicas'],
        message: `fallback.replicas (${req.fallback.replicas}) must not exceed maxReplicas (${req.maxReplicas})`,
      });
    }
    if (req.providerMode === 'aws-eks' && !req.serviceAccountName) {
      ctx.addIssue({
        code: 'custom',
        path: ['serviceAccountName'],
        message:
          'providerMode aws-eks reads the role from the workload ServiceAccount: set serviceAccountName',
      });
    }
  });

/** A validated request with defaults applied. @public */
export type KedaRequest = z.output<typeof kedaRequestSchema>;
/** What a caller may send (defaults not yet applied). @public */
export type KedaRequestInput = z.input<typeof kedaRequestSchema>;

/** A request failed validation; `issues` lists each field. @public */
export class KedaRequestError extends InputError {
  readonly issues: { field: string; message: string }[];
  constructor(message: string, issues: { field: string; message: string }[]) {
    super(message);
    this.issues = issues;
  }
}

/**
 * Validates a request and applies defaults.
 * @throws Error listing every invalid field as `field: message`.
 * @public
 */
export function parseKedaRequest(input: unknown): KedaRequest {
  const result = kedaRequestSchema.safeParse(input);
  if (!result.success) {
    const details = result.error.issues
      .map(i => `${i.path.join('.') || '(request)'}: ${i.message}`)
      .join('; ');
    throw new KedaRequestError(
      `Invalid KEDA request: ${details}`,
      result.error.issues.map(i => ({
        field: i.path.join('.'),
        message: i.message,
      })),
    );
  }
  return result.data;
}
