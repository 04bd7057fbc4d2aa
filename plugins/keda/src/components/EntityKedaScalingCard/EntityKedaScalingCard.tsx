import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  LinkButton,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import type {
  EntityKedaStatus,
  KedaProvenance,
} from '@keda-self-service/plugin-keda-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import IconButton from '@material-ui/core/IconButton';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import RefreshIcon from '@material-ui/icons/Refresh';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { useEffect, useState } from 'react';
import { describeError } from '../../lib/describeError';
import { formatRelativeTime } from '../../lib/relativeTime';
import { useRefreshIntervalMs } from '../../lib/refreshInterval';
import { currentRequestIds } from '../../lib/currentRequests';
import {
  decommissionTemplateUrl,
  requestTemplateUrl,
} from '../../lib/requestTemplateUrl';
import { Provenance, pendingRequestTitle } from './Provenance';
import {
  useDecommissionTemplatePath,
  useRequestTemplatePath,
} from '../../hooks/useRequestTemplatePath';
import { ScaledObjectSection } from './ScaledObjectSection';
import { useKedaStatus } from './useKedaStatus';

/** Props of {@link EntityKedaScalingCard}. @public */
export interface EntityKedaScalingCardProps {
  /**
   * Refresh period while the page is visible. Overrides the app config
   * `keda.frontend.refreshIntervalSeconds` (default 15, minimum 5).
   */
  refreshIntervalSeconds?: number;
  /** Card title; defaults to "Autoscaling". */
  title?: string;
}

/** Ticks once a second-scale period so relative times ("4 minutes ago") stay true. */
export function useNow(periodMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}

export function StaleClusterBanner(props: {
  status: EntityKedaStatus;
  now: number;
}) {
  const stale = props.status.clusters.filter(c => c.stale);
  const syncing = props.status.clusters.filter(c => !c.synced && !c.stale);
  return (
    <>
      {stale.map(cluster => (
        <Alert
          key={cluster.cluster}
          severity="warning"
          data-testid="keda-stale-banner"
        >
          <AlertTitle>Cluster {cluster.cluster} is unreachable</AlertTitle>
          Showing the last known state
          {cluster.lastSyncTime
            ? ` from ${formatRelativeTime(cluster.lastSyncTime, props.now)}`
            : ''}
          ; it may be out of date.
          {cluster.error && (
            <Typography variant="caption" display="block">
              {cluster.error}
            </Typography>
          )}
        </Alert>
      ))}
      {syncing.map(cluster => (
        <Alert key={cluster.cluster} severity="info">
          Cluster {cluster.cluster} is still loading its first snapshot; its
          ScaledObjects may be missing for a moment.
        </Alert>
      ))}
    </>
  );
}

export function PendingRequests(props: { requests: KedaProvenance[] }) {
  return (
    <Box display="flex" flexDirection="column" style={{ gap: 8 }}>
      {props.requests.map((request, index) => (
        <Alert
          key={request.requestId ?? index}
          severity={request.requestState === 'failed' ? 'error' : 'info'}
          data-testid="keda-pending-request"
        >
          <AlertTitle>{pendingRequestTitle(request.requestState)}</AlertTitle>
          <Provenance provenance={request} />
          <Typography variant="body2">
            {request.requestState === 'failed'
              ? 'Provisioning stopped; the platform team can see the reason and retry on the KEDA requests page.'
              : 'Live scaling appears here once the pull request is merged and applied to the cluster.'}
          </Typography>
        </Alert>
      ))}
    </Box>
  );
}

function NoScaledObject(props: { entityRef: string; entityName: string }) {
  const templatePath = useRequestTemplatePath();
  return (
    <Box textAlign="center" py={2} data-testid="keda-empty-state">
      <Typography variant="h6" component="p" gutterBottom>
        No autoscaling yet
      </Typography>
      <Typography variant="body2" color="textSecondary" paragraph>
        {props.entityName} has no KEDA ScaledObject. Request autoscaling on the
        depth of an SQS queue; the platform team reviews the IAM roles and
        manifests before anything is created.
      </Typography>
      <LinkButton
        to={requestTemplateUrl(props.entityRef, templatePath)}
        variant="contained"
        color="primary"
      >
        Request autoscaling
      </LinkButton>
    </Box>
  );
}

/**
 * Link to the decommission template, offered only while the entity has a
 * current request on record: the template removes what that request set up.
 * With one current request it is pre-selected; with several (more than one
 * workload) the template's picker asks which.
 */
export function RemoveAutoscalingLink(props: {
  entityRef: string;
  requestIds: string[];
}) {
  const templatePath = useDecommissionTemplatePath();
  if (props.requestIds.length === 0) return null;
  return (
    <LinkButton
      to={decommissionTemplateUrl(
        {
          entityRef: props.entityRef,
          requestId:
            props.requestIds.length === 1 ? props.requestIds[0] : undefined,
        },
        templatePath,
      )}
      variant="outlined"
      size="small"
    >
      Remove autoscaling
    </LinkButton>
  );
}

/**
 * Shown when the entity's status could not be loaded, with a retry (the
 * card and the Autoscaling tab).
 */
export function StatusLoadError(props: { error?: Error; onRetry: () => void }) {
  const { error, onRetry } = props;
  return (
    <>
      <ResponseErrorPanel
        error={error ?? new Error('No status received')}
        // The message goes in the title so it is readable without
        // expanding the panel (which holds the request details).
        title={`Could not load the autoscaling status: ${
          error ? describeError(error) : 'no answer'
        }`}
      />
      <Box mt={1}>
        <Button variant="outlined" onClick={onRetry}>
          Try again
        </Button>
      </Box>
    </>
  );
}

/**
 * Entity page card with the live KEDA scaling state of the entity's
 * workloads: health, replicas, triggers, role chain, history and provenance.
 *
 * @public
 */
export function EntityKedaScalingCard(props: EntityKedaScalingCardProps) {
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const intervalMs = useRefreshIntervalMs(props.refreshIntervalSeconds);
  const { value, error, loading, receivedAt, retry } = useKedaStatus(
    entityRef,
    intervalMs,
  );
  const now = useNow(15_000);
  const title = props.title ?? 'Autoscaling';
  const refreshAction = (
    <Tooltip title="Refresh now">
      <IconButton aria-label="Refresh autoscaling status" onClick={retry}>
        <RefreshIcon />
      </IconButton>
    </Tooltip>
  );

  let content;
  if (loading && !value) {
    content = <Progress />;
  } else if (!value) {
    content = <StatusLoadError error={error} onRetry={retry} />;
  } else {
    const pending = value.pendingRequests ?? [];
    const current = currentRequestIds(value);
    content = (
      <Box display="flex" flexDirection="column" style={{ gap: 12 }}>
        {error && (
          <Alert
            severity="warning"
            data-testid="keda-refresh-error"
            action={
              <Button color="inherit" size="small" onClick={retry}>
                Retry
              </Button>
            }
          >
            Refreshing failed ({describeError(error)}); showing data from{' '}
            {formatRelativeTime(new Date(receivedAt ?? now).toISOString(), now)}
            .
          </Alert>
        )}
        <StaleClusterBanner status={value} now={now} />
        {value.scaledObjects.map((so, index) => (
          <ScaledObjectSection
            key={`${so.cluster}/${so.namespace}/${so.name}`}
            scaledObject={so}
            now={now}
            showLocation
            divider={index < value.scaledObjects.length - 1}
          />
        ))}
        {pending.length > 0 && <PendingRequests requests={pending} />}
        {value.scaledObjects.length === 0 && pending.length === 0 && (
          <NoScaledObject
            entityRef={entityRef}
            entityName={entity.metadata.title ?? entity.metadata.name}
          />
        )}
        {current.length > 0 && (
          <Box display="flex" justifyContent="flex-end">
            <RemoveAutoscalingLink entityRef={entityRef} requestIds={current} />
          </Box>
        )}
      </Box>
    );
  }

  return (
    <InfoCard
      title={title}
      subheader="KEDA · scaling on SQS queue depth"
      action={refreshAction}
    >
      <div aria-busy={loading}>{content}</div>
    </InfoCard>
  );
}
