import { Link } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import type { KedaProvenance } from '@keda-self-service/plugin-keda-common';

/**
 * Request state (`KedaRequestState` of the request store) in words; unknown
 * future states are shown as they are, de-kebabed.
 */
export function requestStateText(state?: string): string {
  if (!state) return 'state unknown';
  return state.replace(/[-_]+/g, ' ').toLowerCase();
}

/**
 * What a request that has no ScaledObject yet is waiting for, as the title of
 * the card's pending notice.
 */
export function pendingRequestTitle(state?: string): string {
  switch (state) {
    case 'pending':
      return 'Autoscaling request waiting for approval';
    case 'approved':
      return 'Autoscaling request approved; provisioning starts shortly';
    case 'provisioning':
      return 'Autoscaling request: creating the IAM roles';
    case 'provisioned':
      return 'Autoscaling request provisioned; waiting for the pull request to be merged';
    case 'failed':
      return 'Autoscaling request failed';
    default:
      return `Autoscaling request ${requestStateText(state)}`;
  }
}

/** `https://github.com/acme/gitops/pull/42` → `#42`, else the URL itself. */
export function pullRequestLabel(url: string): string {
  const number = url.match(/\/pull(?:s|-requests)?\/(\d+)\/?$/)?.[1];
  return number ? `pull request #${number}` : 'pull request';
}

/** Where a ScaledObject came from: the request, its state and the pull request. */
export function Provenance(props: { provenance?: KedaProvenance }) {
  const { provenance } = props;
  if (!provenance?.requestId && !provenance?.pullRequestUrl) {
    return (
      <Typography variant="body2" color="textSecondary">
        Not created through a KEDA request (applied directly to the cluster).
      </Typography>
    );
  }
  return (
    <Typography variant="body2">
      {provenance.requestId ? (
        <>
          Request <strong>{provenance.requestId}</strong> (
          {requestStateText(provenance.requestState)})
        </>
      ) : (
        'Created'
      )}
      {provenance.pullRequestUrl && (
        <>
          {' '}
          via{' '}
          <Link to={provenance.pullRequestUrl}>
            {pullRequestLabel(provenance.pullRequestUrl)}
          </Link>
        </>
      )}
    </Typography>
  );
}
