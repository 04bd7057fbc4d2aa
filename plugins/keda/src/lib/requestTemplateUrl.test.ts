import { requestTemplateUrl } from './requestTemplateUrl';

describe('requestTemplateUrl', () => {
  it('points at the keda-sqs-autoscaling template in the default namespace', () => {
    expect(requestTemplateUrl('component:default/orders-worker')).toMatch(
      /^\/create\/templates\/default\/keda-sqs-autoscaling\?formData=/,
    );
  });

  it('encodes the entity ref as formData JSON the way the scaffolder reads it back', () => {
    const url = requestTemplateUrl('component:default/orders-worker');
    // useFormDataFromQuery (@backstage/plugin-scaffolder-react) percent-decodes
    // the `formData` parameter and JSON.parses it; URLSearchParams decodes alike.
    const formData = new URL(url, 'http://backstage.test').searchParams.get(
      'formData',
    );
    expect(JSON.parse(formData!)).toEqual({
      entityRef: 'component:default/orders-worker',
    });
    expect(url).toContain(
      'formData=%7B%22entityRef%22%3A%22component%3Adefault%2Forders-worker%22%7D',
    );
  });

  it('keeps characters that are special in URLs inside the JSON value', () => {
    const url = requestTemplateUrl('component:team&a/b#c');
    const formData = new URL(url, 'http://backstage.test').searchParams.get(
      'formData',
    );
    expect(JSON.parse(formData!).entityRef).toBe('component:team&a/b#c');
  });
});
