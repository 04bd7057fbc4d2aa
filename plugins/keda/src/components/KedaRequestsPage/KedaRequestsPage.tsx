import { Content, EmptyState, LinkButton } from '@backstage/core-components';
import { useRequestTemplatePath } from '../shared/useRequestTemplatePath';

/**
 * The KEDA requests page. Listing, approving and rejecting requests arrives
 * with the approval flow; until then the page exists (so the nav item and the
 * route are stable) and says so.
 *
 * @public
 */
export function KedaRequestsPage() {
  const templatePath = useRequestTemplatePath();
  return (
    <Content>
      <EmptyState
        missing="content"
        title="KEDA requests are coming with the approval flow"
        description="This page will list autoscaling requests with their plans, pull requests and decisions, and let the platform team approve or reject them. Meanwhile, open a component's page to see its scaling status, or start a new request."
        action={
          <LinkButton to={templatePath} variant="contained" color="primary">
            Request autoscaling
          </LinkButton>
        }
      />
    </Content>
  );
}
