import {
  createTheme,
  ThemeProvider,
  type Theme,
} from '@material-ui/core/styles';
import BlockIcon from '@material-ui/icons/Block';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import ErrorIcon from '@material-ui/icons/Error';
import HourglassEmptyIcon from '@material-ui/icons/HourglassEmpty';
import PauseCircleFilledIcon from '@material-ui/icons/PauseCircleFilled';
import ReportProblemIcon from '@material-ui/icons/ReportProblem';
import SyncIcon from '@material-ui/icons/Sync';
import { render, screen } from '@testing-library/react';
import type { ScalingTone } from '../../lib/scalingHealth';
import {
  REQUEST_STATE_VIEWS,
  type RequestTone,
} from '../KedaRequestsPage/requestState';
import { StatusChip } from './StatusChip';
import { REQUEST_STATE_CHIP, SCALING_HEALTH_CHIP } from './statusKinds';

type Expected = {
  color: (theme: Theme) => string;
  icon: typeof CheckCircleIcon;
};

// What each tone looks like, written out here rather than read from the
// kinds, so a changed colour or icon fails the test.
const HEALTH: Record<ScalingTone, Expected> = {
  ok: { color: t => t.palette.success.main, icon: CheckCircleIcon },
  warning: { color: t => t.palette.warning.main, icon: ReportProblemIcon },
  error: { color: t => t.palette.error.main, icon: ErrorIcon },
  paused: { color: t => t.palette.text.secondary, icon: PauseCircleFilledIcon },
  progressing: { color: t => t.palette.info.main, icon: SyncIcon },
};

const REQUEST: Record<RequestTone, Expected> = {
  ok: { color: t => t.palette.success.main, icon: CheckCircleIcon },
  progressing: { color: t => t.palette.info.main, icon: SyncIcon },
  waiting: { color: t => t.palette.warning.main, icon: HourglassEmptyIcon },
  error: { color: t => t.palette.error.main, icon: ErrorIcon },
  closed: { color: t => t.palette.text.secondary, icon: BlockIcon },
};

const HEALTH_LABELS: Record<ScalingTone, string> = {
  ok: 'Active',
  warning: 'Fallback',
  error: 'Degraded',
  paused: 'Paused',
  progressing: 'Progressing',
};

const THEMES = [
  ['light', createTheme({ palette: { type: 'light' } })],
  ['dark', createTheme({ palette: { type: 'dark' } })],
] as const;

/** A colour as the browser reports it, e.g. `#f44336` as `rgb(244, 67, 54)`. */
function cssColor(color: string): string {
  const probe = document.createElement('span');
  probe.style.color = color;
  return probe.style.color;
}

/** The path an icon draws, to tell one icon from another. */
function iconPath(Icon: typeof CheckCircleIcon): string | null {
  const { container, unmount } = render(<Icon />);
  const d = container.querySelector('path')!.getAttribute('d');
  unmount();
  return d;
}

function expectLook(chip: HTMLElement, expected: Expected, theme: Theme) {
  const style = getComputedStyle(chip);
  expect(style.borderTopColor).toBe(cssColor(expected.color(theme)));
  // the word keeps the primary text colour for contrast in either theme
  expect(style.color).toBe(cssColor(theme.palette.text.primary));
  const icon = chip.querySelector('svg')!;
  expect(getComputedStyle(icon).color).toBe(cssColor(expected.color(theme)));
  expect(icon).toHaveAttribute('aria-hidden', 'true');
  expect(icon.querySelector('path')).toHaveAttribute(
    'd',
    iconPath(expected.icon),
  );
}

describe.each(THEMES)('StatusChip in the %s theme', (_name, theme) => {
  it.each(Object.keys(HEALTH) as ScalingTone[])(
    'shows the health tone %s as its word, colour and icon',
    tone => {
      render(
        <ThemeProvider theme={theme}>
          <StatusChip
            kind={SCALING_HEALTH_CHIP}
            status={{ label: HEALTH_LABELS[tone], tone }}
          />
        </ThemeProvider>,
      );
      const chip = screen.getByTestId('keda-health-badge');
      // the icon is hidden, so the label is all a screen reader reads
      expect(chip.textContent).toBe(HEALTH_LABELS[tone]);
      expect(chip).toHaveAttribute('data-tone', tone);
      expect(chip).not.toHaveAttribute('title');
      expectLook(chip, HEALTH[tone], theme);
    },
  );

  it.each(Object.entries(REQUEST_STATE_VIEWS))(
    'shows the request state %s as its word, colour, icon and description',
    (_state, view) => {
      render(
        <ThemeProvider theme={theme}>
          <StatusChip kind={REQUEST_STATE_CHIP} status={view} />
        </ThemeProvider>,
      );
      const chip = screen.getByTestId('keda-request-state');
      expect(chip.textContent).toBe(view.label);
      expect(chip).toHaveAttribute('data-tone', view.tone);
      expect(chip).toHaveAttribute('title', view.description);
      expect(chip).toHaveAccessibleDescription(view.description);
      expectLook(chip, REQUEST[view.tone], theme);
    },
  );
});

describe('StatusChip kinds', () => {
  it.each([
    ['health', SCALING_HEALTH_CHIP.tones],
    ['request', REQUEST_STATE_CHIP.tones],
  ] as const)(
    'gives every %s tone its own icon, so colour is never the only cue',
    (_kind, tones) => {
      const icons = Object.values(tones).map(t => t.icon);
      expect(new Set(icons).size).toBe(icons.length);
    },
  );
});
