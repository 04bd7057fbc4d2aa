import { InputError, NotFoundError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import {
  KEDA_ACTION_IDS,
  KEDA_CURRENT_STATES,
  kedaWorkloadKey,
  type KedaRequestRecord,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import type { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { examples } from './requestDecommissionTarget.examples';

/** Action id of {@link createKedaRequestDecommissionTargetAction}. @public */
export const KEDA_REQUEST_DECOMMISSION_TARGET_ACTION_ID =
  KEDA_ACTION_IDS.requestDecommissionTarget;

/**
 * What the caller said about the autoscaling to remove. Everything but the
 * entity is optional: the request record knows the rest. Values the caller
 * still passes (the earlier form asked for cluster and queue URL) must
 * agree with the record.
 */
export interface DecommissionTargetCriteria {
  entityRef: string;
  requestId?: string;
  cluster?: string;
  namespace?: string;
  workloadName?: string;
  queueUrl?: string;
}

function describeRequest(record: KedaRequestRecord): string {
  const { namespace, workload } = record.plan.request;
  return `${record.id} (${record.state}: ${record.cluster} ${namespace}/${workload.name}, queue ${record.queueUrl})`;
}

/** The optional criteria a record contradicts, as `field 'given' ≠ 'recorded'`. */
function mismatches(
  record: KedaRequestRecord,
  criteria: DecommissionTargetCriteria,
): string[] {
  const recorded: Record<string, string> = {
    cluster: record.cluster,
    namespace: record.plan.request.namespace,
    workloadName: record.plan.request.workload.name,
    queueUrl: record.queueUrl,
  };
  return Object.entries(recorded).flatMap(([field, value]) => {
    const given = criteria[field as keyof DecommissionTargetCriteria];
    return given && given !== value
      ? [`${field} '${given}' is not the recorded '${value}'`]
      : [];
  });
}

/** What to do instead with a request that is not current. */
function notCurrentHint(state: KedaRequestState): string {
  switch (state) {
    case 'pending':
      return 'withdraw or reject it on the KEDA requests page instead';
    case 'approved':
    case 'provisioning':
      return 'wait until provisioning has finished, then remove it';
    default:
      return 'it no longer describes what runs; pick the current request';
  }
}

/**
 * Checks a chosen request against the entity and the optional criteria.
 * Only a current request (provisioned or failed) describes what runs now;
 * removing by an older one could delete a newer request's files and role.
 */
export function checkDecommissionTarget(
  record: KedaRequestRecord,
  criteria: DecommissionTargetCriteria,
): KedaRequestRecord {
  if (record.entityRef !== criteria.entityRef) {
    throw new InputError(
      `requestId: request ${record.id} belongs to ${record.entityRef}, not ${criteria.entityRef}; pick one of ${criteria.entityRef}'s requests`,
    );
  }
  if (!KEDA_CURRENT_STATES.includes(record.state)) {
    throw new InputError(
      `requestId: request ${record.id} is ${
        record.state
      }, only a provisioned or failed request can be decommissioned; ${notCurrentHint(
        record.state,
      )}`,
    );
  }
  const wrong = mismatches(record, criteria);
  if (wrong.length > 0) {
    throw new InputError(
      `The request on record does not match the form: ${wrong.join(
        '; ',
      )}. Leave these fields empty (the request ${
        record.id
      } supplies them) or correct them`,
    );
  }
  return record;
}

/**
 * Picks the request to remove among the entity's current requests when no
 * id was given: the one workload they describe (narrowed by the optional
 * criteria). Several records of one workload are its history; the newest
 * speaks for it.
 */
export function selectDecommissionTarget(
  current: KedaRequestRecord[],
  criteria: DecommissionTargetCriteria,
): KedaRequestRecord {
  if (current.length === 0) {
    throw new InputError(
      `component: ${criteria.entityRef} has no current KEDA request (provisioned or failed), so there is no autoscaling on record to remove`,
    );
  }
  const matching = current.filter(r => mismatches(r, criteria).length === 0);
  if (matching.length === 0) {
    throw new InputError(
      `None of ${
        criteria.entityRef
      }'s current requests matches the form: ${current
        .map(
          r => `${describeRequest(r)}: ${mismatches(r, criteria).join(', ')}`,
        )
        .join('; ')}. Choose the request (requestId) instead`,
    );
  }
  const workloads = new Set(matching.map(r => kedaWorkloadKey(r.plan.request)));
  if (workloads.size > 1) {
    throw new InputError(
      `requestId: ${criteria.entityRef} has current requests for ${
        workloads.size
      } workloads (${matching
        .map(describeRequest)
        .join('; ')}); choose which autoscaling to remove`,
    );
  }
  return [...matching].sort((a, b) =>
    b.createdAt.localeCompare(a.createdAt),
  )[0];
}

/**
 * `keda:request:decommission-target`: the first step of the decommission
 * template. Finds the request whose autoscaling is to be removed (by id, or
 * the entity's only current workload) and answers everything the later
 * steps need from the record (cluster, namespace, workload, queue URL, the
 * request to locate files and role by), so nobody retypes what the portal
 * knows. Refuses, before any side effect, a request of another entity, one
 * that is not current, and form values that contradict the record. A read:
 * it runs in dry run too.
 *
 * @public
 */
export function createKedaRequestDecommissionTargetAction(options: {
  client: KedaRequestsClient;
}) {
  return createTemplateAction({
    id: KEDA_REQUEST_DECOMMISSION_TARGET_ACTION_ID,
    description:
      "Finds the KEDA request whose autoscaling to remove (by id or the entity's current request) and outputs its cluster, namespace, workload and queue",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        entityRef: z =>
          z.string().min(1).describe('Entity whose autoscaling is removed'),
        requestId: z =>
          z
            .string()
            .optional()
            .describe(
              "Id of the entity's current request to remove (the KedaRequestPicker field); default the entity's only current workload",
            ),
        cluster: z =>
          z
            .string()
            .optional()
            .describe(
              'Optional (earlier form): must match the recorded cluster',
            ),
        namespace: z =>
          z
            .string()
            .optional()
            .describe(
              'Optional (earlier form): must match the recorded namespace',
            ),
        workloadName: z =>
          z
            .string()
            .optional()
            .describe(
              'Optional (earlier form): must match the recorded workload name',
            ),
        queueUrl: z =>
          z
            .string()
            .optional()
            .describe(
              'Optional (earlier form): must match the recorded SQS queue URL',
            ),
      },
      output: {
        requestId: z => z.string().describe('The request being removed'),
        state: z => z.string().describe('Its state (provisioned or failed)'),
        cluster: z => z.string().describe('Cluster in keda.clusters[]'),
        namespace: z => z.string().describe('Namespace of the workload'),
        workloadKind: z =>
          z.string().describe('Kind of the workload (Deployment, StatefulSet)'),
        workloadName: z => z.string().describe('Name of the workload'),
        queueUrl: z => z.string().describe('The SQS queue URL it scales on'),
        scalerRoleArn: z => z.string().describe('The planned scaler role'),
        request: z =>
          z
            .record(z.any())
            .describe(
              'The recorded request (input of keda:plan with locateOnly)',
            ),
      },
    },
    async handler(ctx) {
      // Empty form fields arrive as '' (or not at all): both mean "not given".
      const given = (value?: string) => value?.trim() || undefined;
      const criteria: DecommissionTargetCriteria = {
        entityRef: ctx.input.entityRef,
        requestId: given(ctx.input.requestId),
        cluster: given(ctx.input.cluster),
        namespace: given(ctx.input.namespace),
        workloadName: given(ctx.input.workloadName),
        queueUrl: given(ctx.input.queueUrl),
      };
      const credentials = await ctx.getInitiatorCredentials();
      let record: KedaRequestRecord;
      if (criteria.requestId) {
        try {
          record = await options.client.get(criteria.requestId, credentials);
        } catch (error) {
          if (error instanceof NotFoundError) {
            throw new InputError(
              `requestId: there is no KEDA request ${criteria.requestId}; pick one of ${criteria.entityRef}'s current requests`,
            );
          }
          throw error;
        }
        checkDecommissionTarget(record, criteria);
      } else {
        const current = await options.client.list(
          {
            entityRef: criteria.entityRef,
            state: [...KEDA_CURRENT_STATES],
          },
          credentials,
        );
        record = selectDecommissionTarget(current, criteria);
      }
      const { request } = record.plan;
      ctx.logger.info(
        `Removing the autoscaling of request ${describeRequest(record)}`,
      );
      ctx.output('requestId', record.id);
      ctx.output('state', record.state);
      ctx.output('cluster', record.cluster);
      ctx.output('namespace', request.namespace);
      ctx.output('workloadKind', request.workload.kind);
      ctx.output('workloadName', request.workload.name);
      ctx.output('queueUrl', record.queueUrl);
      ctx.output('scalerRoleArn', record.plan.scalerRole.arn);
      ctx.output('request', request as unknown as JsonObject);
    },
  });
}
