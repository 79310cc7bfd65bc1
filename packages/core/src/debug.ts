/**
 * A dependency-free stand-in for the `debug` package, with WebSocket-Node's buffering logger:
 * when a namespace is enabled through `DEBUG`, messages are kept in memory until
 * `printOutput()` is called.
 */

/** A debug function as WebSocket-Node's connections carry it (`connection._debug`). */
export interface DebugLogger {
  (format: string, ...args: unknown[]): void;
  /** Whether the namespace is enabled by `DEBUG`. */
  enabled: boolean;
  /** Print (and forget) the buffered messages, through `logFn` (default `console.log`). */
  printOutput(logFn?: (line: string) => void): void;
}

// DEBUG is read on every call (tests and tools change it at run time), but parsed once per value.
let cachedSetting: string | undefined;
const cachedAnswers = new Map<string, boolean>();

function namespaceEnabled(namespace: string): boolean {
  const setting = process.env.DEBUG;
  if (!setting) return false;
  if (setting !== cachedSetting) {
    cachedSetting = setting;
    cachedAnswers.clear();
  }
  let answer = cachedAnswers.get(namespace);
  if (answer === undefined) {
    answer = matchNamespace(setting, namespace);
    cachedAnswers.set(namespace, answer);
  }
  return answer;
}

function matchNamespace(setting: string, namespace: string): boolean {
  let enabled = false;
  for (const raw of setting.split(/[\s,]+/)) {
    if (!raw) continue;
    const negate = raw.startsWith('-');
    const pattern = new RegExp(`^${(negate ? raw.slice(1) : raw).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')}$`);
    if (pattern.test(namespace)) enabled = !negate;
  }
  return enabled;
}

function format(template: string, args: unknown[]): string {
  let i = 0;
  const text = template.replace(/%[sdjoO%]/g, (token) => {
    if (token === '%%') return '%';
    if (i >= args.length) return token;
    const value = args[i++];
    return token === '%s' || token === '%d' ? String(value) : JSON.stringify(value);
  });
  return args.length > i ? `${text} ${args.slice(i).map(String).join(' ')}` : text;
}

const noop = (): void => undefined;

/** The logger of every disabled namespace: does nothing, prints nothing. */
export const SILENT_LOGGER: DebugLogger = Object.assign((() => undefined) as unknown as DebugLogger, { enabled: false, printOutput: noop });

/** A logger for `namespace`; `uniqueID` prefixes every buffered line. */
export function createBufferingLogger(namespace: string, uniqueID: string | number): DebugLogger {
  // One shared logger for every disabled namespace: a connection costs no closure for it.
  if (!namespaceEnabled(namespace)) return SILENT_LOGGER;
  const lines: Array<[Date, string]> = [];
  const logger = ((template: string, ...args: unknown[]) => {
    lines.push([new Date(), format(template, args)]);
  }) as DebugLogger;
  logger.enabled = true;
  logger.printOutput = (logFn = (line: string) => console.log(line)) => {
    for (const [date, line] of lines.splice(0)) logFn(`${date.toLocaleString()} - ${uniqueID} - ${namespace} ${line}`);
  };
  return logger;
}
