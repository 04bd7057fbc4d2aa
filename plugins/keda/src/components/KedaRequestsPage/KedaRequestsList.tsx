import {
  Link,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import {
  KEDA_REQUEST_STATES,
  KEDA_REQUESTS_SIGNAL_CHANNEL,
  type KedaRequestRecord,
  type KedaRequestListFilter,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import Box from '@material-ui/core/Box';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import RefreshIcon from '@material-ui/icons/Refresh';
import { useMemo, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useDebounce from 'react-use/esm/useDebounce';
import { useSignalRefresh } from '../../lib/useSignalRefresh';
import { pullRequestLabel } from '../EntityKedaScalingCard/Provenance';
import { requestStateView } from './requestState';
import { useKedaRequestsApi } from './useKedaRequestsApi';
import { StatusChip } from '../StatusChip/StatusChip';
import { REQUEST_STATE_CHIP } from '../StatusChip/statusKinds';
import { formatTime, queueName } from '../../lib/format';

/** Path of a request's detail view below the page at `basePath`. */
export function requestDetailPath(basePath: string, id: string): string {
  return `${basePath.replace(/\/+$/, '')}/requests/${encodeURIComponent(id)}`;
}

function requestColumns(basePath: string): TableColumn<KedaRequestRecord>[] {
  return [
    {
      title: 'Entity',
      field: 'entityRef',
      highlight: true,
      render: row => (
        <Link to={requestDetailPath(basePath, row.id)}>{row.entityRef}</Link>
      ),
    },
    { title: 'Requester', field: 'requester' },
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
      field: 'pullRequest.url',
      sorting: false,
      render: row =>
        row.pullRequest ? (
          <Link to={row.pullRequest.url}>
            {pullRequestLabel(row.pullRequest.url)}
          </Link>
        ) : (
          'none yet'
        ),
    },
  ];
}

/**
 * How often the requests pages ask again when the app has no signals
 * (`@backstage/plugin-signals`); with signals they refetch on each change.
 */
export const REQUESTS_POLL_FALLBACK_MS = 30_000;

/** Typing in a filter field waits this long before asking the backend. */
const FILTER_DEBOUNCE_MS = 400;

/**
 * The request list with its filters (state, team, cluster). The filters go
 * to the backend (`GET /requests?state=&team=&cluster=`), so a long history
 * is not fetched just to be filtered here. It reloads when the backend
 * signals a change on `keda:requests` (slow polling without signals).
 */
export function KedaRequestsList(props: { basePath: string }) {
  const { basePath } = props;
  const api = useKedaRequestsApi();
  const columns = useMemo(() => requestColumns(basePath), [basePath]);
  const [state, setState] = useState<KedaRequestState | ''>('');
  const [team, setTeam] = useState('');
  const [cluster, setCluster] = useState('');
  // The state applies at once; the free-text fields once typing stops, so
  // the backend is not asked for every keystroke.
  const [typed, setTyped] = useState({ team: '', cluster: '' });
  useDebounce(
    () =>
      // the same object when nothing changed: no reload for the debounce
      // that fires once after the first render
      setTyped(previous =>
        previous.team === team.trim() && previous.cluster === cluster.trim()
          ? previous
          : { team: team.trim(), cluster: cluster.trim() },
      ),
    FILTER_DEBOUNCE_MS,
    [team, cluster],
  );
  const filter = useMemo<KedaRequestListFilter>(
    () => ({
      ...(state ? { state } : {}),
      ...(typed.team ? { team: typed.team } : {}),
      ...(typed.cluster ? { cluster: typed.cluster } : {}),
    }),
    [state, typed],
  );

  const { value, loading, error, retry } = useAsyncRetry(
    () => api.listRequests(filter),
    [api, filter],
  );
  // Any request may have entered or left the filter: reload the list.
  useSignalRefresh(KEDA_REQUESTS_SIGNAL_CHANNEL, () => retry(), {
    fallbackIntervalMs: REQUESTS_POLL_FALLBACK_MS,
  });

  return (
    <>
      <Box
        component="form"
        role="search"
        aria-label="Filter KEDA requests"
        display="flex"
        flexWrap="wrap"
        gridGap={16}
        mb={2}
        onSubmit={(e: React.FormEvent) => e.preventDefault()}
      >
        <TextField
          select
          id="keda-requests-state-filter"
          label="State"
          variant="outlined"
          size="small"
          style={{ minWidth: 200 }}
          value={state}
          onChange={e => setState(e.target.value as KedaRequestState | '')}
        >
          <MenuItem value="">All states</MenuItem>
          {KEDA_REQUEST_STATES.map(s => (
            <MenuItem key={s} value={s}>
              {requestStateView(s).label}
            </MenuItem>
          ))}
        </TextField>
        <TextField
          id="keda-requests-team-filter"
          label="Team"
          placeholder="group:default/team-orders"
          helperText="Owner of the entity, as an entity ref"
          variant="outlined"
          size="small"
          value={team}
          onChange={e => setTeam(e.target.value)}
        />
        <TextField
          id="keda-requests-cluster-filter"
          label="Cluster"
          placeholder="prod-eu"
          variant="outlined"
          size="small"
          value={cluster}
          onChange={e => setCluster(e.target.value)}
        />
      </Box>
      {error ? (
        <ResponseErrorPanel
          error={error}
          title="Could not load KEDA requests"
        />
      ) : (
        <Table<KedaRequestRecord>
          title="KEDA requests"
          // A reload keeps the rows on screen instead of a spinner.
          isLoading={loading && !value}
          columns={columns}
          data={value ?? []}
          options={{
            search: false,
            paging: (value?.length ?? 0) > 20,
            pageSize: 20,
            padding: 'dense',
          }}
          emptyContent={<Box p={2}>No KEDA requests match these filters.</Box>}
          actions={[
            {
              icon: () => <RefreshIcon aria-hidden />,
              tooltip: 'Reload requests',
              isFreeAction: true,
              onClick: () => retry(),
            },
          ]}
        />
      )}
    </>
  );
}
