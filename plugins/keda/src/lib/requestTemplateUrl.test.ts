import {
  KEDA_AUTOSCALING_TEMPLATE,
  KEDA_DECOMMISSION_TEMPLATE,
} from '@keda-self-service/plugin-keda-common';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import {
  decommissionTemplateUrl,
  KEDA_REQUEST_TEMPLATE,
  requestTemplateUrl,
  templateRefFromConfig,
} from './requestTemplateUrl';

/** The `formData` the scaffolder's template page would read from a link. */
function formDataOf(url: string): Record<string, unknown> {
  // useFormDataFromQuery (@backstage/plugin-scaffolder-react) percent-decodes
  // the `formData` parameter and JSON.parses it; URLSearchParams decodes alike.
  const raw = new URL(url, 'http://backstage.test').searchParams.get(
    'formData',
  );
  return JSON.parse(raw!);
}

/** Every parameter property of a template in this repository's templates/. */
function templateParameterNames(templateName: string): string[] {
  const file = path.resolve(
    __dirname,
    '../../../../templates',
    templateName,
    'template.yaml',
  );
  const template = yaml.parse(fs.readFileSync(file, 'utf8'));
  const steps = ([] as Array<{ properties?: object }>).concat(
    template.spec.parameters,
  );
  return steps.flatMap(step => Object.keys(step.properties ?? {}));
}

describe('requestTemplateUrl', () => {
  it('points at the keda-sqs-autoscaling template in the default namespace', () => {
    expect(requestTemplateUrl('component:default/orders-worker')).toMatch(
      /^\/create\/templates\/default\/keda-sqs-autoscaling\?formData=/,
    );
  });

  it("pre-fills the template's component field with the entity ref", () => {
    const url = requestTemplateUrl('component:default/orders-worker');
    expect(formDataOf(url)).toEqual({
      component: 'component:default/orders-worker',
    });
    expect(url).toContain(
      'formData=%7B%22component%22%3A%22component%3Adefault%2Forders-worker%22%7D',
    );
  });

  it('keeps characters that are special in URLs inside the JSON value', () => {
    const url = requestTemplateUrl('component:team&a/b#c');
    expect(formDataOf(url).component).toBe('component:team&a/b#c');
  });

  it('uses the path the app resolved for the template', () => {
    expect(
      requestTemplateUrl('component:default/a', '/self-service/t/x'),
    ).toMatch(/^\/self-service\/t\/x\?formData=/);
  });
});

describe('decommissionTemplateUrl', () => {
  it('points at the keda-sqs-decommission template with component and request id', () => {
    const url = decommissionTemplateUrl({
      entityRef: 'component:default/orders-worker',
      requestId: 'req-0001',
    });
    expect(url).toMatch(
      /^\/create\/templates\/default\/keda-sqs-decommission\?formData=/,
    );
    expect(formDataOf(url)).toEqual({
      component: 'component:default/orders-worker',
      requestId: 'req-0001',
    });
  });

  it('leaves the request out when it is not known', () => {
    expect(
      formDataOf(
        decommissionTemplateUrl({
          entityRef: 'component:default/orders-worker',
        }),
      ),
    ).toEqual({ component: 'component:default/orders-worker' });
  });
});

// The links only pre-fill what the templates declare: a renamed parameter
// in templates/*.yaml fails here instead of silently emptying the form.
describe.each([
  {
    template: KEDA_AUTOSCALING_TEMPLATE,
    url: requestTemplateUrl('component:default/orders-worker'),
  },
  {
    template: KEDA_DECOMMISSION_TEMPLATE,
    url: decommissionTemplateUrl({
      entityRef: 'component:default/orders-worker',
      requestId: 'req-0001',
    }),
  },
])('the $template.templateName link', ({ template, url }) => {
  const declared = templateParameterNames(template.templateName);

  it('pre-fills only parameters the template YAML declares', () => {
    const keys = Object.keys(formDataOf(url));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter(key => !declared.includes(key))).toEqual([]);
  });

  it('names every field of the template constant as a declared parameter', () => {
    expect(
      Object.values(template.parameters).filter(
        name => !declared.includes(name),
      ),
    ).toEqual([]);
  });
});

describe('templateRefFromConfig', () => {
  const key = 'keda.frontend.templates.autoscaling';

  it('keeps the repository template when nothing is configured', () => {
    expect(templateRefFromConfig(undefined, key, KEDA_REQUEST_TEMPLATE)).toBe(
      KEDA_REQUEST_TEMPLATE,
    );
  });

  it('reads a template ref, kind and namespace optional', () => {
    expect(
      templateRefFromConfig(
        'template:platform/keda-sqs',
        key,
        KEDA_REQUEST_TEMPLATE,
      ),
    ).toEqual({ namespace: 'platform', templateName: 'keda-sqs' });
    expect(
      templateRefFromConfig('my-keda', key, KEDA_REQUEST_TEMPLATE),
    ).toEqual({ namespace: 'default', templateName: 'my-keda' });
  });

  it('names the key for anything but a template ref', () => {
    expect(() =>
      templateRefFromConfig('component:default/x', key, KEDA_REQUEST_TEMPLATE),
    ).toThrow(
      'keda.frontend.templates.autoscaling: "component:default/x" is a component, not a template; use e.g. template:default/keda-sqs-autoscaling',
    );
    expect(() => templateRefFromConfig('', key, KEDA_REQUEST_TEMPLATE)).toThrow(
      /^keda\.frontend\.templates\.autoscaling: "" is not an entity ref/,
    );
  });
});
