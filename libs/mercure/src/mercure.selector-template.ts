import { charSet, Nfa, NfaTooLargeError, type CharSet, type NfaNode } from './mercure.selector-nfa';

/**
 * RFC 6570 URI templates (levels 1-4) as topic matchers: a topic matches when some values of the
 * variables expand to exactly that topic. The template is compiled once into an NFA.
 */

/** Limits applied to one URI template. */
export const TEMPLATE_LIMITS = {
  /** Expressions (`{...}`) per template. */
  maxExpressions: 16,
  /** Variables across all expressions. */
  maxVariables: 32,
  /** Sum of the prefix lengths (`{var:N}`); each prefix character costs a few matcher states. */
  maxPrefixTotal: 1000,
  /** Matcher states. */
  maxStates: 16384,
} as const;

/** A template that cannot be parsed or is over the limits; `message` names the problem. */
export class TemplateSyntaxError extends Error {}

interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  readonly prefix: number | undefined;
}

interface Operator {
  readonly first: string;
  readonly sep: string;
  readonly named: boolean;
  readonly reserved: boolean;
}

const OPERATORS: Record<string, Operator> = {
  '': { first: '', sep: ',', named: false, reserved: false },
  '+': { first: '', sep: ',', named: false, reserved: true },
  '#': { first: '#', sep: ',', named: false, reserved: true },
  '.': { first: '.', sep: '.', named: false, reserved: false },
  '/': { first: '/', sep: '/', named: false, reserved: false },
  ';': { first: ';', sep: ';', named: true, reserved: false },
  '?': { first: '?', sep: '&', named: true, reserved: false },
  '&': { first: '&', sep: '&', named: true, reserved: false },
};
const RESERVED_OPERATORS = '=,!@|';

const ALPHA_DIGIT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789ABCDEFabcdef';
// Values: unreserved characters, or unreserved + reserved for `+` and `#`. Non-ASCII characters
// (IRIs) are accepted as they are, in both sets.
const UNRESERVED: CharSet = charSet(ALPHA_DIGIT + '-._~', true);
const RESERVED: CharSet = charSet(ALPHA_DIGIT + "-._~:/?#[]@!$&'()*+,;=", true);
const HEXDIG: CharSet = charSet(HEX);

const lit = (s: string): NfaNode => ({ k: 'lit', s });
const seq = (...xs: NfaNode[]): NfaNode => ({ k: 'seq', xs });
const alt = (...xs: NfaNode[]): NfaNode => ({ k: 'alt', xs });
const star = (x: NfaNode): NfaNode => ({ k: 'star', x });
const opt = (x: NfaNode): NfaNode => ({ k: 'opt', x });

function valueChar(reserved: boolean): NfaNode {
  return alt(
    { k: 'set', set: reserved ? RESERVED : UNRESERVED },
    seq(lit('%'), { k: 'set', set: HEXDIG }, { k: 'set', set: HEXDIG }),
  );
}

/** What one defined variable can expand to under operator `op`. */
function variable(op: Operator, v: VarSpec): NfaNode {
  const ch = valueChar(op.reserved);
  const value = star(ch);
  if (v.explode) {
    // A list (items joined by sep, `name=item` when named) or an associative array (`key=value`
    // pairs joined by sep): both are `word('='word)?` joined by sep, the name being a word.
    const elem = seq(value, opt(seq(lit('='), value)));
    return seq(elem, star(seq(lit(op.sep), elem)));
  }
  // A string (prefix modifier: at most N characters), or a list / associative array joined by ','.
  const items: NfaNode =
    v.prefix !== undefined
      ? { k: 'upto', x: ch, n: v.prefix }
      : seq(value, star(seq(lit(','), value)));
  if (!op.named) return items;
  if (op.first === ';') return seq(lit(v.name), opt(seq(lit('='), items)));
  return seq(lit(v.name), lit('='), items);
}

/** An expression: the defined variables, in order, joined by sep after the operator's prefix. */
function expression(op: Operator, vars: readonly VarSpec[]): NfaNode {
  return { k: 'subseq', first: op.first, sep: op.sep, xs: vars.map((v) => variable(op, v)) };
}

function isControl(c: number): boolean {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

function parseVarSpec(spec: string, at: number): VarSpec {
  let name = spec;
  let explode = false;
  let prefix: number | undefined;
  if (spec.endsWith('*')) {
    explode = true;
    name = spec.slice(0, -1);
  } else {
    const colon = spec.indexOf(':');
    if (colon !== -1) {
      const digits = spec.slice(colon + 1);
      if (!/^[1-9][0-9]{0,3}$/.test(digits)) {
        throw new TemplateSyntaxError(
          `prefix modifier ":${digits}" at ${at} is not a number from 1 to 9999`,
        );
      }
      prefix = Number(digits);
      name = spec.slice(0, colon);
    }
  }
  if (!/^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*$/.test(name)) {
    throw new TemplateSyntaxError(`invalid variable name "${name}" at ${at}`);
  }
  return { name, explode, prefix };
}

/** Parses `template` and returns its matcher, or undefined when it has no expression (a literal). */
export function compileTemplate(template: string): ((topic: string) => boolean) | undefined {
  const nodes: NfaNode[] = [];
  let literal = '';
  let expressions = 0;
  let variables = 0;
  let prefixTotal = 0;
  let i = 0;
  while (i < template.length) {
    const c = template.charCodeAt(i);
    if (isControl(c)) throw new TemplateSyntaxError(`control character at ${i}`);
    const ch = template[i];
    if (ch === '}') throw new TemplateSyntaxError(`unmatched "}" at ${i}`);
    if (ch !== '{') {
      literal += ch;
      i++;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end === -1) throw new TemplateSyntaxError(`unclosed expression "{" at ${i}`);
    let body = template.slice(i + 1, end);
    if (body.includes('{')) throw new TemplateSyntaxError(`nested "{" in the expression at ${i}`);
    if (body === '') throw new TemplateSyntaxError(`empty expression at ${i}`);
    if (RESERVED_OPERATORS.includes(body[0])) {
      throw new TemplateSyntaxError(`reserved operator "${body[0]}" at ${i}`);
    }
    let opKey = '';
    if (body[0] in OPERATORS && body[0] !== '') {
      opKey = body[0];
      body = body.slice(1);
    }
    const vars = body.split(',').map((spec) => parseVarSpec(spec, i));
    expressions++;
    variables += vars.length;
    prefixTotal += vars.reduce((sum, v) => sum + (v.prefix ?? 0), 0);
    if (prefixTotal > TEMPLATE_LIMITS.maxPrefixTotal) {
      throw new TemplateSyntaxError(
        `template too complex (prefix modifiers total more than ${TEMPLATE_LIMITS.maxPrefixTotal} characters)`,
      );
    }
    if (expressions > TEMPLATE_LIMITS.maxExpressions) {
      throw new TemplateSyntaxError(`more than ${TEMPLATE_LIMITS.maxExpressions} expressions`);
    }
    if (variables > TEMPLATE_LIMITS.maxVariables) {
      throw new TemplateSyntaxError(`more than ${TEMPLATE_LIMITS.maxVariables} variables`);
    }
    if (literal !== '') nodes.push(lit(literal));
    literal = '';
    nodes.push(expression(OPERATORS[opKey], vars));
    i = end + 1;
  }
  if (expressions === 0) return undefined;
  // The leading and trailing literals are plain string comparisons; the NFA runs on the middle.
  const prefix = nodes[0]?.k === 'lit' ? (nodes.shift() as { s: string }).s : '';
  const suffix = literal;
  try {
    const nfa = new Nfa(seq(...nodes), TEMPLATE_LIMITS.maxStates);
    const fixed = prefix.length + suffix.length;
    return (topic) =>
      topic.length >= fixed &&
      topic.startsWith(prefix) &&
      topic.endsWith(suffix) &&
      nfa.test(topic, prefix.length, topic.length - suffix.length);
  } catch (err) {
    if (err instanceof NfaTooLargeError)
      throw new TemplateSyntaxError(`template too complex (${err.message})`);
    throw err;
  }
}
