import { createExtensionTester } from '@backstage/frontend-test-utils';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import kedaPlugin from '../alpha';
import {
  kedaClusterPickerField,
  kedaPlanPreviewField,
  kedaQueuePickerField,
} from './formFields';

jest.setTimeout(90_000);

describe('the template form fields', () => {
  it.each([
    ['scaffolder-form-field:keda/cluster-picker', kedaClusterPickerField],
    ['scaffolder-form-field:keda/queue-picker', kedaQueuePickerField],
    ['scaffolder-form-field:keda/plan-preview', kedaPlanPreviewField],
  ])('%s loads a form field for the scaffolder', async (id, extension) => {
    const tester = createExtensionTester(
      extension as typeof kedaClusterPickerField,
    );
    const loader = tester.get(FormFieldBlueprint.dataRefs.formFieldLoader);
    const field = await loader();
    expect(field.$$type).toBe('@backstage/scaffolder/FormField');
    expect(kedaPlugin.getExtension(id as any)).toBeDefined();
  });
});
