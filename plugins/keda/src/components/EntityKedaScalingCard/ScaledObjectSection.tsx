import Box from '@material-ui/core/Box';
import Divider from '@material-ui/core/Divider';
import Grid from '@material-ui/core/Grid';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import type { ScaledObjectStatus } from '@keda-self-service/plugin-keda-common';
import type { ReactNode } from 'react';
import { describeScalingHealth } from '../../lib/scalingHealth';
import { DiagnosisList } from './DiagnosisList';
import { EventsDrawer } from './EventsDrawer';
import { Provenance } from './Provenance';
import { RelativeTime } from './RelativeTime';
import { ReplicaRange } from './ReplicaRange';
import { RoleChain } from './RoleChain';
import { ScalingSparkline } from './ScalingSparkline';
import { TriggerTable } from './TriggerTable';
import { StatusChip } from '../StatusChip/StatusChip';
import { SCALING_HEALTH_CHIP } from '../StatusChip/statusKinds';

const useStyles = makeStyles(theme => ({
  header: {
    display: 'flex',
    alignItems: 'center',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  heading: {
    fontSize: theme.typography.overline.fontSize,
    letterSpacing: theme.typography.overline.letterSpacing,
    textTransform: 'uppercase',
    color: theme.palette.text.secondary,
    margin: theme.spacing(2, 0, 0.5),
  },
  conditions: {
    margin: theme.spacing(0.5, 0, 0),
    paddingLeft: theme.spacing(2.5),
  },
  allConditions: {
    marginTop: theme.spacing(0.5),
    '& summary': { cursor: 'pointer', color: theme.palette.text.secondary },
  },
  times: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: theme.spacing(2),
  },
}));

function Section(props: { title: string; children: ReactNode }) {
  const classes = useStyles();
  return (
    <section aria-label={props.title}>
      <Typography component="h3" className={classes.heading}>
        {props.title}
      </Typography>
      {props.children}
    </section>
  );
}

/** Everything the card shows about one ScaledObject. */
export function ScaledObjectSection(props: {
  scaledObject: ScaledObjectStatus;
  now: number;
  showLocation: boolean;
  /** Draws a rule below, to separate it from the next ScaledObject. */
  divider?: boolean;
}) {
  const classes = useStyles();
  const { scaledObject: so, now } = props;
  const health = describeScalingHealth(so);
  const deprecationDiagnosed = so.diagnoses.some(
    d => d.code === 'DeprecatedProvider',
  );
  const unusualConditions = health.conditions.filter(
    c =>
      c.message &&
      c.message !== health.summary &&
      // Ready=True, Active, Fallback=False, Paused=False are the normal
      // states; list the rest so the badge's reason is readable.
      !(c.type === 'Ready' && c.status === 'True') &&
      !(c.type === 'Fallback' && c.status === 'False') &&
      !(c.type === 'Paused' && c.status === 'False') &&
      !(c.type === 'Active' && health.tone === 'ok'),
  );

  return (
    <Box data-testid={`keda-scaledobject-${so.namespace}-${so.name}`}>
      <div className={classes.header}>
        <StatusChip kind={SCALING_HEALTH_CHIP} status={health} />
        <Typography variant="subtitle1" component="h2">
          {so.scaleTarget.kind} {so.scaleTarget.name}
        </Typography>
        {props.showLocation && (
          <Typography variant="body2" color="textSecondary">
            ScaledObject {so.namespace}/{so.name} on {so.cluster}
          </Typography>
        )}
      </div>
      <Typography variant="body2" data-testid="keda-health-summary">
        {health.summary}
      </Typography>
      {unusualConditions.length > 0 && (
        <ul className={classes.conditions} aria-label="Conditions">
          {unusualConditions.map(c => (
            <li key={c.type}>
              <Typography variant="body2">
                <strong>
                  {c.type}={c.status}
                </strong>
                {c.reason && ` (${c.reason})`}: {c.message}
              </Typography>
            </li>
          ))}
        </ul>
      )}

      {health.conditions.length > 0 && (
        <details className={classes.allConditions}>
          <summary>
            <Typography variant="caption" component="span">
              All conditions ({health.conditions.length})
            </Typography>
          </summary>
          <ul className={classes.conditions} aria-label="All conditions">
            {health.conditions.map(c => (
              <li key={c.type}>
                <Typography variant="caption">
                  <strong>
                    {c.type}={c.status}
                  </strong>
                  {c.reason && ` (${c.reason})`}
                  {c.message && `: ${c.message}`}
                </Typography>
              </li>
            ))}
          </ul>
        </details>
      )}

      {so.diagnoses.length > 0 && (
        <Box mt={1.5}>
          <DiagnosisList diagnoses={so.diagnoses} />
        </Box>
      )}

      <Grid container spacing={3}>
        <Grid item xs={12} md={6}>
          <Section title="Replicas">
            <ReplicaRange replicas={so.replicas} />
          </Section>
        </Grid>
        <Grid item xs={12} md={6}>
          <Section title="History">
            <ScalingSparkline history={so.history} />
          </Section>
        </Grid>
      </Grid>

      <Section title="Triggers">
        <TriggerTable triggers={so.triggers} />
      </Section>

      <Section title="Role chain">
        <RoleChain
          auth={
            so.auth && deprecationDiagnosed
              ? { ...so.auth, deprecatedProvider: false }
              : so.auth
          }
          namespace={so.namespace}
        />
      </Section>

      <Section title="Activity">
        <div className={classes.times}>
          <Typography variant="body2">
            Last scale: <RelativeTime iso={so.hpa?.lastScaleTime} now={now} />
          </Typography>
          <Typography variant="body2">
            Last active: <RelativeTime iso={so.lastActiveTime} now={now} />
          </Typography>
          <EventsDrawer
            events={so.events}
            scaledObjectName={so.name}
            now={now}
          />
        </div>
      </Section>

      <Section title="Provenance">
        <Provenance provenance={so.provenance} />
      </Section>
      {props.divider && (
        <Box mt={2}>
          <Divider />
        </Box>
      )}
    </Box>
  );
}
