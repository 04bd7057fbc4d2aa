import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import type { KedaTriggerStatus } from '@keda-self-service/plugin-keda-common';

export function depthText(trigger: KedaTriggerStatus): string {
  if (trigger.idle) {
    // KEDA only says its last reading was at most the activation threshold.
    if (trigger.estimatedQueueDepth !== undefined) {
      return `${trigger.estimatedQueueDepth} (idle: scaled to zero)`;
    }
    return trigger.activationThreshold !== undefined
      ? `≤ ${trigger.activationThreshold} (idle: scaled to zero)`
      : 'below activation (idle: scaled to zero)';
  }
  if (trigger.estimatedQueueDepth !== undefined) {
    return `≈ ${trigger.estimatedQueueDepth}`;
  }
  if (trigger.numberOfFailures) {
    return `unknown (${trigger.numberOfFailures} failed reads)`;
  }
  return 'unknown';
}

/** One row per trigger: which queue, where, and the numbers KEDA scales on. */
export function TriggerTable(props: { triggers: KedaTriggerStatus[] }) {
  if (props.triggers.length === 0) {
    return (
      <Typography variant="body2" color="textSecondary">
        This ScaledObject has no triggers.
      </Typography>
    );
  }
  return (
    <Table size="small" aria-label="Triggers">
      <TableHead>
        <TableRow>
          <TableCell>Queue</TableCell>
          <TableCell>Account / region</TableCell>
          <TableCell align="right">Target per replica</TableCell>
          <TableCell align="right">Current depth</TableCell>
          <TableCell align="right">Activates above</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {props.triggers.map((trigger, index) => (
          <TableRow key={trigger.metricName ?? index}>
            <TableCell>
              <Tooltip title={trigger.queueUrl ?? trigger.type}>
                <span>{trigger.queueName ?? trigger.type}</span>
              </Tooltip>
              {trigger.type !== 'aws-sqs-queue' && (
                <Typography
                  variant="caption"
                  display="block"
                  color="textSecondary"
                >
                  {trigger.type}
                </Typography>
              )}
            </TableCell>
            <TableCell>
              {trigger.accountId ?? '–'} / {trigger.region ?? '–'}
            </TableCell>
            <TableCell align="right">
              {trigger.targetPerReplica ?? '–'}
            </TableCell>
            <TableCell align="right">
              {depthText(trigger)}
              {trigger.currentValuePerReplica !== undefined && (
                <Typography
                  variant="caption"
                  display="block"
                  color="textSecondary"
                >
                  {trigger.currentValuePerReplica} per replica
                </Typography>
              )}
            </TableCell>
            <TableCell align="right">
              {trigger.activationThreshold ?? 0}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
