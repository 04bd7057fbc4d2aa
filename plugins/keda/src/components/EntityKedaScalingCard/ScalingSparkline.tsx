import { makeStyles, useTheme } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import type { KedaHistorySample } from '@keda-self-service/plugin-keda-common';
import { historySpanText, sparklineSeries } from '../../lib/sparkline';

const WIDTH = 280;
const HEIGHT = 56;

const useStyles = makeStyles(theme => ({
  svg: { display: 'block', width: '100%', maxWidth: WIDTH, height: HEIGHT },
  legend: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
  },
  swatch: {
    display: 'inline-block',
    width: 16,
    height: 0,
    marginRight: theme.spacing(0.5),
    verticalAlign: 'middle',
    borderTop: '2px solid',
  },
  dashed: { borderTopStyle: 'dashed' },
}));

function range(min?: number, max?: number): string {
  if (min === undefined || max === undefined) return 'no data';
  return min === max ? `${min}` : `${min}–${max}`;
}

/**
 * Replicas and queue depth over the retained history, each on its own 0..max
 * scale. Depth is dashed so the two lines differ without relying on colour.
 */
export function ScalingSparkline(props: { history: KedaHistorySample[] }) {
  const classes = useStyles();
  const theme = useTheme();
  const { history } = props;
  if (history.length < 2) {
    return (
      <Typography variant="body2" color="textSecondary">
        Not enough history yet; the chart fills in as samples arrive.
      </Typography>
    );
  }
  const replicas = sparklineSeries(history, 'replicas', WIDTH, HEIGHT);
  const depth = sparklineSeries(history, 'queueDepth', WIDTH, HEIGHT);
  const span = historySpanText(history);
  const description = `Over ${span}: replicas ${range(
    replicas.min,
    replicas.max,
  )}, queue depth ${range(depth.min, depth.max)}.`;
  const replicaColour = theme.palette.primary.main;
  const depthColour = theme.palette.secondary.main;

  return (
    <figure style={{ margin: 0 }}>
      <svg
        className={classes.svg}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={description}
      >
        <title>{description}</title>
        <line
          x1={0}
          x2={WIDTH}
          y1={HEIGHT - 1}
          y2={HEIGHT - 1}
          stroke={theme.palette.divider}
        />
        <path
          d={depth.path}
          fill="none"
          stroke={depthColour}
          strokeWidth={1.5}
          strokeDasharray="4 3"
          vectorEffect="non-scaling-stroke"
          data-testid="keda-sparkline-depth"
        />
        <path
          d={replicas.path}
          fill="none"
          stroke={replicaColour}
          strokeWidth={2}
          vectorEffect="non-scaling-stroke"
          data-testid="keda-sparkline-replicas"
        />
      </svg>
      <figcaption className={classes.legend}>
        <Typography variant="caption">
          <span
            className={classes.swatch}
            style={{ borderColor: replicaColour }}
          />
          Replicas {range(replicas.min, replicas.max)}
        </Typography>
        <Typography variant="caption">
          <span
            className={`${classes.swatch} ${classes.dashed}`}
            style={{ borderColor: depthColour }}
          />
          Queue depth {range(depth.min, depth.max)}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {span}
        </Typography>
      </figcaption>
    </figure>
  );
}
