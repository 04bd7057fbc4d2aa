import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import ErrorIcon from '@material-ui/icons/Error';
import PauseCircleFilledIcon from '@material-ui/icons/PauseCircleFilled';
import ReportProblemIcon from '@material-ui/icons/ReportProblem';
import SyncIcon from '@material-ui/icons/Sync';
import type { ScalingHealthView, ScalingTone } from '../../lib/scalingHealth';

const useStyles = makeStyles(theme => ({
  badge: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    padding: theme.spacing(0.25, 1),
    borderRadius: theme.shape.borderRadius * 4,
    border: '1px solid',
    fontWeight: theme.typography.fontWeightBold as number,
    // Text stays in the primary text colour for contrast in both themes;
    // the border and icon carry the colour, the word carries the meaning.
    color: theme.palette.text.primary,
  },
  ok: {
    borderColor: theme.palette.success.main,
    '& svg': { color: theme.palette.success.main },
  },
  warning: {
    borderColor: theme.palette.warning.main,
    '& svg': { color: theme.palette.warning.main },
  },
  error: {
    borderColor: theme.palette.error.main,
    '& svg': { color: theme.palette.error.main },
  },
  paused: {
    borderColor: theme.palette.text.secondary,
    '& svg': { color: theme.palette.text.secondary },
  },
  progressing: {
    borderColor: theme.palette.info.main,
    '& svg': { color: theme.palette.info.main },
  },
}));

const ICONS: Record<ScalingTone, typeof CheckCircleIcon> = {
  ok: CheckCircleIcon,
  warning: ReportProblemIcon,
  error: ErrorIcon,
  paused: PauseCircleFilledIcon,
  progressing: SyncIcon,
};

/** Health of a ScaledObject as text + colour + icon. */
export function HealthBadge(props: { health: ScalingHealthView }) {
  const classes = useStyles();
  const { label, tone } = props.health;
  const Icon = ICONS[tone];
  return (
    <Typography
      component="span"
      variant="body2"
      className={`${classes.badge} ${classes[tone]}`}
      data-testid="keda-health-badge"
      data-tone={tone}
    >
      <Icon fontSize="small" aria-hidden />
      {label}
    </Typography>
  );
}
