import BlockIcon from '@material-ui/icons/Block';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import ErrorIcon from '@material-ui/icons/Error';
import HourglassEmptyIcon from '@material-ui/icons/HourglassEmpty';
import PauseCircleFilledIcon from '@material-ui/icons/PauseCircleFilled';
import ReportProblemIcon from '@material-ui/icons/ReportProblem';
import SyncIcon from '@material-ui/icons/Sync';
import type { ScalingTone } from '../../lib/scalingHealth';
import type { RequestTone } from '../KedaRequestsPage/requestState';
import type { StatusChipKind } from './StatusChip';

/** The health badge of a ScaledObject on the entity card and tab. */
export const SCALING_HEALTH_CHIP: StatusChipKind<ScalingTone> = {
  testId: 'keda-health-badge',
  tones: {
    ok: { color: 'success', icon: CheckCircleIcon },
    warning: { color: 'warning', icon: ReportProblemIcon },
    error: { color: 'error', icon: ErrorIcon },
    paused: { color: 'neutral', icon: PauseCircleFilledIcon },
    progressing: { color: 'info', icon: SyncIcon },
  },
};

/** The state of a KEDA request in the request lists and detail view. */
export const REQUEST_STATE_CHIP: StatusChipKind<RequestTone> = {
  testId: 'keda-request-state',
  tones: {
    ok: { color: 'success', icon: CheckCircleIcon },
    progressing: { color: 'info', icon: SyncIcon },
    waiting: { color: 'warning', icon: HourglassEmptyIcon },
    error: { color: 'error', icon: ErrorIcon },
    closed: { color: 'neutral', icon: BlockIcon },
  },
};
