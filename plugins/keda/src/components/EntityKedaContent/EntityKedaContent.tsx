import { stringifyEntityRef } from '@backstage/catalog-model';
import { InfoCard, LinkButton, Progress } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { useRequestTemplatePath } from '../../hooks/useRequestTemplatePath';
import { currentRequestIds } from '../../lib/currentRequests';
import { useRefreshIntervalMs } from '../../lib/refreshInterval';
import { requestTemplateUrl } from '../../lib/requestTemplateUrl';
import {
  PendingRequests,
  RemoveAutoscalingLink,
  StaleClusterBanner,
  StatusLoadError,
  useNow,
} from '../EntityKedaScalingCard/EntityKedaScalingCard';
import { ScaledObjectSection } from '../EntityKedaScalingCard/ScaledObjectSection';
import { useKedaStatus } from '../EntityKedaScalingCard/useKedaStatus';
import { EntityKedaRequestsTable } from './EntityKedaRequestsTable';
import { EventsList } from './EventsList';

/** Props of {@link EntityKedaContent}. @public */
export interface EntityKedaContentProps {
  /**
   * Refresh period of the live status while the page is visible. Overrides
   * `keda.frontend.refreshIntervalSeconds` (default 15, minimum 5).
   */
  refreshIntervalSeconds?: number;
  /**
   * Where the KEDA requests page is mounted; the request ids link to it.
   * Default `/keda`.
   */
  requestsPagePath?: string;
}

/**
 * The entity page tab "Autoscaling": every ScaledObject of the entity in
 * full (health, replicas, history, triggers, role chain, provenance), their
 * recent events, the requests not yet on a cluster, and all of the entity's
 * KEDA requests.
 *
 * @public
 */
export function EntityKedaContent(props: EntityKedaContentProps) {
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const intervalMs = useRefreshIntervalMs(props.refreshIntervalSeconds);
  const { value, error, loading, retry } = useKedaStatus(entityRef, intervalMs);
  const now = useNow(15_000);
  const requestTemplatePath = useRequestTemplatePath();
  const requestsPagePath = props.requestsPagePath ?? '/keda';

  let status;
  if (loading && !value) {
    status = <Progress />;
  } else if (!value) {
    status = <StatusLoadError error={error} onRetry={retry} />;
  } else {
    const pending = value.pendingRequests ?? [];
    status = (
      <Box display="flex" flexDirection="column" style={{ gap: 24 }}>
        <StaleClusterBanner status={value} now={now} />
        {value.scaledObjects.map(so => (
          <InfoCard
            key={`${so.cluster}/${so.namespace}/${so.name}`}
            title={`ScaledObject ${so.namespace}/${so.name}`}
            subheader={`on cluster ${so.cluster}`}
          >
            <ScaledObjectSection
              scaledObject={so}
              now={now}
              showLocation={false}
            />
            <Box mt={2}>
              <EventsList
                events={so.events}
                scaledObjectName={so.name}
                now={now}
              />
            </Box>
          </InfoCard>
        ))}
        {pending.length > 0 && <PendingRequests requests={pending} />}
        {value.scaledObjects.length === 0 && pending.length === 0 && (
          <Typography variant="body2" data-testid="keda-content-empty">
            No KEDA ScaledObject scales{' '}
            {entity.metadata.title ?? entity.metadata.name} yet.
          </Typography>
        )}
      </Box>
    );
  }

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Box
          display="flex"
          flexWrap="wrap"
          alignItems="center"
          style={{ gap: 8 }}
        >
          <Typography variant="h5" component="h2" style={{ flexGrow: 1 }}>
            Autoscaling
          </Typography>
          <LinkButton
            to={requestTemplateUrl(entityRef, requestTemplatePath)}
            variant="contained"
            color="primary"
            size="small"
          >
            Request autoscaling
          </LinkButton>
          {value && (
            <RemoveAutoscalingLink
              entityRef={entityRef}
              requestIds={currentRequestIds(value)}
            />
          )}
        </Box>
      </Grid>
      <Grid item xs={12} aria-busy={loading}>
        {status}
      </Grid>
      <Grid item xs={12}>
        <EntityKedaRequestsTable
          entityRef={entityRef}
          requestsPagePath={requestsPagePath}
        />
      </Grid>
    </Grid>
  );
}
