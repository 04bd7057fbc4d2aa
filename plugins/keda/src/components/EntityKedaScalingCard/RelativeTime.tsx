import Tooltip from '@material-ui/core/Tooltip';
import { formatAbsoluteTime, formatRelativeTime } from '../../lib/relativeTime';

/**
 * "4 minutes ago", with the absolute time on hover and focus (tooltip) and in
 * the `<time dateTime>` attribute for assistive technology.
 */
export function RelativeTime(props: {
  iso?: string;
  now: number;
  fallback?: string;
}) {
  const relative = formatRelativeTime(props.iso, props.now);
  const absolute = formatAbsoluteTime(props.iso);
  if (!relative || !absolute || !props.iso) {
    return <span>{props.fallback ?? 'never'}</span>;
  }
  return (
    <Tooltip title={absolute}>
      <time dateTime={props.iso} aria-label={`${relative} (${absolute})`}>
        {relative}
      </time>
    </Tooltip>
  );
}
