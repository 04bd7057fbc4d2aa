import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  emptyAccount,
  emptyState,
  loadState,
  parseArn,
  queueUrl,
  rootCredentialsFor,
  saveState,
} from './state';

describe('state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('treats a missing file as an empty world', () => {
    expect(loadState(path.join(dir, 'none.json'))).toEqual(emptyState());
    expect(loadState(undefined)).toEqual(emptyState());
  });

  it('round-trips through an atomic write that leaves no temp files', () => {
    const file = path.join(dir, 'sub', 'aws.json');
    const state = emptyState();
    state.accounts['111111111111'] = emptyAccount('111111111111', 'cluster');
    saveState(file, state);
    saveState(file, state);
    expect(loadState(file)).toEqual(state);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['aws.json']);
  });
});

describe('ARN and URL helpers', () => {
  it('parses ARNs whose resource contains colons and slashes', () => {
    expect(
      parseArn('arn:aws:sts::222222222222:assumed-role/orders-scaler/KEDA'),
    ).toEqual({
      partition: 'aws',
      service: 'sts',
      region: '',
      account: '222222222222',
      resource: 'assumed-role/orders-scaler/KEDA',
    });
    expect(parseArn('arn:aws:logs:eu-west-1:1:log-group:a:b')?.resource).toBe(
      'log-group:a:b',
    );
    expect(parseArn('not-an-arn')).toBeUndefined();
  });

  it('builds canonical queue URLs and deterministic root keys', () => {
    expect(queueUrl('eu-west-1', '222222222222', 'orders.fifo')).toBe(
      'https://sqs.eu-west-1.amazonaws.com/222222222222/orders.fifo',
    );
    expect(rootCredentialsFor('111111111111')).toEqual({
      accessKeyId: 'AKIA111111111111ROOT',
      secretAccessKey: 'sandbox-root-secret-111111111111',
    });
  });
});
