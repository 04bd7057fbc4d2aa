import { Link } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import type { KedaProvenance } from '@internal/plugin-keda-common';

/** `pending-approval` → `pending approval`; states come from the request store. */
export function requestStateText(state?: string): string {
  if (!state) return 'state unknown';
  return state.replace(/[-_]+/g, ' ').toLowerCase();
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
