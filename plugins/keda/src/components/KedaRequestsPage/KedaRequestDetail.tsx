import {
  CodeSnippet,
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { ResponseError } from '@backstage/errors';
import {
  isFinalRequestState,
  KEDA_REQUESTS_SIGNAL_CHANNEL,
  scaffolderTaskPagePath,
  type Finding,
  type KedaRequestRecord,
  type KedaRequestSignal,
} from '@keda-self-service/plugin-keda-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { Alert } from '@material-ui/lab';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { describeError } from '../../lib/describeError';
import { useSignalRefresh } from '../../lib/useSignalRefresh';
import { pullRequestLabel } from '../EntityKedaScalingCard/Provenance';
import { DecisionDialog, type CommentedDecision } from './DecisionDialog';
import { RoleChainVerification } from './RoleChainVerification';
import {
  availableActions,
  decisionLabel,
  requestStateView,
} from './requestState';
import {
  REQUESTS_POLL_FALLBACK_MS,
  requestDetailPath,
} from './KedaRequestsList';
import { useKedaRequestsApi } from './useKedaRequestsApi';
import { StatusChip } from '../StatusChip/StatusChip';
import { REQUEST_STATE_CHIP } from '../StatusChip/statusKinds';
import { formatTime } from '../../lib/format';

function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function isConflict(error: unknown): boolean {
  return (
    (error instanceof ResponseError ||
      (error as Error | undefined)?.name === 'ResponseError') &&
    (error as ResponseError).statusCode === 409
  );
}

/** What the last action did, shown above the request. */
type Outcome =
  | { severity: 'success'; message: string }
  | { severity: 'error' | 'warning'; message: string };

const DONE: Record<CommentedDecision | 'retry', string> = {
  approve: 'Approved. Provisioning has started.',
  reject: 'Rejected. The requester has been told why.',
  withdraw: 'Withdrawn.',
  retry: 'Provisioning started again.',
};

function FindingList(props: {
  label: string;
  findings: Array<Finding | string>;
}) {
  if (props.findings.length === 0) return null;
  const id = `keda-findings-${props.label.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <Box mb={2}>
      <Typography variant="subtitle2" component="h3" id={id}>
        {props.label}
      </Typography>
      <ul aria-labelledby={id}>
        {props.findings.map((f, i) => (
          <li key={i}>
            {typeof f === 'string' ? (
              f
            ) : (
              <>
                {f.message}
                {f.field && (
                  <Typography variant="caption" color="textSecondary">
                    {' '}
                    (field <code>{f.field}</code>)
                  </Typography>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
    </Box>
  );
}

function Guardrails(props: { record: KedaRequestRecord }) {
  const { record } = props;
  const guardrails = record.plan?.guardrails;
  const nothing =
    record.approvalReasons.length === 0 &&
    !guardrails?.violations.length &&
    !guardrails?.warnings.length;
  return (
    <InfoCard title="Guardrail findings">
      {nothing && (
        <Typography variant="body2">
          {record.autoApproved
            ? 'Within the guardrails: approved automatically.'
            : 'No findings.'}
        </Typography>
      )}
      <FindingList label="Violations" findings={guardrails?.violations ?? []} />
      <FindingList
        label="Why approval is needed"
        findings={record.approvalReasons}
      />
      <FindingList label="Warnings" findings={guardrails?.warnings ?? []} />
    </InfoCard>
  );
}

function Plan(props: { record: KedaRequestRecord }) {
  const { plan } = props.record;
  if (!plan) {
    return (
      <InfoCard title="Plan">
        <Typography variant="body2">
          This request has no stored plan.
        </Typography>
      </InfoCard>
    );
  }
  const iamDocuments = [
    {
      title: `Scaler role ${plan.scalerRole.arn}: trust policy`,
      document: plan.scalerRole.trustPolicy,
    },
    {
      title: `Scaler role ${plan.scalerRole.arn}: permission policy ${plan.scalerRole.permissionPolicyName}`,
      document: plan.scalerRole.permissionPolicy,
    },
    {
      title: `KEDA operator role ${plan.operatorRole.arn}: permission policy ${plan.operatorRole.permissionPolicyName}`,
      document: plan.operatorRole.permissionPolicy,
    },
  ];
  return (
    <InfoCard title="Plan">
      <StructuredMetadataTable
        metadata={{
          'Scaler role (queue account)': plan.scalerRole.arn,
          'KEDA operator role (cluster account)': plan.operatorRole.arn,
          ExternalId: plan.scalerRole.externalId ?? 'not used',
          Queue: plan.queue.arn,
          Replicas: `${plan.request.minReplicas}–${plan.request.maxReplicas}`,
          'Manifest folder': plan.manifestDirectory,
        }}
      />
      <Typography variant="h6" component="h3" id="keda-plan-iam">
        IAM documents
      </Typography>
      <section aria-labelledby="keda-plan-iam">
        {iamDocuments.map(({ title, document }) => (
          <Box key={title} mb={2}>
            <Typography variant="subtitle2" component="h4">
              {title}
            </Typography>
            <CodeSnippet
              language="json"
              text={prettyJson(document)}
              showCopyCodeButton
            />
          </Box>
        ))}
      </section>
      <Typography variant="h6" component="h3" id="keda-plan-manifests">
        Manifests
      </Typography>
      <section aria-labelledby="keda-plan-manifests">
        {plan.manifests.map(file => (
          <Box key={file.path} mb={2}>
            <Typography variant="subtitle2" component="h4">
              {file.path}
            </Typography>
            <CodeSnippet
              language={file.path.endsWith('.json') ? 'json' : 'yaml'}
              text={file.content}
              showCopyCodeButton
            />
          </Box>
        ))}
      </section>
    </InfoCard>
  );
}

function DecisionLog(props: { record: KedaRequestRecord }) {
  return (
    <InfoCard title="Decision history">
      <table aria-label="Decision history" style={{ width: '100%' }}>
        <thead>
          <tr>
            <th align="left">Time</th>
            <th align="left">Actor</th>
            <th align="left">Decision</th>
            <th align="left">Comment</th>
          </tr>
        </thead>
        <tbody>
          {props.record.decisions.map((d, i) => (
            <tr key={`${d.at}-${i}`}>
              <td>
                <time dateTime={d.at}>{formatTime(d.at)}</time>
              </td>
              <td>{d.actor}</td>
              <td>{decisionLabel(d.decision)}</td>
              <td>{d.comment ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </InfoCard>
  );
}

/**
 * One request: summary, guardrail findings, the plan, the decision log and
 * the decisions the signed-in user may take (as the backend says, in the
 * record's `allowedActions`). It follows changes made elsewhere (another
 * approver, the provisioning task) through the backend's `keda:requests`
 * signal, or by slow polling where the app has no signals.
 */
export function KedaRequestDetail(props: { id: string; listPath: string }) {
  const { id, listPath } = props;
  const api = useKedaRequestsApi();

  // The record shown: the last fetch, or the answer of the last decision
  // (the backend returns the updated record, so no second round trip).
  const [updated, setUpdated] = useState<KedaRequestRecord>();
  const fetched = useAsyncRetry(async () => {
    const record = await api.getRequest(id);
    setUpdated(undefined);
    return record;
  }, [api, id]);
  const record = updated ?? fetched.value;
  const retryFetch = fetched.retry;

  useSignalRefresh<KedaRequestSignal>(
    KEDA_REQUESTS_SIGNAL_CHANNEL,
    message => {
      if (!message || message.requestId === id) retryFetch();
    },
    {
      fallbackIntervalMs: REQUESTS_POLL_FALLBACK_MS,
      // A request in a final state does not change any more.
      enabled: !record || !isFinalRequestState(record.state),
    },
  );

  const [dialog, setDialog] = useState<CommentedDecision>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();

  if (fetched.loading && !record) return <Progress />;
  if (fetched.error && !record) {
    return (
      <ResponseErrorPanel
        error={fetched.error}
        title={`Could not load KEDA request ${id}`}
      />
    );
  }
  if (!record) return null;

  const actions = availableActions(record);

  const run = async (
    action: CommentedDecision | 'retry',
    call: () => Promise<KedaRequestRecord>,
  ) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const result = await call();
      setUpdated(result);
      // approve / retry answer 200 with state `failed` when the provisioning
      // task could not start; that is not a success to celebrate.
      setOutcome(
        result.state === 'failed'
          ? {
              severity: 'warning',
              message: `Decision recorded, but provisioning could not start: ${
                result.provisioning?.error ?? 'no reason given'
              }. Retry once the cause is fixed.`,
            }
          : { severity: 'success', message: DONE[action] },
      );
      setDialog(undefined);
    } catch (e) {
      if (isConflict(e)) {
        // Someone else decided meanwhile: say who (the backend's message
        // names the decision, actor and time) and show the current state.
        setOutcome({
          severity: 'warning',
          message: `Someone else decided first: ${describeError(
            e as Error,
          )}. The request below has been reloaded.`,
        });
        setDialog(undefined);
        fetched.retry();
      } else {
        setOutcome({ severity: 'error', message: describeError(e as Error) });
        setDialog(undefined);
      }
    } finally {
      setBusy(false);
    }
  };

  const view = requestStateView(record.state);
  const taskId = record.provisioning?.taskId;
  const taskUrl =
    record.provisioning?.taskUrl ??
    (taskId ? scaffolderTaskPagePath(taskId) : undefined);

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Box display="flex" alignItems="center" flexWrap="wrap" gridGap={16}>
          <Typography variant="h5" component="h2">
            {record.entityRef}
          </Typography>
          <StatusChip kind={REQUEST_STATE_CHIP} status={view} />
          <Button
            size="small"
            variant="outlined"
            disabled={busy || fetched.loading}
            onClick={() => {
              setOutcome(undefined);
              fetched.retry();
            }}
          >
            Reload
          </Button>
          <Link to={listPath}>Back to all requests</Link>
        </Box>
        <Typography variant="body2" color="textSecondary">
          {view.description}
        </Typography>
      </Grid>

      {outcome && (
        <Grid item xs={12}>
          <Alert severity={outcome.severity} role="alert">
            {outcome.message}
          </Alert>
        </Grid>
      )}

      {(actions.approve ||
        actions.reject ||
        actions.withdraw ||
        actions.retry) && (
        <Grid item xs={12}>
          <Box display="flex" gridGap={8} role="group" aria-label="Decisions">
            {actions.approve && (
              <Button
                variant="contained"
                color="primary"
                disabled={busy}
                onClick={() => setDialog('approve')}
              >
                Approve
              </Button>
            )}
            {actions.reject && (
              <Button
                variant="outlined"
                disabled={busy}
                onClick={() => setDialog('reject')}
              >
                Reject
              </Button>
            )}
            {actions.withdraw && (
              <Button
                variant="outlined"
                disabled={busy}
                onClick={() => setDialog('withdraw')}
              >
                Withdraw
              </Button>
            )}
            {actions.retry && (
              <Button
                variant="contained"
                color="primary"
                disabled={busy}
                onClick={() => run('retry', () => api.retryRequest(record.id))}
              >
                Retry provisioning
              </Button>
            )}
          </Box>
        </Grid>
      )}

      <Grid item xs={12} md={6}>
        <InfoCard title="Request">
          <StructuredMetadataTable
            metadata={{
              'Request id': record.id,
              Requester: record.requester,
              Team: record.owner ?? 'unknown',
              Cluster: record.cluster,
              Queue: record.queueUrl,
              Approval: record.autoApproved
                ? 'auto-approved by policy'
                : 'by a platform engineer',
              ...(record.supersedes
                ? {
                    Supersedes: (
                      <Link to={requestDetailPath(listPath, record.supersedes)}>
                        {record.supersedes}
                      </Link>
                    ),
                  }
                : {}),
              ...(record.supersededBy
                ? {
                    'Superseded by': (
                      <Link
                        to={requestDetailPath(listPath, record.supersededBy)}
                      >
                        {record.supersededBy}
                      </Link>
                    ),
                  }
                : {}),
              Created: formatTime(record.createdAt),
              Updated: formatTime(record.updatedAt),
              'Pull request': record.pullRequest ? (
                <Link to={record.pullRequest.url}>
                  {pullRequestLabel(record.pullRequest.url)}
                </Link>
              ) : (
                'none yet'
              ),
              'Provisioning task': taskUrl ? (
                <Link to={taskUrl}>{`task ${taskId ?? ''}`.trim()}</Link>
              ) : (
                'not started'
              ),
              ...(record.provisioning?.roleArns
                ? {
                    'Provisioned scaler role':
                      record.provisioning.roleArns.scaler,
                  }
                : {}),
              ...(record.provisioning?.error
                ? { 'Provisioning error': record.provisioning.error }
                : {}),
            }}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={6}>
        <Guardrails record={record} />
      </Grid>
      {(record.provisioning?.verification ||
        record.state === 'provisioned') && (
        <Grid item xs={12}>
          <RoleChainVerification record={record} />
        </Grid>
      )}
      <Grid item xs={12}>
        <DecisionLog record={record} />
      </Grid>
      <Grid item xs={12}>
        <Plan record={record} />
      </Grid>

      <DecisionDialog
        decision={dialog}
        busy={busy}
        onCancel={() => setDialog(undefined)}
        onConfirm={comment => {
          if (!dialog) return;
          const body = comment ? { comment } : {};
          const calls = {
            approve: () => api.approveRequest(record.id, body),
            reject: () => api.rejectRequest(record.id, { comment }),
            withdraw: () => api.withdrawRequest(record.id, body),
          };
          run(dialog, calls[dialog]);
        }}
      />
    </Grid>
  );
}
