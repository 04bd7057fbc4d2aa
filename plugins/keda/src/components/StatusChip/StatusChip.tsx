import { makeStyles } from '@material-ui/core/styles';
import type { SvgIconProps } from '@material-ui/core/SvgIcon';
import Typography from '@material-ui/core/Typography';
import type { ComponentType } from 'react';

/**
 * Theme colour of a chip's border and icon. `neutral` is the secondary text
 * colour: for states that are over or on hold rather than good or bad.
 */
export type StatusColor = 'success' | 'info' | 'warning' | 'error' | 'neutral';

/** How one tone of a status family looks: its colour and its icon. */
export interface StatusToneStyle {
  color: StatusColor;
  icon: ComponentType<SvgIconProps>;
}

/**
 * A family of statuses shown as chips (a ScaledObject's health, a request's
 * state): the look of each of its tones and the chip's test id.
 */
export interface StatusChipKind<Tone extends string> {
  testId: string;
  tones: Readonly<Record<Tone, StatusToneStyle>>;
}

/** What one status says: the word, its tone and, optionally, one sentence. */
export interface StatusView<Tone extends string> {
  label: string;
  tone: Tone;
  /** shown as the chip's tooltip */
  description?: string;
}

function colored(color: string) {
  return { borderColor: color, '& svg': { color } };
}

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
    // Text stays in the primary text colour for contrast in both themes;
    // the border and icon carry the colour, the word carries the meaning.
    color: theme.palette.text.primary,
  },
  success: colored(theme.palette.success.main),
  info: colored(theme.palette.info.main),
  warning: colored(theme.palette.warning.main),
  error: colored(theme.palette.error.main),
  neutral: colored(theme.palette.text.secondary),
}));

/** A status as text + icon + colour; the icon is hidden from screen readers. */
export function StatusChip<Tone extends string>(props: {
  kind: StatusChipKind<Tone>;
  status: StatusView<Tone>;
}) {
  const classes = useStyles();
  const { label, tone, description } = props.status;
  const { color, icon: Icon } = props.kind.tones[tone];
  return (
    <Typography
      component="span"
      variant="body2"
      className={`${classes.chip} ${classes[color]}`}
      title={description}
      data-testid={props.kind.testId}
      data-tone={tone}
    >
      <Icon fontSize="small" aria-hidden />
      {label}
    </Typography>
  );
}
