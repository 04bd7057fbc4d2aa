import { Content, ContentHeader, LinkButton } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import { useLocation } from 'react-router-dom';
import { useRequestTemplatePath } from '../../hooks/useRequestTemplatePath';
import { KedaRequestDetail } from './KedaRequestDetail';
import { KedaRequestsList } from './KedaRequestsList';

const DETAIL_PATH = /^(.*?)\/requests\/([^/]+)\/?$/;

/**
 * Where the page is mounted and which request, if any, the location names.
 * Matched on the pathname rather than with nested `<Routes>`, so the page
 * works wherever the app mounts it (new frontend system, legacy
 * `<Route path="/keda">`, tests) without relying on a splat route around it.
 */
export function parseRequestsLocation(pathname: string): {
  basePath: string;
  requestId?: string;
} {
  const match = pathname.match(DETAIL_PATH);
  if (!match) return { basePath: pathname.replace(/\/+$/, '') };
  let requestId: string;
  try {
    requestId = decodeURIComponent(match[2]);
  } catch {
    requestId = match[2];
  }
  return { basePath: match[1], requestId };
}

/**
 * The KEDA requests page: the list of autoscaling requests with filters at
 * its root, one request (plan, findings, decision log, decisions) at
 * `requests/:id` below it — `/keda/requests/<id>` where the page is mounted
 * at `/keda`, the link the `keda:request:record` action hands out.
 *
 * @public
 */
export function KedaRequestsPage() {
  const templatePath = useRequestTemplatePath();
  const { basePath, requestId } = parseRequestsLocation(useLocation().pathname);
  return (
    <Content>
      <ContentHeader title="KEDA autoscaling requests">
        <LinkButton to={templatePath} variant="contained" color="primary">
          Request autoscaling
        </LinkButton>
      </ContentHeader>
      <Typography variant="body2" paragraph>
        Requests to scale a workload on the depth of an SQS queue, with the IAM
        roles and manifests planned for each. Approvers decide on pending
        requests here; requesters can follow and withdraw their own.
      </Typography>
      {requestId ? (
        <KedaRequestDetail
          key={requestId}
          id={requestId}
          listPath={basePath || '/'}
        />
      ) : (
        <KedaRequestsList basePath={basePath} />
      )}
    </Content>
  );
}
