/**
 * Stand-ins for the globals SST gives `sst.config.ts` (`$config`, `$app`, `sst.*`, `aws.*`, ...):
 * each component records its kind, name and arguments (and calls such as `notify` and
 * `subscribe`) into a model, and answers the properties the config reads (`name`, `arn`,
 * `url`) with values derived, as SST's are, from the app, the stage and the component's name.
 * Nothing reaches AWS or Pulumi; `evaluateStage` runs `app()` and `run()` for one stage.
 */

/** Anything the config created or called, in order. */
export interface Recorded {
  /** `sst.aws.Bucket`, `aws.s3.BucketLifecycleConfiguration`, `sst.aws.Bucket.notify`, ... */
  kind: string;
  /** The name the config gave it (SST's logical name). */
  name: string;
  /** The arguments exactly as the config passed them. */
  // biome-ignore lint/suspicious/noExplicitAny: arbitrary SST arguments, inspected by the checks
  args: any;
  /** The physical name SST would derive from app, stage and name. */
  physicalName: string;
  /** The stand-in object the config got back. */
  ref: object;
}

export interface AppConfig {
  name: string;
  home: string;
  removal?: string;
  protect?: boolean;
  [key: string]: unknown;
}

export interface Model {
  stage: string;
  app: AppConfig;
  resources: Recorded[];
  outputs: Record<string, unknown>;
}

interface SstConfig {
  app(input: { stage: string }): AppConfig | Promise<AppConfig>;
  run(): Promise<Record<string, unknown> | undefined>;
}

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const RECORD = Symbol("recorded");

/** The record of a stand-in the config passed around (a link, a queue, ...), if it is one. */
export function recordOf(value: unknown): Recorded | undefined {
  return typeof value === "object" && value !== null
    ? (value as { [RECORD]?: Recorded })[RECORD]
    : undefined;
}

function standIns(model: Model) {
  /** Every stand-in records itself; its getters answer like SST's component would. */
  class Component {
    readonly [RECORD]: Recorded;
    constructor(kind: string, name: string, args: unknown) {
      const physicalName = `${model.app.name}-${model.stage}-${name}`.toLowerCase();
      this[RECORD] = { kind, name, args: args ?? {}, physicalName, ref: this };
      model.resources.push(this[RECORD]);
    }
    protected get physical() {
      return this[RECORD].physicalName;
    }
  }

  class Secret extends Component {
    constructor(name: string, placeholder?: string) {
      super("sst.Secret", name, { placeholder });
    }
    get name() {
      return this[RECORD].name;
    }
    get value() {
      return this[RECORD].args.placeholder ?? `<secret ${this[RECORD].name}>`;
    }
  }

  class Linkable extends Component {
    constructor(name: string, args: unknown) {
      super("sst.Linkable", name, args);
    }
  }

  class Bucket extends Component {
    constructor(name: string, args?: unknown) {
      super("sst.aws.Bucket", name, args);
    }
    get name() {
      return this.physical;
    }
    get arn() {
      return `arn:aws:s3:::${this.physical}`;
    }
    notify(args: object) {
      return new Component("sst.aws.Bucket.notify", `${this[RECORD].name}Notifications`, {
        bucket: this,
        ...args,
      });
    }
    subscribe(subscriber: unknown, args?: object) {
      return new Component("sst.aws.Bucket.subscribe", `${this[RECORD].name}Subscriber`, {
        bucket: this,
        subscriber,
        ...args,
      });
    }
  }

  class Queue extends Component {
    constructor(name: string, args?: unknown) {
      super("sst.aws.Queue", name, args);
    }
    get arn() {
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${this.physical}`;
    }
    get url() {
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${this.physical}`;
    }
    subscribe(subscriber: unknown, args?: object) {
      return new Component("sst.aws.Queue.subscribe", `${this[RECORD].name}Subscriber`, {
        queue: this,
        subscriber,
        ...args,
      });
    }
  }

  class LambdaFunction extends Component {
    constructor(name: string, args: unknown) {
      super("sst.aws.Function", name, args);
    }
    get name() {
      return this.physical;
    }
    get arn() {
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${this.physical}`;
    }
    get url() {
      if (!this[RECORD].args.url) {
        throw new Error('Function URL is not enabled. Enable it with "url: true".');
      }
      return `https://${this.physical}.lambda-url.${REGION}.on.aws/`;
    }
  }

  class Cron extends Component {
    constructor(name: string, args: unknown) {
      super("sst.aws.Cron", name, args);
    }
  }
  class CronV2 extends Component {
    constructor(name: string, args: unknown) {
      super("sst.aws.CronV2", name, args);
    }
  }

  class BucketLifecycleConfiguration extends Component {
    constructor(name: string, args: unknown) {
      super("aws.s3.BucketLifecycleConfiguration", name, args);
    }
  }

  /** A namespace that names what is missing instead of failing with "not a constructor". */
  const strict = <T extends object>(path: string, members: T): T =>
    new Proxy(members, {
      get(target, key) {
        if (typeof key === "string" && !(key in target)) {
          throw new Error(`no stand-in for ${path}.${key}: add one to test/infra/standins.ts`);
        }
        return Reflect.get(target, key);
      },
    });

  return {
    sst: strict("sst", {
      Secret,
      Linkable,
      aws: strict("sst.aws", { Bucket, Queue, Function: LambdaFunction, Cron, CronV2 }),
    }),
    aws: strict("aws", { s3: strict("aws.s3", { BucketLifecycleConfiguration }) }),
  };
}

/** `$interpolate`: outputs are plain values here, so a template is just a string. */
function interpolate(strings: TemplateStringsArray, ...values: unknown[]) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ""), "");
}

const GLOBALS = ["$config", "$app", "$interpolate", "$output", "$resolve", "$dev", "sst", "aws"];

/**
 * Load `sst.config.ts` with the stand-ins installed and evaluate it for one stage: `app()`,
 * then `run()`, recording every resource. The config module is imported once per call (a query
 * string makes it a new module), as SST loads it once per command.
 */
export async function evaluateStage(stage: string, configUrl: URL): Promise<Model> {
  const model: Model = { stage, app: { name: "", home: "" }, resources: [], outputs: {} };
  const g = globalThis as Record<string, unknown>;
  const saved = new Map(GLOBALS.map((k) => [k, g[k]]));
  try {
    g.$config = (config: SstConfig) => config;
    const url = new URL(configUrl);
    url.searchParams.set("stage", stage);
    const { default: config } = (await import(url.href)) as { default: SstConfig };
    model.app = await config.app({ stage });
    g.$app = {
      name: model.app.name,
      stage,
      removal: model.app.removal ?? "retain",
      protect: model.app.protect ?? false,
      providers: model.app.providers,
    };
    g.$interpolate = interpolate;
    g.$output = <T>(value: T) => value;
    g.$resolve = <T>(value: T) => value;
    g.$dev = false;
    const { sst, aws } = standIns(model);
    g.sst = sst;
    g.aws = aws;
    model.outputs = (await config.run()) ?? {};
    return model;
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete g[k];
      else g[k] = v;
    }
  }
}
