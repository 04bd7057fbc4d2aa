import { createFrontendPlugin } from '@backstage/frontend-plugin-api';
import ShowChartIcon from '@material-ui/icons/ShowChart';
import { kedaRequestsRouteRef, scaffolderTemplateRouteRef } from '../routes';
import { kedaApi, kedaRequestsPage, kedaScalingEntityCard } from './extensions';
import { kedaEntityContent } from './entityContent';
import { kedaRequestPickerField } from './kedaRequestPicker';
import {
  kedaClusterPickerField,
  kedaPlanPreviewField,
  kedaQueuePickerField,
} from './formFields';

/**
 * The KEDA plugin for the new frontend system.
 *
 * @alpha
 */
export const kedaFrontendPlugin = createFrontendPlugin({
  pluginId: 'keda',
  title: 'KEDA',
  icon: <ShowChartIcon />,
  info: { packageJson: () => import('../../package.json') },
  extensions: [
    kedaApi,
    kedaScalingEntityCard,
    kedaRequestsPage,
    kedaEntityContent,
    kedaRequestPickerField,
    kedaClusterPickerField,
    kedaQueuePickerField,
    kedaPlanPreviewField,
  ],
  routes: { requests: kedaRequestsRouteRef },
  externalRoutes: { scaffolderTemplate: scaffolderTemplateRouteRef },
});
