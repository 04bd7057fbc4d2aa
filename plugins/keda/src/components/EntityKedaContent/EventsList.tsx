import { Table, type TableColumn } from '@backstage/core-components';
import type { KedaEvent } from '@keda-self-service/plugin-keda-common';
import Box from '@material-ui/core/Box';
import { RelativeTime } from '../EntityKedaScalingCard/RelativeTime';

function eventTime(event: KedaEvent): string | undefined {
  return event.lastTimestamp ?? event.firstTimestamp;
}

/** The recent Kubernetes events of one ScaledObject, newest first. */
export function EventsList(props: {
  events: KedaEvent[];
  scaledObjectName: string;
  now: number;
}) {
  const events = [...props.events].sort(
    (a, b) =>
      Date.parse(eventTime(b) ?? '') - Date.parse(eventTime(a) ?? '') || 0,
  );
  const columns: TableColumn<KedaEvent>[] = [
    { title: 'Type', field: 'type', width: '10%' },
    { title: 'Reason', field: 'reason', width: '15%' },
    {
      title: 'Object',
      render: e => `${e.involvedObject.kind} ${e.involvedObject.name}`,
    },
    { title: 'Message', field: 'message' },
    {
      title: 'Count',
      render: e => e.count ?? 1,
      width: '5%',
    },
    {
      title: 'When',
      render: e => (
        <RelativeTime iso={eventTime(e)} now={props.now} fallback="unknown" />
      ),
    },
  ];
  return (
    <Table<KedaEvent>
      title={`Events: ${props.scaledObjectName}`}
      columns={columns}
      data={events}
      options={{
        search: false,
        paging: events.length > 10,
        pageSize: 10,
        padding: 'dense',
        sorting: false,
      }}
      emptyContent={<Box p={2}>No recent events.</Box>}
    />
  );
}
