import {
  AwsError,
  QueryParams,
  queryErrorResponse,
  queryResponse,
  xmlElement,
} from './wire';

describe('QueryParams', () => {
  const params = QueryParams.fromBody(
    'Action=CreateRole&RoleName=orders-scaler&Tags.member.2.Key=env&Tags.member.2.Value=dev&Tags.member.1.Key=team&Tags.member.1.Value=a%26b' +
      '&ContextEntries.member.1.ContextKeyName=aws%3ASourceVpc&ContextEntries.member.1.ContextKeyValues.member.1=vpc-1' +
      '&ClientIDList.member.1=sts.amazonaws.com&ClientIDList.member.10=late&MaxItems=2',
  );

  it('reads scalars, lists in index order and nested structures', () => {
    expect(params.action).toBe('CreateRole');
    expect(params.required('RoleName')).toBe('orders-scaler');
    expect(params.list('ClientIDList')).toEqual(['sts.amazonaws.com', 'late']);
    expect(
      params
        .structList('Tags')
        .map(t => [t.required('Key'), t.optional('Value')]),
    ).toEqual([
      ['team', 'a&b'],
      ['env', 'dev'],
    ]);
    const [entry] = params.structList('ContextEntries');
    expect(entry.required('ContextKeyName')).toBe('aws:SourceVpc');
    expect(entry.list('ContextKeyValues')).toEqual(['vpc-1']);
    expect(params.optionalInt('MaxItems')).toBe(2);
  });

  it('names the missing parameter like AWS validation', () => {
    expect(() => params.required('AssumeRolePolicyDocument')).toThrow(
      "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null",
    );
  });

  it('rejects a non-integer where an integer is expected', () => {
    expect(() =>
      QueryParams.fromBody('MaxItems=ten').optionalInt('MaxItems'),
    ).toThrow(/must be an integer/);
  });
});

describe('awsQuery XML', () => {
  it('wraps results, renders lists as members and escapes text', () => {
    expect(
      queryResponse(
        'ListRoleTags',
        'urn:ns',
        { Tags: [{ Key: 'a<b', Value: '"x" & y' }], IsTruncated: false },
        'req-1',
      ),
    ).toBe(
      '<ListRoleTagsResponse xmlns="urn:ns"><ListRoleTagsResult><Tags><member><Key>a&lt;b</Key>' +
        '<Value>&quot;x&quot; &amp; y</Value></member></Tags><IsTruncated>false</IsTruncated></ListRoleTagsResult>' +
        '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListRoleTagsResponse>',
    );
  });

  it('omits undefined fields and the Result element of result-less operations', () => {
    expect(xmlElement('Role', { RoleName: 'r', Description: undefined })).toBe(
      '<Role><RoleName>r</RoleName></Role>',
    );
    expect(
      queryResponse('DeleteRole', 'urn:ns', undefined, 'req-2'),
    ).not.toContain('DeleteRoleResult');
  });

  it('renders errors with type, code and message', () => {
    const xml = queryErrorResponse(
      new AwsError('NoSuchEntity', 'The role with name x cannot be found.', {
        status: 404,
      }),
      'urn:ns',
      'r',
    );
    expect(xml).toContain(
      '<Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name x cannot be found.</Message></Error>',
    );
    expect(new AwsError('InternalFailure', 'boom', { status: 500 }).fault).toBe(
      'Receiver',
    );
  });
});
