import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import BlockIcon from '@material-ui/icons/Block';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import ErrorIcon from '@material-ui/icons/Error';
import HourglassEmptyIcon from '@material-ui/icons/HourglassEmpty';
import SyncIcon from '@material-ui/icons/Sync';
import { requestStateView, type RequestTone } from './requestState';

const useStyles = makeStyles(theme => ({
  chip: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    padding: theme.spacing(0.25, 1),
    borderRadius: theme.shape.borderRadius * 4,
    border: '1px solid',
    whiteSpace: 'nowrap',
    fontWeight: theme.typography.fontWeightBold as number,
    // As on the card's health badge: text in the primary colour for
    // contrast, border and icon carry the colour, the word the meaning.
    color: theme.palette.text.primary,
  },
  ok: {
    borderColor: theme.palette.success.main,
    '& svg': { color: theme.palette.success.main },
  },
  progressing: {
    borderColor: theme.palette.info.main,
    '& svg': { color: theme.palette.info.main },
  },
  waiting: {
    borderColor: theme.palette.warning.main,
    '& svg': { color: theme.palette.warning.main },
  },
  error: {
    borderColor: theme.palette.error.main,
    '& svg': { color: theme.palette.error.main },
  },
  closed: {
    borderColor: theme.palette.text.secondary,
    '& svg': { color: theme.palette.text.secondary },
  },
}));

const ICONS: Record<RequestTone, typeof CheckCircleIcon> = {
  ok: CheckCircleIcon,
  progressing: SyncIcon,
  waiting: HourglassEmptyIcon,
  error: ErrorIcon,
  closed: BlockIcon,
};

/** A request's state as text + icon + colour. */
export function RequestStateChip(props: { state: string }) {
  const classes = useStyles();
  const view = requestStateView(props.state);
  const Icon = ICONS[view.tone];
  return (
    <Typography
      component="span"
      variant="body2"
      className={`${classes.chip} ${classes[view.tone]}`}
      title={view.description}
      data-testid="keda-request-state"
      data-tone={view.tone}
    >
      <Icon fontSize="small" aria-hidden />
      {view.label}
    </Typography>
  );
}
