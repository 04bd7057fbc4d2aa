import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { fireEvent, screen, within } from '@testing-library/react';
import {
  billingQueue,
  ORDERS_QUEUE_URL,
  ordersDb,
  ordersQueue,
  ordersWorker,
  recordingValidation,
  renderField,
} from '../common/__testUtils__/fieldHarness';
import {
  componentQueues,
  KedaQueuePicker,
  kedaQueuePickerValidation,
} from './KedaQueuePicker';

jest.setTimeout(90_000);

const FORM = { component: 'component:default/orders-worker' };

describe('KedaQueuePicker', () => {
  it("offers the component's SQS queues from the catalog and sets the picked URL", async () => {
    const { onChange } = await renderField(KedaQueuePicker, {
      field: 'queueUrl',
      formData: FORM,
      schema: { title: 'SQS queue URL' },
    });
    expect(
      await screen.findByText(
        'Pick one of the 1 queue the component depends on, or paste a URL',
      ),
    ).toBeInTheDocument();
    const input = screen.getByRole('textbox', { name: /SQS queue URL/ });
    fireEvent.mouseDown(input);
    fireEvent.focus(input);
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    const listbox = await screen.findByRole('listbox');
    // The queue the component depends on; not its database, nor another
    // component's queue.
    expect(within(listbox).getAllByRole('option')).toHaveLength(1);
    expect(within(listbox).getByText('orders-queue')).toBeInTheDocument();
    fireEvent.click(within(listbox).getByText(ORDERS_QUEUE_URL));
    expect(onChange).toHaveBeenLastCalledWith(ORDERS_QUEUE_URL);
    expect(
      await screen.findByText(
        'orders-queue: queue orders-queue in account 222222222222, region eu-west-1',
      ),
    ).toBeInTheDocument();
  });

  it('says what is wrong with a typed URL as the person types, in the parser’s words', async () => {
    const { onChange } = await renderField(KedaQueuePicker, {
      field: 'queueUrl',
      formData: FORM,
      schema: { title: 'SQS queue URL' },
    });
    const input = await screen.findByRole('textbox', { name: /SQS queue URL/ });
    fireEvent.change(input, {
      target: {
        value: 'https://sqs.eu-west-1.amazonaws.com/2222/orders-queue',
      },
    });
    expect(onChange).toHaveBeenLastCalledWith(
      'https://sqs.eu-west-1.amazonaws.com/2222/orders-queue',
    );
    const error = await screen.findByText(
      '"2222" in the queue URL path is not a 12-digit AWS account id',
    );
    expect(error).toHaveClass('Mui-error');

    fireEvent.change(input, {
      target: {
        value: 'https://sqs.us-east-2.amazonaws.com/333333333333/other',
      },
    });
    expect(
      await screen.findByText(
        'queue other in account 333333333333, region us-east-2',
      ),
    ).not.toHaveClass('Mui-error');
  });

  it('offers nothing before a component is chosen, and typing still works', async () => {
    const { onChange } = await renderField(KedaQueuePicker, {
      field: 'queueUrl',
      schema: { title: 'SQS queue URL' },
    });
    const input = await screen.findByRole('textbox', { name: /SQS queue URL/ });
    expect(screen.queryByText(/Pick one of/)).not.toBeInTheDocument();
    fireEvent.change(input, { target: { value: ORDERS_QUEUE_URL } });
    expect(onChange).toHaveBeenLastCalledWith(ORDERS_QUEUE_URL);
  });
});

describe('componentQueues', () => {
  it('reads the URL from the annotation first, then from a description that is a queue URL', async () => {
    const catalog = catalogApiMock({
      entities: [
        {
          ...ordersWorker,
          relations: [
            { type: 'dependsOn', targetRef: 'resource:default/orders-queue' },
            { type: 'dependsOn', targetRef: 'resource:default/billing-queue' },
            { type: 'dependsOn', targetRef: 'resource:default/orders-db' },
            { type: 'dependsOn', targetRef: 'resource:default/missing' },
          ],
        },
        ordersQueue,
        billingQueue,
        ordersDb,
      ],
    });
    expect(
      await componentQueues(catalog, 'component:default/orders-worker'),
    ).toEqual([
      {
        entityRef: 'resource:default/orders-queue',
        title: 'orders-queue',
        url: ORDERS_QUEUE_URL,
      },
      {
        entityRef: 'resource:default/billing-queue',
        title: 'billing-queue',
        url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/billing-queue',
      },
    ]);
  });

  it('is empty for a component that is not in the catalog', async () => {
    const catalog = catalogApiMock({ entities: [] });
    expect(
      await componentQueues(catalog, 'component:default/orders-worker'),
    ).toEqual([]);
  });
});

describe('kedaQueuePickerValidation', () => {
  it('adds the parser’s message for a malformed URL, naming the field', () => {
    const { errors, validation } = recordingValidation();
    kedaQueuePickerValidation(
      'http://sqs.eu-west-1.amazonaws.com/222222222222/q',
      validation,
      {
        apiHolder: { get: () => undefined },
        formData: {},
        schema: {},
      },
    );
    expect(errors).toEqual([
      'queueUrl: Queue URL must use https, got "http"; expected the form https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    ]);
  });

  it('accepts every host form the parser accepts', () => {
    for (const url of [
      ORDERS_QUEUE_URL,
      'https://sqs.cn-north-1.amazonaws.com.cn/222222222222/orders',
      'https://vpce-1a2b.sqs.eu-west-1.vpce.amazonaws.com/222222222222/orders.fifo',
    ]) {
      const { errors, validation } = recordingValidation();
      kedaQueuePickerValidation(url, validation, {
        apiHolder: { get: () => undefined },
        formData: {},
        schema: {},
      });
      expect([url, errors]).toEqual([url, []]);
    }
  });
});
