import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import type { KedaReplicas } from '@keda-self-service/plugin-keda-common';

const useStyles = makeStyles(theme => ({
  track: {
    position: 'relative',
    height: 8,
    borderRadius: 4,
    background: theme.palette.action.selected,
    margin: theme.spacing(1, 0, 0.5),
  },
  fill: {
    position: 'absolute',
    left: 0,
    top: 0,
    bottom: 0,
    borderRadius: 4,
    background: theme.palette.primary.main,
    transition: 'width 300ms ease-out',
  },
  desired: {
    position: 'absolute',
    top: -3,
    bottom: -3,
    width: 3,
    marginLeft: -1,
    background: theme.palette.text.primary,
    transition: 'left 300ms ease-out',
  },
  scale: { display: 'flex', justifyContent: 'space-between' },
}));

function share(value: number, max: number): number {
  if (max <= 0) return 0;
  return Math.min(Math.max(value / max, 0), 1) * 100;
}

/** Current and desired replicas drawn on the 0..max scale with the min–max range in words. */
export function ReplicaRange(props: { replicas: KedaReplicas }) {
  const classes = useStyles();
  const { current, desired, min, max, idle, paused } = props.replicas;
  const moving =
    current !== undefined && desired !== undefined && current !== desired;
  const label = [
    current !== undefined ? `${current} running` : 'running count unknown',
    desired !== undefined ? `${desired} desired` : undefined,
    `range ${min}–${max}`,
  ]
    .filter(Boolean)
    .join(', ');

  return (
    <Box>
      <Typography variant="body1" component="p">
        <strong data-testid="keda-current-replicas">{current ?? '–'}</strong>{' '}
        replica{current === 1 ? '' : 's'}
        {moving && (
          <>
            {' '}
            → <strong>{desired}</strong> desired (scaling{' '}
            {desired! > current! ? 'up' : 'down'})
          </>
        )}
        {!moving && desired !== undefined && ' (at desired count)'}
      </Typography>
      <div
        className={classes.track}
        role="img"
        aria-label={`Replicas: ${label}`}
      >
        {current !== undefined && (
          <div
            className={classes.fill}
            style={{ width: `${share(current, max)}%` }}
          />
        )}
        {desired !== undefined && (
          <div
            className={classes.desired}
            style={{ left: `${share(desired, max)}%` }}
          />
        )}
      </div>
      <div className={classes.scale}>
        <Typography variant="caption" color="textSecondary">
          min {min}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {idle !== undefined && `idle ${idle} · `}
          {paused !== undefined && `paused at ${paused} · `}
          max {max}
        </Typography>
      </div>
    </Box>
  );
}
