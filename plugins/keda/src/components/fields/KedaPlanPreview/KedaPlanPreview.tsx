import type { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { useApi } from '@backstage/frontend-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import type {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import type { ApiHolder } from '@backstage/core-plugin-api';
import type { KedaPlanPreview as Preview } from '@keda-self-service/plugin-keda-common';
import Box from '@material-ui/core/Box';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { useMemo } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { describeError } from '../../../lib/describeError';
import {
  kedaRequestFromForm,
  requestIssues,
  templateFormApiFrom,
  TEMPLATE_PARAMETERS,
  useDebounced,
  useTemplateFormApi,
  type RequestIssue,
} from '../common';

/** `ui:options` of {@link KedaPlanPreview}. */
export interface KedaPlanPreviewUiOptions {
  /** wait this long after the last change before asking; default 600 ms */
  debounceMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 600;

type PreviewState =
  | { kind: 'incomplete'; issues: RequestIssue[] }
  | { kind: 'refused'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'planned'; preview: Preview };

/**
 * Plans the request these form values make: the request schema first
 * (locally, the same rules as the action), then the keda backend's dry-run
 * plan. 4xx answers are the backend refusing the request (invalid, not
 * the owner, a request in flight); anything else is a failure to ask.
 */
async function planFor(
  formData: Record<string, unknown>,
  deps: {
    getEntityByRef(ref: string): Promise<Entity | undefined>;
    previewPlan(
      request: ReturnType<typeof kedaRequestFromForm>,
      options?: { signal?: AbortSignal },
    ): Promise<Preview>;
  },
): Promise<PreviewState> {
  const componentRef = formData[TEMPLATE_PARAMETERS.component];
  let component: Entity | undefined;
  if (typeof componentRef === 'string' && componentRef) {
    try {
      component = await deps.getEntityByRef(componentRef);
    } catch (e) {
      return {
        kind: 'failed',
        message: `could not read ${componentRef} from the catalog: ${describeError(
          e as Error,
        )}`,
      };
    }
  }
  const request = kedaRequestFromForm(formData, component);
  const issues = requestIssues(request);
  if (componentRef && !component) {
    issues.unshift({
      field: TEMPLATE_PARAMETERS.component,
      message: `${componentRef} is not in the catalog, or you may not read it; pick the component from the list`,
    });
  }
  if (issues.length > 0) return { kind: 'incomplete', issues };
  try {
    return { kind: 'planned', preview: await deps.previewPlan(request) };
  } catch (e) {
    const error = e as Error;
    const status = (error as ResponseError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return { kind: 'refused', message: describeError(error) };
    }
    return { kind: 'failed', message: describeError(error) };
  }
}

function Line(props: { label: string; children: React.ReactNode }) {
  return (
    <Box display="flex" mb={0.5}>
      <Box width={170} flexShrink={0}>
        <Typography variant="body2" color="textSecondary">
          {props.label}
        </Typography>
      </Box>
      <Typography variant="body2" component="div">
        {props.children}
      </Typography>
    </Box>
  );
}

function PlannedView({ preview }: { preview: Preview }) {
  const { cluster, queue, scalerRole, operatorRole } = preview;
  const blocked = preview.violations.length > 0;
  return (
    <div data-testid="keda-plan-preview">
      <Line label="Cluster">
        {cluster.name} — account {cluster.accountId}, {cluster.region}
      </Line>
      <Line label="Queue">
        {queue.name} — account {queue.accountId}, {queue.region}
        {preview.crossAccount ? ' (another account than the cluster)' : ''}
      </Line>
      <Line label="Workload">
        {preview.request.workload.kind} {preview.request.namespace}/
        {preview.request.workload.name}, {preview.request.minReplicas}–
        {preview.request.maxReplicas} replicas, {preview.request.queueLength}{' '}
        messages per replica
      </Line>
      <Line label="Scaler role">
        <code>{scalerRole.name}</code> in account {queue.accountId}
        {scalerRole.externalIdRequired ? ' (trust requires an ExternalId)' : ''}
      </Line>
      <Line label="KEDA operator role">
        <code>{operatorRole.name}</code> in account {cluster.accountId}
      </Line>
      <Line label="Manifests">
        <code>{preview.manifestDirectory}</code>
      </Line>
      {preview.supersedes && (
        <Line label="Replaces">
          request {preview.supersedes.id} ({preview.supersedes.state})
        </Line>
      )}
      <Box mt={1}>
        {blocked && (
          <Alert severity="error">
            <AlertTitle>Blocked by the guardrails</AlertTitle>
            <ul style={{ margin: 0, paddingLeft: 20 }}>
              {preview.violations.map(v => (
                <li key={`${v.code}:${v.message}`}>
                  {v.field ? <strong>{v.field}: </strong> : null}
                  {v.message}
                </li>
              ))}
            </ul>
          </Alert>
        )}
        {!blocked && preview.autoApproved && (
          <Alert severity="success">
            <AlertTitle>No approval needed</AlertTitle>
            Inside the auto-approve guardrails: the run creates the scaler role
            right away.
          </Alert>
        )}
        {!blocked && !preview.autoApproved && (
          <Alert severity="info">
            <AlertTitle>Needs approval by the platform team</AlertTitle>
            <ul style={{ margin: 0, paddingLeft: 20 }}>
              {preview.approvalReasons.map(reason => (
                <li key={reason}>{reason}</li>
              ))}
            </ul>
          </Alert>
        )}
        {preview.warnings.length > 0 && (
          <Box mt={1}>
            <Alert severity="warning">
              <ul style={{ margin: 0, paddingLeft: 20 }}>
                {preview.warnings.map(w => (
                  <li key={`${w.code}:${w.message}`}>{w.message}</li>
                ))}
              </ul>
            </Alert>
          </Box>
        )}
      </Box>
    </div>
  );
}

/**
 * `ui:field: KedaPlanPreview` — a read-only view of what the run would
 * plan for the values entered so far: accounts, region, role names and
 * whether a platform engineer must approve, and why. Asks the keda backend's
 * dry-run plan (`POST /api/keda/plan`) once the person stops typing. Put it
 * on a property of `type: object` (its value is not used).
 */
export const KedaPlanPreview = (
  props: FieldExtensionComponentProps<object, KedaPlanPreviewUiOptions>,
) => {
  const { formContext, uiSchema, schema } = props;
  const api = useTemplateFormApi();
  const catalogApi = useApi(catalogApiRef);
  const debounceMs = uiSchema['ui:options']?.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  // Debounce on the values, not on object identity: the form hands over a
  // new object on every render.
  const key = useMemo(
    () => JSON.stringify(formContext?.formData ?? {}),
    [formContext?.formData],
  );
  const settled = useDebounced(key, debounceMs);
  const { value: state, loading } = useAsync(
    () =>
      planFor(JSON.parse(settled), {
        getEntityByRef: ref => catalogApi.getEntityByRef(ref),
        previewPlan: request => api.previewPlan(request),
      }),
    [settled, api, catalogApi],
  );

  return (
    <Box mb={2}>
      <Typography variant="h6">{schema.title ?? 'Plan'}</Typography>
      {schema.description && (
        <Typography variant="body2" color="textSecondary" paragraph>
          {schema.description}
        </Typography>
      )}
      {(loading || key !== settled) && <LinearProgress />}
      {state?.kind === 'incomplete' && (
        <Alert severity="info">
          <AlertTitle>Not planned yet</AlertTitle>
          <ul style={{ margin: 0, paddingLeft: 20 }}>
            {state.issues.map(i => (
              <li key={`${i.field}:${i.message}`}>
                <strong>{i.field}: </strong>
                {i.message}
              </li>
            ))}
          </ul>
        </Alert>
      )}
      {state?.kind === 'refused' && (
        <Alert severity="error">
          <AlertTitle>The run would be refused</AlertTitle>
          {state.message}
        </Alert>
      )}
      {state?.kind === 'failed' && (
        <Alert severity="warning">Could not plan: {state.message}</Alert>
      )}
      {state?.kind === 'planned' && <PlannedView preview={state.preview} />}
    </Box>
  );
};

/**
 * On Review: refuses to go on when the run would fail — an invalid request,
 * a refusal by the backend (not the owner, a request in flight) or a
 * guardrail violation. When the backend cannot be asked, the run decides.
 */
export const kedaPlanPreviewValidation: CustomFieldValidator<object> = async (
  _value,
  validation,
  { apiHolder, formData },
) => {
  const api = templateFormApiFrom(apiHolder as ApiHolder);
  const catalogApi = apiHolder.get(catalogApiRef);
  if (!api) return;
  const state = await planFor(formData, {
    getEntityByRef: async ref => catalogApi?.getEntityByRef(ref),
    previewPlan: request => api.previewPlan(request),
  });
  if (state.kind === 'incomplete') {
    for (const issue of state.issues) {
      validation.addError(`${issue.field}: ${issue.message}`);
    }
  } else if (state.kind === 'refused') {
    validation.addError(state.message);
  } else if (state.kind === 'planned') {
    for (const v of state.preview.violations) {
      validation.addError(`${v.field ? `${v.field}: ` : ''}${v.message}`);
    }
  }
};
