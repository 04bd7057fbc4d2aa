import {
  Link,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import Box from '@material-ui/core/Box';
import RefreshIcon from '@material-ui/icons/Refresh';
import { useMemo } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { pullRequestLabel } from '../EntityKedaScalingCard/Provenance';
import { requestDetailPath } from '../KedaRequestsPage/KedaRequestsList';
import { requestStateView } from '../KedaRequestsPage/requestState';
import { useKedaRequestsApi } from '../KedaRequestsPage/useKedaRequestsApi';
import { StatusChip } from '../StatusChip/StatusChip';
import { REQUEST_STATE_CHIP } from '../StatusChip/statusKinds';
import { formatTime, queueName } from '../../lib/format';

function columns(basePath: string): TableColumn<KedaRequestRecord>[] {
  return [
    {
      title: 'Request',
      field: 'id',
      highlight: true,
      render: row => (
        <Link to={requestDetailPath(basePath, row.id)}>{row.id}</Link>
      ),
    },
    {
      title: 'Workload',
      render: row =>
        `${row.plan.request.namespace}/${row.plan.request.workload.name}`,
    },
    { title: 'Cluster', field: 'cluster' },
    {
      title: 'Queue',
      field: 'queueUrl',
      render: row => (
        <span title={row.queueUrl}>{queueName(row.queueUrl)}</span>
      ),
    },
    {
      title: 'State',
      field: 'state',
      render: row => (
        <StatusChip
          kind={REQUEST_STATE_CHIP}
          status={requestStateView(row.state)}
        />
      ),
    },
    { title: 'Requester', field: 'requester' },
    {
      title: 'Created',
      field: 'createdAt',
      defaultSort: 'desc',
      render: row => (
        <time dateTime={row.createdAt}>{formatTime(row.createdAt)}</time>
      ),
    },
    {
      title: 'Pull request',
      sorting: false,
      render: row =>
        row.pullRequest ? (
          <Link to={row.pullRequest.url}>
            {pullRequestLabel(row.pullRequest.url)}
          </Link>
        ) : (
          'none'
        ),
    },
  ];
}

/**
 * Every KEDA request of one entity, newest first, linking to the requests
 * page for details and decisions. Filtered by the backend
 * (`GET /requests?entityRef=`), so other entities' requests are never loaded.
 */
export function EntityKedaRequestsTable(props: {
  entityRef: string;
  /** where the KEDA requests page is mounted, e.g. `/keda` */
  requestsPagePath: string;
}) {
  const { entityRef, requestsPagePath } = props;
  const api = useKedaRequestsApi();
  const tableColumns = useMemo(
    () => columns(requestsPagePath),
    [requestsPagePath],
  );
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.listRequests({ entityRef }),
    [api, entityRef],
  );
  if (error) {
    return (
      <ResponseErrorPanel
        error={error}
        title={`Could not load the KEDA requests of ${entityRef}`}
      />
    );
  }
  return (
    <Table<KedaRequestRecord>
      title="KEDA requests"
      subtitle="Requests for this entity: pending, provisioned and closed"
      isLoading={loading && !value}
      columns={tableColumns}
      data={value ?? []}
      options={{
        search: false,
        paging: (value?.length ?? 0) > 10,
        pageSize: 10,
        padding: 'dense',
      }}
      emptyContent={<Box p={2}>No KEDA requests for this entity yet.</Box>}
      actions={[
        {
          icon: () => <RefreshIcon aria-hidden />,
          tooltip: 'Reload requests',
          isFreeAction: true,
          onClick: () => retry(),
        },
      ]}
    />
  );
}
