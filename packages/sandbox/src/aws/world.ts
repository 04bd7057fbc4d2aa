/*
 * The stand-in's domain model over the persisted state: who a caller is,
 * which policies apply to them, and the authorisation check every operation
 * runs before it acts. Services (iam.ts, sts.ts, sqs.ts, eks.ts) only talk
 * to this class, never to the raw JSON.
 */
import {
  mapPrincipals,
  MalformedPolicyError,
  parsePolicyDocument,
  PolicyDocument,
} from './policyDocument';
import {
  evaluatePolicies,
  EvaluationResult,
  NamedPolicy,
  RequestContext,
  RequestPrincipal,
} from './policyEvaluator';
import {
  AccessKeyRecord,
  AccountRecord,
  emptyAccount,
  emptyState,
  ManagedPolicyRecord,
  newLongTermKeyId,
  newPolicyId,
  newSecret,
  newUserId,
  parseArn,
  RoleRecord,
  rootArn,
  rootCredentialsFor,
  saveState,
  sessionArn,
  StateData,
  UserRecord,
  userArn,
} from './state';
import { AwsError } from './wire';

/** The authenticated identity behind a request. */
export interface Caller {
  key: AccessKeyRecord;
  principal: RequestPrincipal;
  accountId: string;
  /** `UserId` as GetCallerIdentity reports it. */
  userId: string;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** AWS-managed policies the stand-in knows, so seeds can attach them by ARN. */
const AWS_MANAGED_POLICIES: Record<string, PolicyDocument> = {
  'arn:aws:iam::aws:policy/AdministratorAccess': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  },
  'arn:aws:iam::aws:policy/ReadOnlyAccess': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'iam:Get*',
          'iam:List*',
          'sqs:Get*',
          'sqs:List*',
          'eks:Describe*',
          'eks:List*',
        ],
        Resource: '*',
      },
    ],
  },
};

/** Values of aws:PrincipalType. */
const PRINCIPAL_TYPE: Partial<Record<RequestPrincipal['kind'], string>> = {
  root: 'Account',
  user: 'User',
  'assumed-role': 'AssumedRole',
};

export class AwsWorld {
  data: StateData;

  constructor(
    data: StateData,
    private readonly stateFile: string | undefined,
    readonly clock: () => number,
  ) {
    this.data = data;
  }

  now(): Date {
    return new Date(this.clock());
  }

  private flushScheduled = false;

  /**
   * Persist after a mutation (no-op without a state file). Writes are
   * coalesced to one per event-loop turn, so a burst of SendMessage calls
   * does not rewrite the file once per message; close() flushes.
   */
  persist(): void {
    if (!this.stateFile || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Write the state file now if a change is pending. */
  flush(): void {
    if (!this.stateFile || !this.flushScheduled) return;
    this.flushScheduled = false;
    saveState(this.stateFile, this.data);
  }

  reset(): void {
    this.data = emptyState();
    this.persist();
    this.flush();
  }

  // ---------------------------------------------------------------- accounts

  createAccount(id: string, opts: { alias?: string } = {}): Credentials {
    if (!/^\d{12}$/.test(id)) {
      throw new Error(`AWS account id must be 12 digits, got "${id}"`);
    }
    if (!this.data.accounts[id])
      this.data.accounts[id] = emptyAccount(id, opts.alias);
    const root = rootCredentialsFor(id);
    this.data.accessKeys[root.accessKeyId] = {
      ...root,
      kind: 'root',
      accountId: id,
      principalArn: rootArn(id),
    };
    this.persist();
    return root;
  }

  account(id: string): AccountRecord | undefined {
    return this.data.accounts[id];
  }

  /** The caller's own account (IAM/SQS/EKS calls always act on it). */
  requireAccount(id: string): AccountRecord {
    const account = this.data.accounts[id];
    if (!account)
      throw new Error(
        `AWS stand-in has no account ${id}; create it with createAccount("${id}") first`,
      );
    return account;
  }

  createUser(
    accountId: string,
    userName: string,
    opts: {
      path?: string;
      inlinePolicies?: Record<string, PolicyDocument>;
      attachedPolicyArns?: string[];
    } = {},
  ): UserRecord {
    const account = this.requireAccount(accountId);
    const userPath = opts.path ?? '/';
    const existing = account.users[userName.toLowerCase()];
    const user: UserRecord = existing ?? {
      userName,
      path: userPath,
      userId: newUserId(),
      arn: userArn(accountId, userPath, userName),
      createDate: this.now().toISOString(),
      inlinePolicies: {},
      attachedPolicyArns: [],
    };
    for (const [name, doc] of Object.entries(opts.inlinePolicies ?? {})) {
      user.inlinePolicies[name] = JSON.stringify(doc);
    }
    for (const arn of opts.attachedPolicyArns ?? []) {
      if (!user.attachedPolicyArns.includes(arn))
        user.attachedPolicyArns.push(arn);
    }
    account.users[userName.toLowerCase()] = user;
    this.persist();
    return user;
  }

  createManagedPolicy(
    accountId: string,
    policyName: string,
    document: PolicyDocument,
    policyPath = '/',
  ): ManagedPolicyRecord {
    const account = this.requireAccount(accountId);
    const arn = `arn:aws:iam::${accountId}:policy${policyPath}${policyName}`;
    const record: ManagedPolicyRecord = {
      policyName,
      path: policyPath,
      policyId: newPolicyId(),
      arn,
      document: JSON.stringify(document),
      createDate: this.now().toISOString(),
    };
    account.policies[arn] = record;
    this.persist();
    return record;
  }

  /**
   * Issue a long-lived key for root, a user or (for seeding) a role — the
   * latter becomes a non-expiring session `assumed-role/<role>/sandbox`.
   */
  createAccessKey(
    principalArn: string,
    accessKeyId?: string,
    secretAccessKey?: string,
  ): Credentials {
    const arn = parseArn(principalArn);
    if (!arn || arn.service !== 'iam') {
      throw new Error(
        `createAccessKey needs a root, user or role ARN, got "${principalArn}"`,
      );
    }
    const account = this.requireAccount(arn.account);
    const secret = secretAccessKey ?? newSecret();
    let record: AccessKeyRecord;
    if (arn.resource === 'root') {
      record = {
        accessKeyId: accessKeyId ?? newLongTermKeyId(),
        secretAccessKey: secret,
        kind: 'root',
        accountId: account.id,
        principalArn,
      };
    } else if (arn.resource.startsWith('user/')) {
      const name = arn.resource.split('/').pop()!;
      const user = account.users[name.toLowerCase()];
      if (!user)
        throw new Error(
          `No IAM user ${name} in account ${account.id}; create it with createUser first`,
        );
      record = {
        accessKeyId: accessKeyId ?? newLongTermKeyId(),
        secretAccessKey: secret,
        kind: 'user',
        accountId: account.id,
        principalArn: user.arn,
        userName: user.userName,
      };
    } else if (arn.resource.startsWith('role/')) {
      const name = arn.resource.split('/').pop()!;
      const role = account.roles[name.toLowerCase()];
      if (!role)
        throw new Error(
          `No IAM role ${name} in account ${account.id}; create it first`,
        );
      record = {
        accessKeyId: accessKeyId ?? `ASIA${newLongTermKeyId().slice(4)}`,
        secretAccessKey: secret,
        kind: 'assumed-role',
        accountId: account.id,
        principalArn: sessionArn(account.id, role.roleName, 'sandbox'),
        roleName: role.roleName,
        roleId: role.roleId,
        sessionName: 'sandbox',
      };
    } else {
      throw new Error(
        `createAccessKey needs a root, user or role ARN, got "${principalArn}"`,
      );
    }
    this.data.accessKeys[record.accessKeyId] = record;
    this.persist();
    return {
      accessKeyId: record.accessKeyId,
      secretAccessKey: record.secretAccessKey,
    };
  }

  // ----------------------------------------------------------------- callers

  /** Map an access key (+ session token) to a caller, failing like STS does. */
  resolveCaller(accessKeyId: string, sessionToken: string | undefined): Caller {
    const key = this.data.accessKeys[accessKeyId];
    const invalid = () =>
      new AwsError(
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
        { status: 403 },
      );
    if (!key) throw invalid();
    if (key.sessionToken !== undefined && key.sessionToken !== sessionToken)
      throw invalid();
    if (key.expiration && Date.parse(key.expiration) <= this.clock()) {
      throw new AwsError(
        'ExpiredToken',
        'The security token included in the request is expired',
        { status: 403 },
      );
    }
    const account = this.data.accounts[key.accountId];
    if (!account) throw invalid();
    if (key.kind === 'root') {
      return {
        key,
        accountId: account.id,
        userId: account.id,
        principal: {
          kind: 'root',
          arn: key.principalArn,
          accountId: account.id,
        },
      };
    }
    if (key.kind === 'user') {
      const user = account.users[key.userName!.toLowerCase()];
      if (!user || user.arn !== key.principalArn) throw invalid();
      return {
        key,
        accountId: account.id,
        userId: user.userId,
        principal: {
          kind: 'user',
          arn: user.arn,
          accountId: account.id,
          uniqueId: user.userId,
        },
      };
    }
    const role = account.roles[key.roleName!.toLowerCase()];
    return {
      key,
      accountId: account.id,
      userId: `${key.roleId}:${key.sessionName}`,
      principal: {
        kind: 'assumed-role',
        arn: key.principalArn,
        accountId: account.id,
        roleArn:
          role && role.roleId === key.roleId
            ? role.arn
            : `arn:aws:iam::${account.id}:role/${key.roleName}`,
        uniqueId: key.roleId,
      },
    };
  }

  /** The role a session belongs to, if that incarnation still exists. */
  sessionRole(caller: Caller): RoleRecord | undefined {
    if (caller.key.kind !== 'assumed-role') return undefined;
    const role =
      this.data.accounts[caller.accountId]?.roles[
        caller.key.roleName!.toLowerCase()
      ];
    return role && role.roleId === caller.key.roleId ? role : undefined;
  }

  managedPolicy(arn: string): PolicyDocument | undefined {
    if (AWS_MANAGED_POLICIES[arn]) return AWS_MANAGED_POLICIES[arn];
    const account = parseArn(arn)?.account;
    const record = account
      ? this.data.accounts[account]?.policies[arn]
      : undefined;
    return record ? (JSON.parse(record.document) as PolicyDocument) : undefined;
  }

  identityPolicies(caller: Caller): {
    identity: NamedPolicy[];
    boundary?: NamedPolicy;
  } {
    const collect = (
      owner: string,
      inline: Record<string, string>,
      attached: string[],
      boundaryArn?: string,
    ) => {
      const identity: NamedPolicy[] = [
        ...Object.entries(inline).map(([name, doc]) => ({
          name: `inline policy ${name} of ${owner}`,
          document: JSON.parse(doc) as PolicyDocument,
        })),
        ...attached.flatMap(arn => {
          const document = this.managedPolicy(arn);
          return document ? [{ name: arn, document }] : [];
        }),
      ];
      const boundaryDoc = boundaryArn
        ? this.managedPolicy(boundaryArn)
        : undefined;
      // A boundary that names a missing policy allows nothing, rather than everything.
      const boundary = boundaryArn
        ? {
            name: `permissions boundary ${boundaryArn}`,
            document: boundaryDoc ?? { Statement: [] },
          }
        : undefined;
      return { identity, boundary };
    };
    if (caller.key.kind === 'user') {
      const user =
        this.data.accounts[caller.accountId].users[
          caller.key.userName!.toLowerCase()
        ];
      return collect(user.arn, user.inlinePolicies, user.attachedPolicyArns);
    }
    if (caller.key.kind === 'assumed-role') {
      const role = this.sessionRole(caller);
      if (!role) return { identity: [] };
      return collect(
        role.arn,
        role.inlinePolicies,
        role.attachedPolicyArns,
        role.permissionsBoundaryArn,
      );
    }
    return { identity: [] };
  }

  /** Global condition keys AWS sets for every request of this caller. */
  baseContext(caller: Caller, region: string): RequestContext {
    const p = caller.principal;
    const ctx: RequestContext = {
      'aws:PrincipalAccount': caller.accountId,
      'aws:PrincipalArn': p.kind === 'assumed-role' ? p.roleArn! : p.arn,
      'aws:userid': caller.userId,
      'aws:PrincipalType': PRINCIPAL_TYPE[p.kind] ?? 'AssumedRole',
      'aws:SecureTransport': 'false',
      'aws:RequestedRegion': region,
      'aws:CurrentTime': this.now().toISOString(),
    };
    if (caller.key.kind === 'user') ctx['aws:username'] = caller.key.userName!;
    // Role tags, overridden by session tags, are the session's principal tags.
    const principalTags: Record<string, string> = {};
    for (const t of this.sessionRole(caller)?.tags ?? [])
      principalTags[t.Key] = t.Value;
    Object.assign(principalTags, caller.key.sessionTags);
    for (const [k, v] of Object.entries(principalTags))
      ctx[`aws:PrincipalTag/${k}`] = v;
    return ctx;
  }

  /**
   * Authorise `action` on `resource` for the caller, throwing AccessDenied
   * worded like AWS ("User: <arn> is not authorized to perform: <action> on
   * resource: <arn> because …").
   */
  authorize(
    caller: Caller,
    action: string,
    resource: string,
    opts: {
      region: string;
      resourceAccountId: string;
      resourcePolicy?: NamedPolicy;
      context?: RequestContext;
      errorCode?: string;
    },
  ): EvaluationResult {
    const { identity, boundary } = this.identityPolicies(caller);
    const result = evaluatePolicies({
      principal: caller.principal,
      action,
      resource,
      resourceAccountId: opts.resourceAccountId,
      identityPolicies: identity,
      permissionsBoundary: boundary,
      resourcePolicy: opts.resourcePolicy,
      context: {
        ...this.baseContext(caller, opts.region),
        'aws:ResourceAccount': opts.resourceAccountId,
        ...opts.context,
      },
    });
    if (result.decision !== 'allowed') {
      throw new AwsError(
        opts.errorCode ?? 'AccessDenied',
        `User: ${caller.principal.arn} is not authorized to perform: ${action} on resource: ${resource} ${result.reason}`,
        { status: 403 },
      );
    }
    return result;
  }

  // ------------------------------------------------------- trust principals

  /** Find an IAM user or role by unique id anywhere in the stand-in. */
  entityByUniqueId(id: string): { arn: string } | undefined {
    for (const account of Object.values(this.data.accounts)) {
      for (const role of Object.values(account.roles))
        if (role.roleId === id) return role;
      for (const user of Object.values(account.users))
        if (user.userId === id) return user;
    }
    return undefined;
  }

  /**
   * Validate a trust policy and convert role/user principals to unique ids,
   * as IAM does on save (domain-keda-iam.md, IAM trap 1): a principal that
   * does not exist is "Invalid principal in policy".
   */
  storeTrustPolicy(text: string): string {
    const doc = parsePolicyDocument(text, 'trust');
    const stored = mapPrincipals(doc, 'AWS', value => {
      if (
        value === '*' ||
        /^\d{12}$/.test(value) ||
        /^(AROA|AIDA)[A-Z0-9]+$/.test(value)
      )
        return value;
      const arn = parseArn(value);
      const invalid = new MalformedPolicyError(
        `Invalid principal in policy: "AWS":"${value}"`,
      );
      if (!arn || arn.service === 'sts') {
        if (arn && /^assumed-role\/[^/]+\/[^/]+$/.test(arn.resource))
          return value;
        throw invalid;
      }
      if (arn.service !== 'iam' || !/^\d{12}$/.test(arn.account)) throw invalid;
      if (arn.resource === 'root') return value;
      const account = this.data.accounts[arn.account];
      const kind = arn.resource.split('/')[0];
      const name = arn.resource.split('/').pop()!.toLowerCase();
      let entity: RoleRecord | UserRecord | undefined;
      if (kind === 'role') entity = account?.roles[name];
      else if (kind === 'user') entity = account?.users[name];
      if (!entity || entity.arn !== value) throw invalid;
      return 'roleId' in entity ? entity.roleId : entity.userId;
    });
    return JSON.stringify(stored);
  }

  /** Render a stored trust policy: ids of entities that still exist become ARNs again. */
  renderTrustPolicy(stored: string): string {
    const doc = JSON.parse(stored) as PolicyDocument;
    return JSON.stringify(
      mapPrincipals(doc, 'AWS', value =>
        /^(AROA|AIDA)[A-Z0-9]+$/.test(value)
          ? this.entityByUniqueId(value)?.arn ?? value
          : value,
      ),
    );
  }
}
