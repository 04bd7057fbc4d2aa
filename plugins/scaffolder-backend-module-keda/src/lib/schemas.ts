import type { z as zImpl } from 'zod/v3';

type Z = typeof zImpl;

/**
 * The KEDA request as a step input, in the scaffolder's zod (v3) so it shows
 * in the action's JSON schema. Only shapes and descriptions live here: every
 * rule (regexes, bounds, cross-field checks) is enforced by keda-common's
 * `parseKedaRequest`, the one schema the form, the actions and the backend
 * share. `schemas.test.ts` keeps the field lists in step.
 */
export function kedaRequestInput(z: Z) {
  return z
    .object({
      entityRef: z
        .string()
        .describe(
          'Catalog entity whose workload is scaled, e.g. component:default/orders-worker',
        ),
      cluster: z
        .string()
        .describe('Name of the cluster in keda.clusters[] (e.g. demo-eks)'),
      namespace: z.string().describe('Kubernetes namespace of the workload'),
      workload: z
        .object({
          kind: z
            .enum(['Deployment', 'StatefulSet'])
            .optional()
            .describe('Kind of the scaled workload (default Deployment)'),
          name: z.string().describe('Name of the Deployment or StatefulSet'),
        })
        .describe('The workload KEDA scales'),
      kubernetesId: z
        .string()
        .describe(
          "Value of the entity's backstage.io/kubernetes-id annotation; set as label on generated objects",
        ),
      queueUrl: z
        .string()
        .describe(
          'SQS queue URL, e.g. https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
        ),
      minReplicas: z
        .number()
        .int()
        .optional()
        .describe(
          'Replicas when the queue is empty (default 0: scale to zero)',
        ),
      maxReplicas: z
        .number()
        .int()
        .optional()
        .describe('Upper bound of replicas (default 10)'),
      idleReplicas: z
        .number()
        .int()
        .optional()
        .describe(
          'Replicas while no messages arrive; only 0 is supported, below minReplicas',
        ),
      queueLength: z
        .number()
        .int()
        .optional()
        .describe('Target messages per replica (KEDA queueLength, default 5)'),
      activationQueueLength: z
        .number()
        .int()
        .optional()
        .describe(
          'KEDA activates the workload (0 → 1) when the depth is greater than this (default 0)',
        ),
      pollingInterval: z
        .number()
        .int()
        .optional()
        .describe('Seconds between queue depth checks (default 30)'),
      cooldownPeriod: z
        .number()
        .int()
        .optional()
        .describe(
          "Seconds after the trigger was last active before KEDA scales to zero (default 300); only applies when scaling to 0 (minReplicas 0 or idleReplicas 0), scaling between 1 and maxReplicas follows the HPA's scale-down stabilization window",
        ),
      scaleOnInFlight: z
        .boolean()
        .optional()
        .describe('Count in-flight messages (default true)'),
      scaleOnDelayed: z
        .boolean()
        .optional()
        .describe('Count delayed messages (default false)'),
      providerMode: z
        .enum(['aws', 'aws-eks'])
        .optional()
        .describe(
          'aws (default): TriggerAuthentication with roleArn and ExternalId. aws-eks: the deprecated provider of the article',
        ),
      serviceAccountName: z
        .string()
        .optional()
        .describe(
          'Workload ServiceAccount to annotate (providerMode aws-eks only)',
        ),
      fallback: z
        .object({
          failureThreshold: z
            .number()
            .int()
            .describe('Failed polls before falling back'),
          replicas: z
            .number()
            .int()
            .describe('Replicas while the queue cannot be read'),
        })
        .optional()
        .describe('Replicas to run while KEDA cannot read the queue'),
      awsEndpoint: z
        .string()
        .optional()
        .describe(
          'Custom SQS endpoint KEDA calls (VPC endpoint, FIPS, a local stand-in)',
        ),
      requestId: z
        .string()
        .optional()
        .describe('Id of the request record, when one exists'),
    })
    .describe(
      'The KEDA autoscaling request (same fields as the keda-sqs-autoscaling form)',
    );
}

/** A file of the plan: path in the GitOps repository and its content. */
export function plannedFilesSchema(z: Z) {
  return z
    .array(
      z.object({
        path: z.string().describe('Path in the GitOps repository'),
        content: z.string().describe('File content'),
      }),
    )
    .describe('Files for the GitOps pull request: manifests and iam-plan.json');
}

/**
 * The role chain's verification (keda-node `ChainVerification`): IAM's
 * simulator on the roles' identity policies, IAM Access Analyzer on the
 * documents and the in-process trust evaluation.
 */
export function verificationSchema(z: Z) {
  return z
    .object({
      ok: z.boolean().describe('true when no check failed'),
      checks: z
        .array(
          z.object({
            check: z
              .string()
              .describe(
                'Check id, e.g. simulate-scaler-permissions, access-analyzer-validate-policy, evaluate-scaler-trust',
              ),
            subject: z.string().describe('What was checked'),
            outcome: z
              .enum(['pass', 'fail', 'warning'])
              .describe(
                'warning: the check could not run (e.g. a missing permission, named in detail) or found something worth reading',
              ),
            detail: z.string().describe('The evidence'),
          }),
        )
        .describe('One entry per check'),
    })
    .describe(
      'Verification of the role chain in forms AWS accepts (absent in dry run)',
    );
}
